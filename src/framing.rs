//! Length-delimited framing: a varint length followed by that many bytes of one message,
//! the layout of Java's `writeDelimitedTo` and Go's `protodelim`.
//!
//! [`split_frame`] finds the first frame at the front of a buffer without decoding it.
//! A length above the caller's limit is an error as soon as the prefix has arrived, before
//! any body byte is buffered; a buffer that ends inside a frame is not an error but a
//! request for more bytes. [`FrameDecoder`] carries the limit and reads frames off a
//! growing `BytesMut` as owned, zero-copy headers.
//!
//! Errors come in two kinds. A bad prefix (over the limit, or not a varint) leaves the
//! stream without a way to find the next frame: nothing is consumed and the same error
//! comes back on every call, so the connection should be closed. A frame whose prefix is
//! good but whose body is not a valid header is consumed, its error returned, and the
//! next call goes on with the next frame. The offset of a body error counts from the
//! start of that frame's body for [`FrameDecoder::next`], which hands the body on as a
//! `Bytes` of its own, and from the start of the buffer for [`FrameDecoder::decode`].

use crate::error::{DecodeError, DecodeErrorKind};
use crate::message::{Message, Status};
use crate::owned::{
    OwnedRequestEnvelope, OwnedRequestHeader, OwnedResponseEnvelope, OwnedResponseHeader,
    OwnedStreamHeader,
};
use crate::wire::varint;
use bytes::{Buf, Bytes, BytesMut};
use core::ops::Range;

/// The most a partial frame makes a decoder reserve at once, however long its prefix says
/// it is: a prefix alone must never make the receive buffer large.
pub(crate) const RESERVE_STEP: usize = 64 * 1024;

/// Makes room in `buf` for the `needed` more bytes of a partial frame, a bounded step at a
/// time.
pub(crate) fn reserve_step(buf: &mut BytesMut, needed: usize) {
    buf.reserve(needed.min(RESERVE_STEP));
}

/// A sensible cap for a header frame: 64 KiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// Where a frame lies in a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message bytes. `body.end` is the frame's total length, prefix included.
    pub body: Range<usize>,
}

impl Frame {
    /// Bytes the frame takes, prefix included.
    pub fn len(&self) -> usize {
        self.body.end
    }

    /// Whether the frame is empty (never: a frame has at least its one-byte prefix).
    pub fn is_empty(&self) -> bool {
        self.body.end == 0
    }
}

/// Locates the frame at the front of `buf`.
///
/// Returns [`Status::Partial`] with the least number of further bytes that could complete
/// it, or an error when the prefix is not a varint (more than 10 bytes) or announces more
/// than `max_len` bytes.
///
/// ```
/// use atomix_headers::framing::{split_frame, Frame};
/// use atomix_headers::{DecodeErrorKind, Status};
///
/// let buf = [0x03, 0x08, 0x01, 0x10];
/// assert_eq!(split_frame(&buf, 16)?, Status::Complete(Frame { body: 1..4 }));
/// assert_eq!(split_frame(&buf[..2], 16)?, Status::Partial(2));
/// // A hostile 4 GiB prefix fails before any of its body arrives.
/// let err = split_frame(&[0x80, 0x80, 0x80, 0x80, 0x10], 16).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
pub fn split_frame(buf: &[u8], max_len: usize) -> Result<Status<Frame>, DecodeError> {
    let (len, prefix) = match varint::decode(buf, varint::MAX_VARINT_LEN) {
        Ok(decoded) => decoded,
        Err(DecodeErrorKind::TruncatedVarint) => return Ok(Status::Partial(1)),
        Err(kind) => return Err(DecodeError::new(kind, 0)),
    };
    let len = match usize::try_from(len) {
        Ok(len) if len <= max_len => len,
        _ => return Err(DecodeError::new(DecodeErrorKind::FrameTooLarge, 0)),
    };
    let available = buf.len() - prefix;
    if available < len {
        return Ok(Status::Partial(len - available));
    }
    Ok(Status::Complete(Frame {
        body: prefix..prefix + len,
    }))
}

/// A header that can be decoded from the bytes of one frame while keeping them.
pub trait OwnedMessage: Sized {
    /// Decodes `body`, one whole message, keeping it.
    fn decode_owned(body: Bytes) -> Result<Self, DecodeError>;
    /// The canonical encoded length of the header.
    fn encoded_len(&self) -> usize;
    /// Writes the header with a varint length prefix.
    fn encode_length_delimited(&self, dst: &mut BytesMut);
}

