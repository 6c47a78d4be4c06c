//! `tokio_util::codec` support (feature `tokio-util`): gRPC-framed Atomix messages
//! ([`GrpcCodec`]) and length-delimited headers ([`HeaderCodec`]) in and out of any
//! `AsyncRead`/`AsyncWrite`.
//!
//! `FramedRead::new(socket, HeaderCodec::<OwnedRequestHeader>::new())` yields owned
//! headers that share the receive buffer. Errors are `std::io::Error`s of kind
//! `InvalidData` (a bad frame; the [`DecodeError`] is inside) or `UnexpectedEof` (the
//! stream ended inside a frame).

use crate::envelope::{RequestEnvelope, ResponseEnvelope};
use crate::error::{DecodeError, EncodeError};
use crate::framing::{FrameDecoder, OwnedMessage};
use crate::grpc::{self, Frame, GrpcDecoder};
use crate::message::put_length_delimited;
use crate::message::request::RequestHeader;
use crate::message::response::ResponseHeader;
use crate::message::stream::StreamHeader;
use crate::owned::{OwnedRequestEnvelope, OwnedResponseEnvelope};
use crate::owned::{OwnedRequestHeader, OwnedResponseHeader, OwnedStreamHeader};
use crate::progress::Progress;
use bytes::{Bytes, BytesMut};
use core::marker::PhantomData;
use std::io;
use tokio_util::codec::{Decoder, Encoder};

/// A varint length-delimited codec that decodes one owned type `T` and encodes any
/// header or envelope, borrowed (built or rewritten in place) or owned: a client sends
/// requests and reads responses on one `Framed`.
///
/// A frame whose prefix has arrived makes the receive buffer grow by at most 64 KiB at a
/// time, however long the prefix says the frame is and whatever the frame limit.
///
/// With several `Encoder` impls, a bare `sink.flush()` cannot tell which item type is
/// meant: name it, as in `SinkExt::<RequestHeader>::flush(&mut sink)`.
///
/// ```
/// use atomix_headers::tokio_codec::HeaderCodec;
/// use atomix_headers::{Message, OwnedResponseHeader, RequestHeader, ResponseHeader};
/// use bytes::BytesMut;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// // A client's codec: reads responses, writes requests.
/// let mut codec = HeaderCodec::<OwnedResponseHeader>::new();
/// let mut out = BytesMut::new();
/// codec.encode(RequestHeader { session_id: 1, ..Default::default() }, &mut out)?;
/// assert_eq!(&out[..], [0x02, 0x10, 0x01]);
///
/// let mut received = BytesMut::new();
/// codec.encode(ResponseHeader { index: 9, ..Default::default() }, &mut received)?;
/// let response = codec.decode(&mut received)?.unwrap();
/// assert_eq!(response.message().index, 9);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct HeaderCodec<T> {
    frames: FrameDecoder,
    _header: PhantomData<fn() -> T>,
}

impl<T> Clone for HeaderCodec<T> {
    fn clone(&self) -> Self {
        Self::with_frame_decoder(self.frames)
    }
}

impl<T> Default for HeaderCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> HeaderCodec<T> {
    /// A codec with the default 64 KiB frame limit.
    pub fn new() -> Self {
        Self::with_frame_decoder(FrameDecoder::new())
    }

    /// A codec with the given frame limit.
    pub fn with_frame_decoder(frames: FrameDecoder) -> Self {
        Self {
            frames,
            _header: PhantomData,
        }
    }
}

