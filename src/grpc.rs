//! gRPC message framing: a flag byte (0 plain, 1 compressed), the message length as 4
//! big-endian bytes, then the message. Atomix primitive messages travel this way, one
//! [`crate::Envelope`] per frame.
//!
//! As with [`crate::framing`], a length over the limit is refused as soon as the 5-byte
//! prefix has arrived, before any of the message is buffered, and a buffer that ends
//! inside a frame asks for more bytes ([`Progress::Partial`]) instead of failing. The limit
//! defaults to 4 MiB, as in grpc-go and tonic.
//!
//! Errors come in two kinds:
//! - a bad prefix (a flag other than 0 or 1, or a length over the limit) consumes
//!   nothing and comes back on every call: the stream has lost its framing, close it;
//! - a good prefix over a body that cannot be read (a malformed message, or a compressed
//!   one: [`DecodeErrorKind::CompressedMessage`]) consumes the frame in
//!   [`GrpcDecoder::decode_owned`], and the next call goes on with the next frame. To pass
//!   compressed messages through unread, take frames with [`GrpcDecoder::split_to`].
//!
//! Error offsets count from the start of the buffer given.
//!
//! ```
//! use atomix_headers::grpc::{self, GrpcDecoder};
//! use atomix_headers::{Message, OwnedRequestEnvelope, RequestEnvelope, Progress};
//! use bytes::BytesMut;
//!
//! // Two counter IncrementRequests arrive in one read, the second cut short.
//! let increment = [0x0a, 0x02, 0x10, 0x07, 0x10, 0x05];
//! let mut received = BytesMut::new();
//! for _ in 0..2 {
//!     received.extend_from_slice(&[0, 0, 0, 0, 6]);
//!     received.extend_from_slice(&increment);
//! }
//! received.truncate(received.len() - 2);
//!
//! let frames = GrpcDecoder::new();
//! let Progress::Complete(first) = frames.decode_owned::<OwnedRequestEnvelope>(&mut received)? else {
//!     panic!("a whole frame is there");
//! };
//! assert_eq!(first.message().header.unwrap().session_id, 7);
//! assert_eq!(frames.decode_owned::<OwnedRequestEnvelope>(&mut received)?, Progress::Partial(2));
//!
//! // Rewriting: decode borrowed, change, write the frame back in one go.
//! let mut request = RequestEnvelope::decode(first.bytes())?;
//! request.header.as_mut().unwrap().index = 42;
//! let mut out = BytesMut::new();
//! grpc::encode(&request, &mut out)?;
//! assert_eq!(&out[..5], [0, 0, 0, 0, 8]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::framing::OwnedMessage;
use crate::message::Message;
use crate::progress::Progress;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// The largest message accepted by default: 4 MiB, as in grpc-go and tonic.
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 4 * 1024 * 1024;

/// Bytes of the prefix: the flag and the 4-byte length.
pub const PREFIX_LEN: usize = 5;

pub use crate::framing::Frame;

