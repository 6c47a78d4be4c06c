//! `tonic` support (feature `tonic`): a [`tonic::codec::Codec`] whose messages are
//! Atomix primitive messages seen as envelopes, so that a gRPC server or client built on
//! tonic reads each message's header without knowing the primitive's schema.
//!
//! Decoding splits each message off tonic's buffer as a `Bytes`, without copying, and
//! decodes its header: an [`OwnedRequestEnvelope`] or [`OwnedResponseEnvelope`]. A
//! message that is not a valid envelope is a [`tonic::Status`] with code
//! `INVALID_ARGUMENT` and the decode error's text. Encoding writes an owned envelope's
//! bytes as they are: what arrived goes on unchanged, and a rewritten message is made
//! with `OwnedRequestEnvelope::from_message`. tonic handles the gRPC framing, its
//! message size limits (4 MiB to decode by default) and compression; a compressed
//! message reaches the codec only if the server or client enables that compression.
//!
//! With the method path chosen at run time, as a proxy does:
//!
//! ```no_run
//! use atomix_headers::tonic_codec::{ClientCodec, ServerCodec};
//! use atomix_headers::OwnedRequestEnvelope;
//! # async fn f(channel: tonic::transport::Channel, request: OwnedRequestEnvelope) -> Result<(), tonic::Status> {
//! // Client side: any unary or server-streaming method.
//! let mut client = tonic::client::Grpc::new(channel);
//! client.ready().await.map_err(|e| tonic::Status::unavailable(e.to_string()))?;
//! let path = "/atomix.counter.CounterService/Increment".parse().unwrap();
//! let mut responses = client
//!     .server_streaming(tonic::Request::new(request), path, ClientCodec::default())
//!     .await?
//!     .into_inner();
//! while let Some(response) = responses.message().await? {
//!     println!("{}", response.header());
//! }
//! // Server side: `tonic::server::Grpc::new(ServerCodec::default())` then
//! // `.unary(service, http_request)` or `.server_streaming(service, http_request)`;
//! // examples/grpc_proxy.rs does both ends.
//! # Ok(()) }
//! ```

use crate::framing::OwnedMessage;
use crate::owned::{OwnedRequestEnvelope, OwnedResponseEnvelope};
use bytes::{Buf, BufMut, Bytes};
use core::marker::PhantomData;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::Status;

/// A message that goes out as the bytes it holds.
pub trait OutgoingMessage: Send + 'static {
    /// The encoded message.
    fn message_bytes(&self) -> &[u8];
}

impl OutgoingMessage for OwnedRequestEnvelope {
    fn message_bytes(&self) -> &[u8] {
        self.bytes()
    }
}

impl OutgoingMessage for OwnedResponseEnvelope {
    fn message_bytes(&self) -> &[u8] {
        self.bytes()
    }
}

impl OutgoingMessage for Bytes {
    fn message_bytes(&self) -> &[u8] {
        self
    }
}

/// A tonic codec that encodes `E` (its bytes, as they are) and decodes `D` (an owned
/// envelope, sharing tonic's buffer).
pub struct EnvelopeCodec<E, D> {
    _types: PhantomData<fn(E) -> D>,
}

/// The server's codec: requests in, responses out.
pub type ServerCodec = EnvelopeCodec<OwnedResponseEnvelope, OwnedRequestEnvelope>;

/// The client's codec: requests out, responses in.
pub type ClientCodec = EnvelopeCodec<OwnedRequestEnvelope, OwnedResponseEnvelope>;

impl<E, D> Default for EnvelopeCodec<E, D> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<E, D> Clone for EnvelopeCodec<E, D> {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl<E, D> core::fmt::Debug for EnvelopeCodec<E, D> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EnvelopeCodec")
    }
}

impl<E: OutgoingMessage, D: OwnedMessage + Send + 'static> Codec for EnvelopeCodec<E, D> {
    type Encode = E;
    type Decode = D;
    type Encoder = MessageEncoder<E>;
    type Decoder = EnvelopeDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        MessageEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        EnvelopeDecoder(PhantomData)
    }
}

/// Writes a message's bytes as they are.
#[derive(Debug)]
pub struct MessageEncoder<E>(PhantomData<fn(E)>);

impl<E: OutgoingMessage> Encoder for MessageEncoder<E> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, item: E, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.message_bytes());
        Ok(())
    }
}

/// Splits each message off tonic's buffer and decodes it as an owned envelope.
#[derive(Debug)]
pub struct EnvelopeDecoder<D>(PhantomData<fn() -> D>);

impl<D: OwnedMessage> Decoder for EnvelopeDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        let body = src.copy_to_bytes(src.remaining());
        match D::decode_owned(body) {
            Ok(message) => Ok(Some(message)),
            Err(e) => Err(Status::invalid_argument(e.to_string())),
        }
    }
}