fn invalid(e: DecodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl<T: OwnedMessage> Decoder for HeaderCodec<T> {
    type Item = T;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<T>, io::Error> {
        match self.frames.decode_owned::<T>(src).map_err(invalid)? {
            Progress::Complete(header) => Ok(Some(header)),
            Progress::Partial(_) => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<T>, io::Error> {
        match self.decode(src)? {
            Some(header) => Ok(Some(header)),
            None => match self.frames.finish(src) {
                Ok(()) => Ok(None),
                Err(e) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, e)),
            },
        }
    }
}

macro_rules! encoders {
    ($owned:ident, $borrowed:ident) => {
        impl<'a, T> Encoder<$borrowed<'a>> for HeaderCodec<T> {
            type Error = io::Error;

            fn encode(&mut self, item: $borrowed<'a>, dst: &mut BytesMut) -> Result<(), io::Error> {
                put_length_delimited(&item, dst).map_err(invalid_input)
            }
        }

        impl<T> Encoder<$owned> for HeaderCodec<T> {
            type Error = io::Error;

            fn encode(&mut self, item: $owned, dst: &mut BytesMut) -> Result<(), io::Error> {
                // An owned message is exactly what was decoded from its bytes, at the top,
                // so its unknown fields fit: this fails as a borrowed one would, or never.
                put_length_delimited(item.message(), dst).map_err(invalid_input)
            }
        }
    };
}

encoders!(OwnedRequestHeader, RequestHeader);
encoders!(OwnedResponseHeader, ResponseHeader);
encoders!(OwnedStreamHeader, StreamHeader);
encoders!(OwnedRequestEnvelope, RequestEnvelope);
encoders!(OwnedResponseEnvelope, ResponseEnvelope);

/// gRPC frames of Atomix primitive messages: decodes owned envelopes of type `T` and
/// encodes any envelope, so that one `Framed` serves a client (requests out, responses
/// in) or a server.
///
/// Encoding a borrowed envelope writes its canonical encoding; encoding an owned one
/// writes the bytes it was decoded from, unchanged (a proxy forwarding what it did not
/// change); a [`Frame`] of `Bytes` goes out as it came, compressed or not. A message that
/// cannot be read, compressed ones included, is an `InvalidData` error holding the
/// [`DecodeError`]; `FramedRead` ends the stream after any error, so a caller that wants
/// to pass compressed messages on reads with [`GrpcDecoder::split_to`] instead.
///
/// ```
/// use atomix_headers::tokio_codec::GrpcCodec;
/// use atomix_headers::{Message, OwnedResponseEnvelope, RequestEnvelope, RequestHeader};
/// use bytes::BytesMut;
/// use tokio_util::codec::{Decoder, Encoder};
///
/// let mut codec = GrpcCodec::<OwnedResponseEnvelope>::new();
/// let mut out = BytesMut::new();
/// let request = RequestEnvelope { header: Some(RequestHeader { session_id: 3, ..Default::default() }), ..Default::default() };
/// codec.encode(request, &mut out)?;
/// assert_eq!(&out[..], [0, 0, 0, 0, 4, 0x0a, 0x02, 0x10, 0x03]);
///
/// let mut received = BytesMut::from(&[0u8, 0, 0, 0, 4, 0x0a, 0x02, 0x08, 0x03][..]);
/// let response = codec.decode(&mut received)?.unwrap();
/// assert_eq!(response.message().header.unwrap().session_id, 3);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct GrpcCodec<T> {
    frames: GrpcDecoder,
    _message: PhantomData<fn() -> T>,
}

impl<T> Clone for GrpcCodec<T> {
    fn clone(&self) -> Self {
        Self::with_decoder(self.frames)
    }
}

impl<T> Default for GrpcCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> GrpcCodec<T> {
    /// A codec with the default 4 MiB message limit.
    pub fn new() -> Self {
        Self::with_decoder(GrpcDecoder::new())
    }

    /// A codec with the given message limit.
    pub fn with_decoder(frames: GrpcDecoder) -> Self {
        Self {
            frames,
            _message: PhantomData,
        }
    }
}

impl<T: OwnedMessage> Decoder for GrpcCodec<T> {
    type Item = T;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<T>, io::Error> {
        match self.frames.decode_owned::<T>(src).map_err(invalid)? {
            Progress::Complete(message) => Ok(Some(message)),
            Progress::Partial(_) => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<T>, io::Error> {
        match self.decode(src)? {
            Some(message) => Ok(Some(message)),
            None => match self.frames.finish(src) {
                Ok(()) => Ok(None),
                Err(e) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, e)),
            },
        }
    }
}

/// An item that cannot be encoded: too long for its framing, or holding unknown fields
/// that do not fit where they were put.
fn invalid_input(e: EncodeError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e)
}

impl<'a, T> Encoder<RequestEnvelope<'a>> for GrpcCodec<T> {
    type Error = io::Error;

    fn encode(&mut self, item: RequestEnvelope<'a>, dst: &mut BytesMut) -> Result<(), io::Error> {
        grpc::put(&item, dst).map_err(invalid_input)
    }
}

impl<'a, T> Encoder<ResponseEnvelope<'a>> for GrpcCodec<T> {
    type Error = io::Error;

    fn encode(&mut self, item: ResponseEnvelope<'a>, dst: &mut BytesMut) -> Result<(), io::Error> {
        grpc::put(&item, dst).map_err(invalid_input)
    }
}

impl<T> Encoder<OwnedRequestEnvelope> for GrpcCodec<T> {
    type Error = io::Error;

    fn encode(&mut self, item: OwnedRequestEnvelope, dst: &mut BytesMut) -> Result<(), io::Error> {
        grpc::put_bytes(item.bytes(), dst).map_err(invalid_input)
    }
}

impl<T> Encoder<OwnedResponseEnvelope> for GrpcCodec<T> {
    type Error = io::Error;

    fn encode(&mut self, item: OwnedResponseEnvelope, dst: &mut BytesMut) -> Result<(), io::Error> {
        grpc::put_bytes(item.bytes(), dst).map_err(invalid_input)
    }
}

impl<T> Encoder<Frame<Bytes>> for GrpcCodec<T> {
    type Error = io::Error;

    fn encode(&mut self, item: Frame<Bytes>, dst: &mut BytesMut) -> Result<(), io::Error> {
        grpc::encode_frame(&item, dst).map_err(invalid_input)
    }
}