/// Locates the gRPC frame at the front of `buf`, whose message may be at most `max_len`
/// bytes.
///
/// ```
/// use atomix_headers::grpc::{split, Frame};
/// use atomix_headers::{DecodeErrorKind, Progress};
///
/// let buf = [0, 0, 0, 0, 2, 0x10, 0x05, 0];
/// assert_eq!(split(&buf, 16)?, Progress::Complete(Frame { compressed: false, body: 5..7 }));
/// assert_eq!(split(&buf[..3], 16)?, Progress::Partial(2));
/// // A hostile prefix fails before any of its body arrives.
/// let err = split(&[0, 0xff, 0xff, 0xff, 0xff], 16).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
/// assert_eq!(split(&[2], 16).unwrap_err().kind(), DecodeErrorKind::InvalidCompressionFlag);
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
pub fn split(buf: &[u8], max_len: usize) -> Result<Progress<Frame>, DecodeError> {
    let compressed = match buf.first() {
        None => return Ok(Progress::Partial(PREFIX_LEN)),
        Some(0) => false,
        Some(1) => true,
        Some(_) => return Err(DecodeError::new(DecodeErrorKind::InvalidCompressionFlag, 0)),
    };
    let Some(len) = buf.get(1..PREFIX_LEN) else {
        return Ok(Progress::Partial(PREFIX_LEN - buf.len()));
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    let len = match usize::try_from(len) {
        Ok(len) if len <= max_len => len,
        _ => return Err(DecodeError::new(DecodeErrorKind::FrameTooLarge, 1)),
    };
    let available = buf.len() - PREFIX_LEN;
    if available < len {
        return Ok(Progress::Partial(len - available));
    }
    Ok(Progress::Complete(Frame {
        compressed,
        body: PREFIX_LEN..PREFIX_LEN + len,
    }))
}

/// Writes `message` as one gRPC frame (uncompressed), all or nothing: when `buf` has
/// less room than the prefix and the message, nothing is written.
///
/// ```
/// use atomix_headers::{grpc, ResponseEnvelope, ResponseHeader};
///
/// let response = ResponseEnvelope { header: Some(ResponseHeader { index: 9, ..Default::default() }), ..Default::default() };
/// let mut out = Vec::new();
/// grpc::encode(&response, &mut out)?;
/// assert_eq!(out, [0, 0, 0, 0, 4, 0x0a, 0x02, 0x20, 0x09]);
/// # Ok::<(), atomix_headers::EncodeError>(())
/// ```
pub fn encode<'a, M: Message<'a>, B: BufMut>(message: &M, buf: &mut B) -> Result<(), EncodeError> {
    put_message(message, message.encoded_len(), buf)
}

/// Appends `message` as one gRPC frame to `dst`, which grows once to fit.
#[cfg(feature = "tokio-util")]
pub(crate) fn put<'a, M: Message<'a>>(message: &M, dst: &mut BytesMut) -> Result<(), EncodeError> {
    let len = message.encoded_len();
    dst.reserve(len.saturating_add(PREFIX_LEN));
    put_message(message, len, dst)
}

/// Writes the frame of `message`, whose encoded length is `len`, all or nothing.
fn put_message<'a, M: Message<'a>, B: BufMut>(
    message: &M,
    len: usize,
    buf: &mut B,
) -> Result<(), EncodeError> {
    crate::message::check_fits(message)?;
    put_prefix(0, len, buf)?;
    crate::message::put_with_len(message, len, buf);
    Ok(())
}

/// Writes a frame's prefix, after checking that `buf` has room for it and a body of `len`
/// bytes, and that gRPC's 4-byte length can carry `len`.
fn put_prefix<B: BufMut>(flag: u8, len: usize, buf: &mut B) -> Result<(), EncodeError> {
    let total = len.saturating_add(PREFIX_LEN);
    let room = buf.remaining_mut();
    match u32::try_from(len) {
        Ok(len32) if room >= total => {
            buf.put_u8(flag);
            buf.put_u32(len32);
            Ok(())
        }
        // Too long for gRPC, no destination is large enough; else this one is not.
        _ => Err(EncodeError::new(total, room)),
    }
}

/// Appends `body`, a whole message, as one uncompressed gRPC frame to `dst`, which grows
/// once to fit.
#[cfg(feature = "tokio-util")]
pub(crate) fn put_bytes(body: &[u8], dst: &mut BytesMut) -> Result<(), EncodeError> {
    dst.reserve(body.len().saturating_add(PREFIX_LEN));
    put_frame(0, body, dst)
}

/// Writes `body` behind a prefix with the flag `flag`, all or nothing.
fn put_frame<B: BufMut>(flag: u8, body: &[u8], buf: &mut B) -> Result<(), EncodeError> {
    put_prefix(flag, body.len(), buf)?;
    buf.put_slice(body);
    Ok(())
}

/// Writes `frame` as a gRPC frame, as it came: the way to pass on a compressed message.
/// All or nothing: when `buf` has less room, or the body is longer than gRPC's 4-byte
/// length can say (possible only for one built by hand), nothing is written.
///
/// ```
/// use atomix_headers::grpc::{self, Frame, GrpcDecoder};
/// use atomix_headers::Progress;
/// use bytes::BytesMut;
///
/// let mut received = BytesMut::from(&[1, 0, 0, 0, 2, 0xaa, 0xbb][..]);
/// let Progress::Complete(frame) = GrpcDecoder::new().split_to(&mut received)? else { panic!() };
/// assert!(frame.compressed);
/// let mut out = BytesMut::new();
/// grpc::encode_frame(&frame, &mut out)?;
/// assert_eq!(out[..], [1, 0, 0, 0, 2, 0xaa, 0xbb]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_frame<B: BufMut>(frame: &Frame<Bytes>, buf: &mut B) -> Result<(), EncodeError> {
    put_frame(u8::from(frame.compressed), &frame.body, buf)
}

