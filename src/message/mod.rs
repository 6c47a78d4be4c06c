//! The [`Message`] trait: decoding, encoding and length-delimited helpers shared by every
//! header type.

#[cfg(doc)]
use crate::error::EncodeErrorKind;
use crate::error::{DecodeError, EncodeError};
use crate::progress::Progress;
use crate::wire::reader::{Reader, RECURSION_LIMIT};
use crate::wire::sink::{put_in_chunk, BufSink, Sink};
use crate::wire::size;
use bytes::BufMut;

mod declared;
pub(crate) mod streams;

use declared::message_types;
crate::schema::declaration!(message_types);

pub use name::Name;
pub use stream::StreamHeader;
pub use streams::Streams;
pub(crate) use streams::StreamsTracker;

/// The occurrences of a singular message field in one occurrence of its parent, while
/// the parent is decoded: where the first starts and the last ends, how many there
/// are, and how many bytes of unknown fields they hold between them.
#[derive(Clone, Copy, Default)]
pub(crate) struct Occurrences {
    count: usize,
    start: usize,
    end: usize,
    pub(crate) unknown: usize,
}

impl Occurrences {
    /// Records an occurrence spanning `start..end` of the parent, with `unknown` bytes
    /// of unknown fields.
    #[inline(always)]
    pub(crate) fn add(&mut self, start: usize, end: usize, unknown: usize) {
        if self.count == 0 {
            self.start = start;
        }
        self.count += 1;
        self.end = end;
        self.unknown += unknown;
    }

    /// Whether the field occurred more than once, and so merged: its unknown fields
    /// then lie in several places.
    #[inline(always)]
    pub(crate) fn merged(&self) -> bool {
        self.count > 1
    }

    /// The run of the parent's bytes `data` from the first occurrence to the last,
    /// when the field merged.
    #[inline(always)]
    pub(crate) fn span<'a>(&self, data: &'a [u8]) -> Option<&'a [u8]> {
        if self.merged() {
            data.get(self.start..self.end)
        } else {
            None
        }
    }
}

pub(crate) mod sealed {
    use crate::error::DecodeError;
    use crate::wire::reader::Reader;
    use crate::wire::sink::Sink;

    /// The per-message parts of [`super::Message`], out of users' reach.
    pub trait Sealed<'a>: Sized + core::fmt::Debug + crate::unknown::private::Known {
        /// The fast path: the message in its canonical shape, or `None` (no error built)
        /// on anything else, malformed or not. It may decline anything; it must never
        /// decode differently from [`Sealed::decode_any`].
        fn decode_fast(reader: Reader<'a>, depth: u32) -> Option<Self>;

        /// Any message the reference runtime accepts, in any field order, with the exact
        /// error for any it rejects.
        fn decode_any(reader: Reader<'a>, depth: u32) -> Result<Self, DecodeError>;

        /// Decodes with the fast path and falls back on the general one when it
        /// declines. In debug builds (tests, fuzzing) every message the fast path
        /// decodes is decoded again by the general path, and the two must agree exactly.
        ///
        /// Inlined into the caller, with the fast path, so that a message the fast path
        /// decodes stays in registers on its way out. Returned from a call, it would be
        /// written field by field and read back 16 bytes at a time, and each such read
        /// must wait for those writes to reach the cache.
        #[inline(always)]
        fn decode_at_depth(reader: Reader<'a>, depth: u32) -> Result<Self, DecodeError> {
            match Self::decode_fast(reader.clone(), depth) {
                Some(message) => {
                    #[cfg(debug_assertions)]
                    match Self::decode_any(reader, depth) {
                        Ok(other) if message.same_repr(&other) => {}
                        other => {
                            panic!("the fast path decoded {message:?}, the general path {other:?}")
                        }
                    }
                    Ok(message)
                }
                // The message type goes on the error here, on the general path,
                // which every error takes: the fast path stays as it was. An
                // enclosing message's own call names itself over it.
                None => Self::decode_any(reader, depth).map_err(|e| e.in_message(Self::kind())),
            }
        }

        /// Whether every unknown field in the message, nested ones included, can be
        /// encoded where it sits when the message has `depth` levels of recursion left
        /// (see `UnknownFields::fit`): what every encoding checks first.
        fn fits(&self, depth: u32) -> bool;
        fn write<S: Sink>(&self, sink: &mut S);
        /// At least [`super::Message::encoded_len`], and cheaper to work out: every
        /// varint counted at its largest.
        fn max_encoded_len(&self) -> usize;
        /// Equal, and holding strings, unknown fields and streams in the same places of
        /// the input: what the fast and the general decoding paths must agree on.
        #[cfg(debug_assertions)]
        fn same_repr(&self, other: &Self) -> bool;
    }

    /// A header that can be merged from several occurrences of a message field, as the
    /// header of an [`crate::Envelope`].
    pub trait Merge<'a>: super::Message<'a> {
        /// The envelope that carries this header.
        const ENVELOPE: crate::schema::MessageType;
        /// The decoding state across occurrences.
        type Merger: Default;
        /// Merges one occurrence's body into `merger`.
        fn merge(
            merger: &mut Self::Merger,
            body: Reader<'a>,
            depth: u32,
        ) -> Result<(), DecodeError>;
        /// The merged header. The occurrences are the fields tagged `outer` in `span`, a
        /// run of the enclosing message's fields.
        fn finish_merged(merger: Self::Merger, span: &'a [u8], outer: u8) -> Self;
    }
}

/// A header message: decoding from borrowed bytes, exact sizing, and encoding.
///
/// ```
/// use atomix_headers::{Message, Name, RequestHeader, StreamHeader};
///
/// let streams = [
///     StreamHeader { stream_id: 1, response_id: 10, ..Default::default() },
///     StreamHeader { stream_id: 2, ..Default::default() },
/// ];
/// let request = RequestHeader {
///     name: Some(Name { name: "my-map", namespace: "default", ..Default::default() }),
///     session_id: 7,
///     streams: streams[..].into(),
///     ..Default::default()
/// };
/// let mut buf = Vec::new();
/// request.encode(&mut buf)?;
/// assert_eq!(buf.len(), request.encoded_len());
///
/// let decoded = RequestHeader::decode(&buf)?;
/// assert_eq!(decoded, request);
/// assert_eq!(decoded.streams.iter().map(|s| s.stream_id).collect::<Vec<_>>(), [1, 2]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Message<'a>: sealed::Sealed<'a> {
    /// Decodes one message that fills `buf` exactly. Strings borrow from `buf`; nothing
    /// is allocated.
    #[inline]
    fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_at_depth(Reader::new(buf, 0), RECURSION_LIMIT)
    }

