//! Length-delimited framing: a varint length followed by that many bytes of one message,
//! the layout of Java's `writeDelimitedTo` and Go's `protodelim`.
//!
//! [`split_frame`] finds the first frame at the front of a buffer without decoding it.
//! A length above the caller's limit is an error as soon as the prefix has arrived, before
//! any body byte is buffered; a buffer that ends inside a frame is not an error but a
//! request for more bytes.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::message::Status;
use crate::wire::varint;
use core::ops::Range;

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