macro_rules! owned_message {
    ($owned:ident) => {
        impl OwnedMessage for $owned {
            fn decode_owned(body: Bytes) -> Result<Self, DecodeError> {
                $owned::decode(body)
            }
            fn encoded_len(&self) -> usize {
                self.header().encoded_len()
            }
            fn encode_length_delimited(&self, dst: &mut BytesMut) {
                // An owned header is exactly what was decoded from its bytes, at the top,
                // so its unknown fields fit and this cannot fail.
                let written = crate::message::put_length_delimited(self.header(), dst);
                debug_assert!(written.is_ok());
            }
        }
    };
}

owned_message!(OwnedRequestHeader);
owned_message!(OwnedResponseHeader);
owned_message!(OwnedStreamHeader);
owned_message!(OwnedRequestEnvelope);
owned_message!(OwnedResponseEnvelope);

/// Reads length-delimited frames off a receive buffer, under a frame size limit.
///
/// ```
/// use atomix_headers::framing::FrameDecoder;
/// use atomix_headers::{Message, OwnedStreamHeader, Status, StreamHeader};
/// use bytes::BytesMut;
///
/// let frames = FrameDecoder::new(); // 64 KiB limit
/// let mut received = BytesMut::new();
/// let mut wire = Vec::new();
/// StreamHeader { stream_id: 7, ..Default::default() }.encode_length_delimited(&mut wire)?;
///
/// received.extend_from_slice(&wire[..2]); // part of a frame
/// assert_eq!(frames.next::<OwnedStreamHeader>(&mut received)?, Status::Partial(1));
/// received.extend_from_slice(&wire[2..]);
/// let Status::Complete(stream) = frames.next::<OwnedStreamHeader>(&mut received)? else { panic!() };
/// assert_eq!(stream.header().stream_id, 7);
/// assert!(received.is_empty());
/// frames.finish(&received)?; // no partial frame left at EOF
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameDecoder {
    max_frame_len: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameDecoder {
    /// A decoder with the default limit, [`DEFAULT_MAX_FRAME_LEN`].
    pub const fn new() -> Self {
        Self::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A decoder that refuses frames whose body is longer than `max_frame_len` bytes.
    pub const fn with_max_frame_len(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }

    /// The limit on a frame's body length.
    pub const fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Locates the frame at the front of `buf`; see [`split_frame`].
    pub fn split(&self, buf: &[u8]) -> Result<Status<Frame>, DecodeError> {
        split_frame(buf, self.max_frame_len)
    }

    /// Decodes the borrowed header of the frame at the front of `buf`, returning it and
    /// the bytes the frame took: [`Message::decode_length_delimited`] under this
    /// decoder's limit. Error offsets count from the start of `buf`. Allocates nothing.
    #[inline]
    pub fn decode<'a, M: Message<'a>>(
        &self,
        buf: &'a [u8],
    ) -> Result<Status<(M, usize)>, DecodeError> {
        crate::message::decode_frame(buf, self.max_frame_len)
    }

    /// Splits the first complete frame off `buf` and returns its body, sharing `buf`'s
    /// memory. Nothing is consumed when the frame is incomplete or its prefix is bad.
    pub fn next_frame(&self, buf: &mut BytesMut) -> Result<Status<Bytes>, DecodeError> {
        Ok(match self.split(buf)? {
            Status::Partial(needed) => Status::Partial(needed),
            Status::Complete(frame) => {
                buf.advance(frame.body.start);
                Status::Complete(buf.split_to(frame.body.len()).freeze())
            }
        })
    }

    /// Splits the first complete frame off `buf` and decodes it into an owned header that
    /// shares `buf`'s memory. A frame with a malformed body is consumed and its error
    /// returned.
    pub fn next<T: OwnedMessage>(&self, buf: &mut BytesMut) -> Result<Status<T>, DecodeError> {
        Ok(match self.next_frame(buf)? {
            Status::Partial(needed) => Status::Partial(needed),
            Status::Complete(body) => Status::Complete(T::decode_owned(body)?),
        })
    }

    /// At the end of the stream: whatever is left in `buf` is a truncated frame.
    pub fn finish(&self, buf: &[u8]) -> Result<(), DecodeError> {
        if buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::new(DecodeErrorKind::TruncatedFrame, buf.len()))
        }
    }
}