    /// The exact number of bytes [`Message::encode`] writes.
    fn encoded_len(&self) -> usize;

    /// Writes the canonical encoding into `buf`. When `buf` has less room than
    /// [`Message::encoded_len`], returns an error and writes nothing.
    ///
    /// Every encoding method refuses, writing nothing, a message whose unknown fields
    /// cannot be encoded where they were put ([`EncodeErrorKind::InvalidUnknownFields`]):
    /// so whatever encodes decodes back equal.
    ///
    /// The bytes go into `buf`'s spare capacity ([`BufMut::chunk_mut`]) when one chunk
    /// of it is large enough. Like any `chunk_mut` call, this makes a `Vec` or
    /// `BytesMut` with no spare capacity at all grow by 64 bytes, even for a message
    /// that encodes to nothing; reserve first to keep allocation in your hands.
    // Inlined: only the bound check is here, and out of line it costs a second call.
    #[inline(always)]
    fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        debug_assert!(self.max_encoded_len() >= self.encoded_len());
        check_fits(self)?;
        let room = buf.remaining_mut();
        // A `Vec` or a large enough buffer passes the cheap upper bound, and the exact
        // length (a varint size per field) is never needed.
        let mut bound = self.max_encoded_len();
        if room < bound {
            bound = self.encoded_len();
            if room < bound {
                return Err(EncodeError::new(bound, room));
            }
        }
        put_encoding(self, None, bound, buf);
        Ok(())
    }

    /// Writes the canonical encoding at the start of `out` and returns its length. When
    /// `out` is too short, returns an error and writes nothing.
    fn encode_to_slice(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        check_fits(self)?;
        let len = self.encoded_len();
        let Some(mut dest) = out.get_mut(..len) else {
            return Err(EncodeError::new(len, out.len()));
        };
        put_encoding(self, None, len, &mut dest);
        debug_assert!(dest.is_empty());
        Ok(len)
    }

    /// Writes a varint length prefix followed by the encoding, all or nothing.
    fn encode_length_delimited<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        check_fits(self)?;
        let len = self.encoded_len();
        let total = size::delimited(len);
        let room = buf.remaining_mut();
        if room < total {
            return Err(EncodeError::new(total, room));
        }
        put_encoding(self, Some(len), total, buf);
        Ok(())
    }

    /// Decodes one length-prefixed message from the front of `buf`.
    ///
    /// Returns the message and the number of bytes it used (prefix included), or
    /// [`Progress::Partial`] with the least number of further bytes that could complete the
    /// frame. A malformed prefix or body is an error. To cap the length a peer may
    /// announce, see [`crate::framing`].
    ///
    /// ```
    /// use atomix_headers::{Message, Progress, StreamHeader};
    ///
    /// let buf = [0x02, 0x08, 0x05, 0xff];
    /// let Progress::Complete((stream, used)) = StreamHeader::decode_length_delimited(&buf)? else {
    ///     panic!("complete");
    /// };
    /// assert_eq!((stream.stream_id, used), (5, 3));
    /// assert_eq!(StreamHeader::decode_length_delimited(&buf[..2])?, Progress::Partial(1));
    /// # Ok::<(), atomix_headers::DecodeError>(())
    /// ```
    #[inline]
    fn decode_length_delimited(buf: &'a [u8]) -> Result<Progress<(Self, usize)>, DecodeError> {
        decode_frame(buf, usize::MAX)
    }

    /// The canonical encoding in a new vector. Fails only on unknown fields that cannot
    /// be encoded where they were put.
    #[cfg(feature = "std")]
    fn encode_to_vec(&self) -> Result<std::vec::Vec<u8>, EncodeError> {
        check_fits(self)?;
        let len = self.encoded_len();
        let mut out = std::vec::Vec::with_capacity(len);
        // An empty vector has no spare capacity, which `put_encoding` would grow.
        if len > 0 {
            put_encoding(self, None, len, &mut out);
        }
        Ok(out)
    }
}

