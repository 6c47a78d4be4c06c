//! Varint length-delimited frames: where the frame at the front of a buffer lies.

use crate::error::{DecodeError, DecodeErrorKind};
use crate::progress::Progress;
use crate::wire::varint;
use core::ops::Range;

/// A frame at the front of a buffer, in either framing (varint length-delimited, or
/// gRPC): where its message lies (`Frame`, what `split` gives), or the message's bytes
/// themselves once split off a receive buffer (`Frame<Bytes>`, what `split_to` gives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame<B = Range<usize>> {
    /// The gRPC flag byte was 1: the message is compressed. Always false for a varint
    /// frame, which has no flag.
    pub compressed: bool,
    /// The message: its place in the buffer, where `body.end` is the frame's total
    /// length, prefix included; or its bytes.
    pub body: B,
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
/// Returns [`Progress::Partial`] with the least number of further bytes that could complete
/// it, or an error when the prefix is not a varint (more than 10 bytes) or announces more
/// than `max_len` bytes.
///
/// ```
/// use atomix_headers::framing::{split, Frame};
/// use atomix_headers::{DecodeErrorKind, Progress};
///
/// let buf = [0x03, 0x08, 0x01, 0x10];
/// assert_eq!(split(&buf, 16)?, Progress::Complete(Frame { compressed: false, body: 1..4 }));
/// assert_eq!(split(&buf[..2], 16)?, Progress::Partial(2));
/// // A hostile 4 GiB prefix fails before any of its body arrives.
/// let err = split(&[0x80, 0x80, 0x80, 0x80, 0x10], 16).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::FrameTooLarge);
/// # Ok::<(), atomix_headers::DecodeError>(())
/// ```
pub fn split(buf: &[u8], max_len: usize) -> Result<Progress<Frame>, DecodeError> {
    let (len, prefix) = match varint::decode(buf, varint::MAX_VARINT_LEN) {
        Ok(decoded) => decoded,
        Err(DecodeErrorKind::TruncatedVarint) => return Ok(Progress::Partial(1)),
        Err(kind) => return Err(DecodeError::new(kind, 0)),
    };
    let len = match usize::try_from(len) {
        Ok(len) if len <= max_len => len,
        _ => return Err(DecodeError::new(DecodeErrorKind::FrameTooLarge, 0)),
    };
    let available = buf.len() - prefix;
    if available < len {
        return Ok(Progress::Partial(len - available));
    }
    Ok(Progress::Complete(Frame {
        compressed: false,
        body: prefix..prefix + len,
    }))
}
