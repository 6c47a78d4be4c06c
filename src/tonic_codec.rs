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
//! A complete server and client, talking on 127.0.0.1. What tonic needs of a server
//! that is not generated from a `.proto`:
//! - `NamedService` names the service that tonic's router sends to it.
//! - `Service<http::Request<tonic::body::Body>>` takes each HTTP request. Its future must
//!   be `Send`, and its error `Infallible`.
//! - `tonic::server::Grpc::new(ServerCodec::default())` runs one call with this codec:
//!   `.unary(...)` for one response, `.server_streaming(...)` for a stream.
//! - `Status::into_http` answers a path that has no handler.
//!
//! A server for every service at once, as a proxy is, replaces `add_service` with a
//! fallback service on tonic's `Routes`. testkit/src/grpc_proxy.rs shows this.
//!
//! ```
//! use atomix_headers::tonic_codec::{ClientCodec, ServerCodec};
//! use atomix_headers::{OwnedRequestEnvelope, OwnedResponseEnvelope, ResponseEnvelope, ResponseHeader};
//! use std::convert::Infallible;
//! use std::future::Future;
//! use std::pin::Pin;
//! use std::task::{Context, Poll};
//! use tonic::codegen::{http, Service};
//! use tonic::server::{NamedService, UnaryService};
//!
//! type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
//!
//! /// The server: the counter service, whatever the counter's schema.
//! #[derive(Clone)]
//! struct Counter;
//!
//! impl NamedService for Counter {
//!     const NAME: &'static str = "atomix.counter.CounterService";
//! }
//!
//! impl Service<http::Request<tonic::body::Body>> for Counter {
//!     type Response = http::Response<tonic::body::Body>;
//!     type Error = Infallible;
//!     type Future = BoxFuture<Result<Self::Response, Infallible>>;
//!
//!     fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
//!         Poll::Ready(Ok(()))
//!     }
//!
//!     fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
//!         Box::pin(async move {
//!             if request.uri().path() != "/atomix.counter.CounterService/Increment" {
//!                 return Ok(tonic::Status::unimplemented("only Increment here").into_http());
//!             }
//!             let mut grpc = tonic::server::Grpc::new(ServerCodec::default());
//!             Ok(grpc.unary(Increment, request).await)
//!         })
//!     }
//! }
//!
//! /// One method: reads the request's header, answers with a header of its own.
//! struct Increment;
//!
//! impl UnaryService<OwnedRequestEnvelope> for Increment {
//!     type Response = OwnedResponseEnvelope;
//!     type Future = BoxFuture<Result<tonic::Response<OwnedResponseEnvelope>, tonic::Status>>;
//!
//!     fn call(&mut self, request: tonic::Request<OwnedRequestEnvelope>) -> Self::Future {
//!         let session_id = request.get_ref().message().header.map_or(0, |h| h.session_id);
//!         Box::pin(async move {
//!             let header = ResponseHeader { session_id, index: 1, ..Default::default() };
//!             let response = ResponseEnvelope { header: Some(header), ..Default::default() };
//!             let response = OwnedResponseEnvelope::from_message(&response)
//!                 .map_err(|e| tonic::Status::internal(e.to_string()))?;
//!             Ok(tonic::Response::new(response))
//!         })
//!     }
//! }
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let incoming = tonic::transport::server::TcpIncoming::from(listener);
//!     let server = tonic::transport::Server::builder().add_service(Counter);
//!     tokio::spawn(server.serve_with_incoming(incoming));
//!
//!     // The client: any method, its path chosen at run time.
//!     let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
//!         .connect()
//!         .await?;
//!     let mut client = tonic::client::Grpc::new(channel);
//!     client.ready().await?;
//!     // counter.IncrementRequest { header { session_id: 7 } delta: 1 }
//!     let request = OwnedRequestEnvelope::decode(bytes::Bytes::from_static(b"\x0a\x02\x10\x07\x10\x01"))?;
//!     let path = "/atomix.counter.CounterService/Increment".parse()?;
//!     let response = client
//!         .unary(tonic::Request::new(request), path, ClientCodec::default())
//!         .await?;
//!     let header = response.get_ref().message().header.unwrap();
//!     assert_eq!((header.session_id, header.index), (7, 1));
//!
//!     // Another method of the service: the server's own status comes back.
//!     client.ready().await?;
//!     let request = OwnedRequestEnvelope::decode(bytes::Bytes::from_static(b"\x0a\x00"))?;
//!     let path = "/atomix.counter.CounterService/Get".parse()?;
//!     let status = client
//!         .unary(tonic::Request::new(request), path, ClientCodec::default())
//!         .await
//!         .unwrap_err();
//!     assert_eq!(status.code(), tonic::Code::Unimplemented);
//!     Ok(())
//! }
//! ```
//!
//! For a server-streaming method, the client calls `server_streaming` with the same
//! arguments and reads the responses with `.into_inner().message().await`.

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
        match D::decode(body) {
            Ok(message) => Ok(Some(message)),
            Err(e) => Err(Status::invalid_argument(e.to_string())),
        }
    }
}
