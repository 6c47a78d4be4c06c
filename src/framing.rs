//! Length-delimited framing: a varint length followed by that many bytes of one message,
//! the layout of Java's `writeDelimitedTo` and Go's `protodelim`.
//!
//! [`split`] finds the first frame at the front of a buffer without decoding it.
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
//! start of that frame's body for [`FrameDecoder::decode_owned`], which hands the body on as a
//! `Bytes` of its own, and from the start of the buffer for [`FrameDecoder::decode`].

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::message::Message;
use crate::progress::Progress;
use crate::wire::sink::{BufSink, Sink};
use crate::wire::size;
use bytes::{Buf, BufMut, Bytes, BytesMut};

pub use crate::owned::OwnedMessage;
pub use crate::wire::delimited::{split, Frame};

/// The most a partial frame makes a decoder reserve at once, however long its prefix says
/// it is: a prefix alone must never make the receive buffer large.
pub(crate) const RESERVE_STEP: usize = 64 * 1024;

/// Makes room in `buf` for the `needed` more bytes of a partial frame, a bounded step at a
/// time.
pub(crate) fn reserve_step(buf: &mut BytesMut, needed: usize) {
    buf.reserve(needed.min(RESERVE_STEP));
}

/// Writes `body`, a whole message already encoded, as one frame: its length as a varint,
/// then the bytes. All or nothing: when `buf` has less room than that, nothing is
/// written. The varint framing's counterpart of [`crate::grpc::encode_frame`].
///
/// ```
/// use atomix_headers::framing;
///
/// let mut out = Vec::new();
/// framing::encode_frame(&[0x08, 0x05], &mut out)?;
/// assert_eq!(out, [0x02, 0x08, 0x05]);
/// # Ok::<(), atomix_headers::EncodeError>(())
/// ```
pub fn encode_frame<B: BufMut>(body: &[u8], buf: &mut B) -> Result<(), EncodeError> {
    let total = size::delimited(body.len());
    let room = buf.remaining_mut();
    if room < total {
        return Err(EncodeError::new(total, room));
    }
    let mut sink = BufSink(buf);
    sink.put_varint(body.len() as u64);
    sink.put(body);
    Ok(())
}

/// A sensible cap for a header frame: 64 KiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 64 * 1024;

/// Reads length-delimited frames off a receive buffer, under a frame size limit.
///
/// ```
/// use atomix_headers::framing::FrameDecoder;
/// use atomix_headers::{Message, OwnedStreamHeader, Progress, StreamHeader};
/// use bytes::BytesMut;
///
/// let frames = FrameDecoder::new(); // 64 KiB limit
/// let mut received = BytesMut::new();
/// let mut wire = Vec::new();
/// StreamHeader { stream_id: 7, ..Default::default() }.encode_length_delimited(&mut wire)?;
///
/// received.extend_from_slice(&wire[..2]); // part of a frame
/// assert_eq!(frames.decode_owned::<OwnedStreamHeader>(&mut received)?, Progress::Partial(1));
/// received.extend_from_slice(&wire[2..]);
/// let Progress::Complete(stream) = frames.decode_owned::<OwnedStreamHeader>(&mut received)? else { panic!() };
/// assert_eq!(stream.message().stream_id, 7);
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

    /// Locates the frame at the front of `buf`; see [`split`].
    pub fn split(&self, buf: &[u8]) -> Result<Progress<Frame>, DecodeError> {
        split(buf, self.max_frame_len)
    }

    /// Decodes the borrowed header of the frame at the front of `buf`, returning it and
    /// the bytes the frame took: [`Message::decode_length_delimited`] under this
    /// decoder's limit. Error offsets count from the start of `buf`. Allocates nothing.
    #[inline]
    pub fn decode<'a, M: Message<'a>>(
        &self,
        buf: &'a [u8],
    ) -> Result<Progress<(M, usize)>, DecodeError> {
        crate::message::decode_frame(buf, self.max_frame_len)
    }

    /// Splits the first complete frame off the front of `buf`, without reading its
    /// message, as [`BytesMut::split_to`] splits bytes off; the body shares `buf`'s
    /// memory. Nothing is consumed when the frame is incomplete or its prefix is bad;
    /// an incomplete frame makes `buf` reserve room for its missing bytes, at most
    /// 64 KiB at a time, so that a hostile length cannot make it large.
    pub fn split_to(&self, buf: &mut BytesMut) -> Result<Progress<Frame<Bytes>>, DecodeError> {
        Ok(match self.split(buf)? {
            Progress::Partial(needed) => {
                reserve_step(buf, needed);
                Progress::Partial(needed)
            }
            Progress::Complete(frame) => {
                buf.advance(frame.body.start);
                Progress::Complete(Frame {
                    compressed: false,
                    body: buf.split_to(frame.body.len()).freeze(),
                })
            }
        })
    }

    /// Splits the first complete frame off the front of `buf` and decodes it into an
    /// owned header that shares `buf`'s memory. A frame with a malformed body is
    /// consumed and its error returned.
    pub fn decode_owned<T: OwnedMessage>(
        &self,
        buf: &mut BytesMut,
    ) -> Result<Progress<T>, DecodeError> {
        Ok(match self.split_to(buf)? {
            Progress::Partial(needed) => Progress::Partial(needed),
            Progress::Complete(frame) => Progress::Complete(T::decode(frame.body)?),
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