/// Reads gRPC frames off a receive buffer, under a message size limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrpcDecoder {
    max_message_len: usize,
}

impl Default for GrpcDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl GrpcDecoder {
    /// A decoder with the default limit, [`DEFAULT_MAX_MESSAGE_LEN`].
    pub const fn new() -> Self {
        Self::with_max_message_len(DEFAULT_MAX_MESSAGE_LEN)
    }

    /// A decoder that refuses messages longer than `max_message_len` bytes.
    pub const fn with_max_message_len(max_message_len: usize) -> Self {
        Self { max_message_len }
    }

    /// The limit on a message's length.
    pub const fn max_message_len(&self) -> usize {
        self.max_message_len
    }

    /// Locates the frame at the front of `buf`; see [`split`].
    pub fn split(&self, buf: &[u8]) -> Result<Progress<Frame>, DecodeError> {
        split(buf, self.max_message_len)
    }

    /// Decodes the message of the frame at the front of `buf`, borrowing from it, and
    /// returns it with the bytes the frame took. A compressed message is the error
    /// [`DecodeErrorKind::CompressedMessage`]; [`GrpcDecoder::split`] gives its length.
    /// Allocates nothing.
    ///
    /// ```
    /// use atomix_headers::grpc::GrpcDecoder;
    /// use atomix_headers::{RequestEnvelope, Progress};
    ///
    /// let buf = [0, 0, 0, 0, 4, 0x0a, 0x02, 0x10, 0x07];
    /// let Progress::Complete((request, used)) = GrpcDecoder::new().decode::<RequestEnvelope>(&buf)? else {
    ///     panic!("complete");
    /// };
    /// assert_eq!((request.header.unwrap().session_id, used), (7, 9));
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    #[inline]
    pub fn decode<'a, M: Message<'a>>(
        &self,
        buf: &'a [u8],
    ) -> Result<Progress<(M, usize)>, DecodeError> {
        let frame = match self.split(buf)? {
            Progress::Partial(needed) => return Ok(Progress::Partial(needed)),
            Progress::Complete(frame) => frame,
        };
        if frame.compressed {
            return Err(DecodeError::new(DecodeErrorKind::CompressedMessage, 0));
        }
        let end = frame.body.end;
        let message = crate::message::decode_body(buf, PREFIX_LEN, end)?;
        Ok(Progress::Complete((message, end)))
    }

    /// Splits the first complete frame off the front of `buf`, compressed or not, without
    /// reading its message, as [`BytesMut::split_to`] splits bytes off. Nothing is
    /// consumed when the frame is incomplete or its prefix is bad; an incomplete frame
    /// makes `buf` reserve room for its missing bytes, at most 64 KiB at a time.
    pub fn split_to(&self, buf: &mut BytesMut) -> Result<Progress<Frame<Bytes>>, DecodeError> {
        match self.split(buf)? {
            Progress::Partial(needed) => {
                crate::framing::reserve_step(buf, needed);
                Ok(Progress::Partial(needed))
            }
            Progress::Complete(frame) => {
                buf.advance(PREFIX_LEN);
                let body = buf.split_to(frame.body.len()).freeze();
                Ok(Progress::Complete(Frame {
                    compressed: frame.compressed,
                    body,
                }))
            }
        }
    }

    /// Splits the first complete frame off the front of `buf` and decodes its message
    /// into an owned value that shares `buf`'s memory. A frame whose message is
    /// malformed or compressed is consumed and its error returned.
    pub fn decode_owned<T: OwnedMessage>(
        &self,
        buf: &mut BytesMut,
    ) -> Result<Progress<T>, DecodeError> {
        let message = match self.split_to(buf)? {
            Progress::Partial(needed) => return Ok(Progress::Partial(needed)),
            Progress::Complete(message) => message,
        };
        if message.compressed {
            return Err(DecodeError::new(DecodeErrorKind::CompressedMessage, 0));
        }
        let decoded = T::decode(message.body).map_err(|e| e.shifted(PREFIX_LEN))?;
        Ok(Progress::Complete(decoded))
    }

    /// At the end of the stream: whatever is left in `buf` is a truncated frame.
    pub fn finish(&self, buf: &[u8]) -> Result<(), DecodeError> {
        crate::framing::FrameDecoder::new().finish(buf)
    }
}

#[cfg(test)]
mod tests;