/// Decodes the frame at the front of `buf`, whose body may be at most `max_len` bytes.
/// Error offsets count from the start of `buf`.
#[inline]
pub(crate) fn decode_frame<'a, M: Message<'a>>(
    buf: &'a [u8],
    max_len: usize,
) -> Result<Progress<(M, usize)>, DecodeError> {
    // A header frame is usually shorter than 128 bytes: a one-byte prefix, read here.
    // Anything else (longer, over the limit, incomplete, malformed) goes through
    // `delimited::split`, which has the last word.
    let body = match buf.split_first() {
        Some((&len, rest)) if len < 0x80 && usize::from(len) <= max_len => rest
            .get(..usize::from(len))
            .map(|_| 1..1 + usize::from(len)),
        _ => None,
    };
    let body = match body {
        Some(body) => body,
        None => match crate::wire::delimited::split(buf, max_len)? {
            Progress::Partial(needed) => return Ok(Progress::Partial(needed)),
            Progress::Complete(frame) => frame.body,
        },
    };
    let end = body.end;
    let message = decode_body(buf, body.start, end)?;
    Ok(Progress::Complete((message, end)))
}

/// Decodes the message that fills `buf[start..end]`, the body of the frame at the front of
/// `buf`, which the caller's split has found to lie within `buf`; error offsets count
/// from the start of `buf`. Inlined, so that the message is built where the caller takes
/// it rather than moved out of a call; the frames after this one serve as look-ahead for
/// the varints at its end.
#[inline(always)]
pub(crate) fn decode_body<'a, M: Message<'a>>(
    buf: &'a [u8],
    start: usize,
    end: usize,
) -> Result<M, DecodeError> {
    let lookahead = buf.get(start..).unwrap_or_default();
    let reader = Reader::with_lookahead(&lookahead[..end - start], lookahead, start);
    M::decode_at_depth(reader, RECURSION_LIMIT)
}

/// Fails when the message's unknown fields cannot be encoded where they are: the check
/// every encoding makes before it writes anything.
#[inline(always)]
pub(crate) fn check_fits<'a, M: Message<'a>>(message: &M) -> Result<(), EncodeError> {
    if message.fits(RECURSION_LIMIT) {
        Ok(())
    } else {
        Err(EncodeError::invalid_unknown_fields())
    }
}

/// Appends the length-prefixed encoding to `dst`, which grows once to fit: a `BytesMut`
/// always has room, so this fails only as [`check_fits`] does.
#[cfg(feature = "tokio-util")]
pub(crate) fn put_length_delimited<'a, M: Message<'a>>(
    message: &M,
    dst: &mut bytes::BytesMut,
) -> Result<(), EncodeError> {
    check_fits(message)?;
    let len = message.encoded_len();
    let total = size::delimited(len);
    dst.reserve(total);
    put_encoding(message, Some(len), total, dst);
    Ok(())
}

/// Writes `message`, whose encoded length the caller has worked out as `len`, into a
/// destination the caller has checked has room for it and after [`check_fits`]: for
/// framings that need the length first, so that it is not worked out twice.
#[inline]
pub(crate) fn put_with_len<'a, M: Message<'a>, B: BufMut>(message: &M, len: usize, buf: &mut B) {
    put_encoding(message, None, len, buf);
}

/// Writes a message, after `prefix` (its length) as a varint when there is one, into a
/// destination with room for `bound` bytes, which the caller has checked: the exact
/// length when it knows it, else [`Sealed::max_encoded_len`]. Bytes go straight to
/// `buf`, never staged on the stack and copied over, which would move every byte twice:
/// into its spare capacity when one chunk of it holds `bound` bytes, else through
/// `put_u8` and `put_slice` (see [`crate::wire::sink`]).
///
/// [`Sealed::max_encoded_len`]: sealed::Sealed::max_encoded_len
#[inline]
fn put_encoding<'a, M: Message<'a>, B: BufMut>(
    message: &M,
    prefix: Option<usize>,
    bound: usize,
    buf: &mut B,
) {
    let in_chunk = put_in_chunk(buf, bound, |sink| write_prefixed(message, prefix, sink));
    if !in_chunk {
        write_prefixed(message, prefix, &mut BufSink(buf));
    }
}

/// The message into `sink`, after `prefix` as a varint when there is one.
#[inline(always)]
fn write_prefixed<'a, M: Message<'a>, S: Sink>(message: &M, prefix: Option<usize>, sink: &mut S) {
    if let Some(len) = prefix {
        sink.put_varint(len as u64);
    }
    message.write(sink);
}

#[cfg(test)]
mod tests;
