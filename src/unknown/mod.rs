//! Fields a message does not know, kept as borrowed spans of the input.
//!
//! Nothing is copied or allocated: [`UnknownFields`] remembers the span of the input that
//! holds all of a message's unknown fields and how many bytes they take. When they
//! arrived in one run it re-emits that run with one copy; when known fields came between
//! them it walks the span again and picks them out. Either way the bytes come out
//! exactly as they arrived, overlong encodings included.

use crate::schema::MessageType;
use crate::wire::fields::{NestedFields, Path};
use crate::wire::reader::{Reader, RECURSION_LIMIT};
use crate::wire::sink::Sink;
use crate::wire::skip::skip_simple;
use core::fmt;

mod error;
mod field;
mod tracker;
pub use error::UnknownFieldsError;
pub use field::UnknownField;
pub(crate) use tracker::Tracker;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// `src` is exactly the unknown fields.
    Contiguous,
    /// `src` is a run of fields; the unknown ones are the fields at the end of `path`
    /// that `kind` does not know. Fields of one message interleaved with its known
    /// ones have the empty path; those of a message field that occurred several times,
    /// and so merged, lie in the bodies of its occurrences.
    Picked { path: Path },
}

/// The unknown fields of one message, in arrival order, byte for byte.
///
/// A decoded message's `unknown_fields` borrow from the input. To build a message that
/// carries unknown fields, parse them from their encoding with
/// [`UnknownFields::from_bytes`].
///
/// ```
/// use atomix_headers::{Message, ResponseHeader, UnknownFields};
///
/// // `string message = 8` from a newer schema revision, unknown to this one.
/// let header = ResponseHeader::decode(&[0x08, 0x01, 0x42, 0x02, b'h', b'i'])?;
/// assert_eq!(header.session_id, 1);
/// assert_eq!(header.unknown_fields.encoded_len(), 4);
/// let field = header.unknown_fields.iter().next().unwrap();
/// assert_eq!((field.number(), field.wire_type()), (8, 2));
/// assert_eq!(field.as_bytes(), &[0x42, 0x02, b'h', b'i']);
///
/// let extra = UnknownFields::from_bytes::<ResponseHeader>(&[0x42, 0x02, b'h', b'i'])?;
/// assert_eq!(header.unknown_fields, extra);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy)]
pub struct UnknownFields<'a> {
    src: &'a [u8],
    len: usize,
    layout: Layout,
    /// The message whose unknown fields these are: what they were checked against.
    kind: MessageType,
    /// The recursion depth left where they were checked: they stay valid in any message
    /// with at least this much depth left.
    depth: u8,
}

impl Default for UnknownFields<'_> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<'a> UnknownFields<'a> {
    /// No unknown fields.
    pub const EMPTY: UnknownFields<'static> = UnknownFields {
        src: &[],
        len: 0,
        layout: Layout::Contiguous,
        // All zeros (`MessageType::Name` is 0), so that an empty value is cheap to write.
        kind: MessageType::Name,
        depth: 0,
    };

    /// Takes `bytes`, a sequence of encoded fields, as unknown fields of message `M`, to
    /// be re-emitted verbatim after its known fields.
    ///
    /// Refused, with the offset of the offending field: bytes that are not well-formed
    /// fields (checked as the decoder checks unknown fields), and a field `M` knows
    /// (its number with its wire type), which would be read back as that known field.
    /// Groups may nest 97 levels deep, so that the fields stay valid wherever `M` sits
    /// (a Name inside a RequestHeader inside an envelope is three levels down). Whatever
    /// is built this way and used in an `M` encodes to bytes the decoder accepts and
    /// decodes back equal.
    ///
    /// Unknown fields remember which message they were built or decoded for, and how
    /// deep. Put into another message type, or decoded at the top and put deeper,
    /// they are checked again when encoded, and encoding refuses them
    /// ([`crate::EncodeErrorKind::InvalidUnknownFields`]) if they hold a field that
    /// message knows or groups too deep for where they now sit.
    ///
    /// ```
    /// use atomix_headers::{Message, StreamHeader, UnknownFields, UnknownFieldsError};
    ///
    /// // Field 3, unknown to a StreamHeader.
    /// let extra = UnknownFields::from_bytes::<StreamHeader>(&[0x18, 0x07])?;
    /// let stream = StreamHeader { stream_id: 5, unknown_fields: extra, ..Default::default() };
    /// assert_eq!(StreamHeader::decode(&stream.encode_to_vec()?)?, stream);
    ///
    /// // Field 1 as a varint is its stream_id.
    /// let err = UnknownFields::from_bytes::<StreamHeader>(&[0x08, 0x01]).unwrap_err();
    /// assert!(matches!(err, UnknownFieldsError::KnownField { number: 1, wire_type: 0, offset: 0 }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_bytes<M: KnownFields>(bytes: &'a [u8]) -> Result<Self, UnknownFieldsError> {
        let kind = M::kind();
        let mut reader = Reader::new(bytes, 0);
        while reader.has_remaining() {
            let tag_pos = reader.pos();
            let tag = reader.tag().map_err(UnknownFieldsError::Malformed)?;
            if kind.is_known(tag) {
                return Err(UnknownFieldsError::KnownField {
                    number: tag >> 3,
                    wire_type: (tag & 7) as u8,
                    offset: tag_pos,
                });
            }
            reader
                .skip(tag, tag_pos, BUILT_DEPTH)
                .map_err(UnknownFieldsError::Malformed)?;
        }
        Ok(Self::contiguous(bytes, kind, BUILT_DEPTH))
    }

    /// Number of bytes the unknown fields take on the wire (for the number of fields,
    /// count [`UnknownFields::iter`]).
    pub fn encoded_len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The unknown fields in arrival order.
    pub fn iter(&self) -> UnknownFieldsIter<'a> {
        let (path, kind) = match self.layout {
            Layout::Contiguous => (Path::HERE, None),
            Layout::Picked { path } => (path, Some(self.kind)),
        };
        UnknownFieldsIter {
            fields: NestedFields::new(self.src, path),
            kind,
        }
    }

    /// The last field numbered `number`: the one that counts for a singular field.
    ///
    /// ```
    /// use atomix_headers::{StreamHeader, UnknownFields};
    ///
    /// let fields = UnknownFields::from_bytes::<StreamHeader>(&[0x12, 0x01, b'a', 0x18, 0x01, 0x12, 0x01, b'b'])?;
    /// assert_eq!(fields.last(2).and_then(|f| f.payload()), Some(&b"b"[..]));
    /// assert!(fields.last(4).is_none());
    /// # Ok::<(), atomix_headers::UnknownFieldsError>(())
    /// ```
    pub fn last(&self, number: u32) -> Option<UnknownField<'a>> {
        self.last_where(|tag| tag >> 3 == number)
    }

    /// The payload of the last length-delimited field numbered `number`: what the
    /// reference runtime reads for a singular `string`, `bytes` or message field of that
    /// number. Occurrences of another wire type do not count (upb keeps them as unknown
    /// fields), so `last(number)` is the wrong question for a routing key.
    ///
    /// ```
    /// use atomix_headers::{StreamHeader, UnknownFields};
    ///
    /// // field 3 as bytes "a", then field 3 as the varint 1
    /// let fields = UnknownFields::from_bytes::<StreamHeader>(&[0x1a, 0x01, b'a', 0x18, 0x01])?;
    /// assert_eq!(fields.last_bytes(3), Some(&b"a"[..]));
    /// assert_eq!(fields.last_varint(3), Some(1));
    /// # Ok::<(), atomix_headers::UnknownFieldsError>(())
    /// ```
    pub fn last_bytes(&self, number: u32) -> Option<&'a [u8]> {
        self.last_with(number, 2).and_then(|f| f.payload())
    }

    /// The value of the last varint field numbered `number`: what the reference runtime
    /// reads for a singular `uint64` field of that number (cast it for narrower types:
    /// upb keeps the low 32 bits for `uint32`). Occurrences of another wire type do not
    /// count.
    pub fn last_varint(&self, number: u32) -> Option<u64> {
        self.last_with(number, 0).and_then(|f| f.varint())
    }

    fn last_with(&self, number: u32, wire_type: u8) -> Option<UnknownField<'a>> {
        // Field numbers stop below 2^29, so a larger one matches nothing.
        let tag = number.checked_mul(8)? | u32::from(wire_type);
        self.last_where(|t| t == tag)
    }

    /// The last field whose tag `wanted` accepts.
    #[inline]
    fn last_where(&self, wanted: impl Fn(u32) -> bool) -> Option<UnknownField<'a>> {
        if self.layout == Layout::Contiguous {
            // The common case, a run of simple fields, walked without the iterator.
            let data = self.src;
            let (mut pos, mut found) = (0, None);
            while pos < data.len() {
                let Some((body, end)) = skip_simple(data, pos) else {
                    return self.iter().filter(|f| wanted(f.tag)).last();
                };
                let tag = u32::from(data[pos]);
                if wanted(tag) {
                    found = Some(UnknownField {
                        tag,
                        raw: &data[pos..end],
                        body: &data[body..end],
                    });
                }
                pos = end;
            }
            return found;
        }
        self.iter().filter(|f| wanted(f.tag)).last()
    }

    /// The fields as one contiguous slice, when they arrived in one run.
    pub fn as_contiguous(&self) -> Option<&'a [u8]> {
        (self.layout == Layout::Contiguous).then_some(self.src)
    }

    #[inline]
    pub(crate) fn write<S: Sink>(&self, sink: &mut S) {
        if self.len == 0 {
            return;
        }
        match self.layout {
            Layout::Contiguous => sink.put(self.src),
            _ => self.iter().for_each(|f| sink.put(f.raw)),
        }
    }

    /// Whether these fields can be encoded as the unknown fields of a `kind` message
    /// with `depth` levels of recursion left: none of them is a field `kind` knows, and
    /// their groups fit in that depth. True at once for the fields a `kind` message was
    /// decoded or built with, at its depth or a shallower one; anything else (fields
    /// moved to another message type, or deeper) is walked again.
    #[inline(always)]
    pub(crate) fn fit(&self, kind: MessageType, depth: u32) -> bool {
        self.len == 0
            || (self.kind == kind && u32::from(self.depth) <= depth)
            || self.fit_again(kind, depth)
    }

    #[cold]
    #[inline(never)]
    fn fit_again(&self, kind: MessageType, depth: u32) -> bool {
        self.iter().all(|field| {
            let mut reader = Reader::new(field.raw, 0);
            !kind.is_known(field.tag)
                && reader.tag().is_ok()
                && reader.skip(field.tag, 0, depth).is_ok()
        })
    }

    /// Unknown fields of a `kind` message, checked with `depth` levels of recursion left,
    /// that arrived in one run: all of `src`.
    #[inline(always)]
    pub(crate) fn contiguous(src: &'a [u8], kind: MessageType, depth: u32) -> Self {
        // Even when `src` is empty: with no branch to `EMPTY`, a decoded message's empty
        // unknown fields are written as directly as its other fields.
        Self {
            src,
            len: src.len(),
            layout: Layout::Contiguous,
            kind,
            depth: depth as u8,
        }
    }

    /// The fast paths' last step: the rest of the message at `r`, a `ty` message with
    /// `depth` levels of recursion left, read as its unknown fields; `None` when one of
    /// them is a field `ty` knows, or is malformed.
    #[inline(always)]
    pub(crate) fn rest_of(r: &mut Reader<'a>, ty: MessageType, depth: u32) -> Option<Self> {
        let rest = r.rest_unknown(|tag| ty.is_known(tag), depth)?;
        Some(Self::contiguous(rest, ty, depth))
    }

    /// Whether both are held the same way over the same bytes of the input.
    #[cfg(debug_assertions)]
    pub(crate) fn same_repr(&self, other: &Self) -> bool {
        let both_empty = self.len == 0 && other.len == 0;
        (both_empty || core::ptr::eq(self.src, other.src))
            && self.len == other.len
            && self.layout == other.layout
            && (self.len == 0 || (self.kind, self.depth) == (other.kind, other.depth))
    }

    /// The `len` bytes of fields that `kind` does not know at the end of `path` in
    /// `src`, checked with `depth` levels of recursion left.
    pub(crate) fn picked(
        src: &'a [u8],
        path: Path,
        kind: MessageType,
        depth: u32,
        len: usize,
    ) -> Self {
        if len == 0 {
            return UnknownFields::EMPTY;
        }
        Self {
            src,
            len,
            layout: Layout::Picked { path },
            kind,
            depth: depth as u8,
        }
    }
}

impl<'a> IntoIterator for &UnknownFields<'a> {
    type Item = UnknownField<'a>;
    type IntoIter = UnknownFieldsIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for UnknownFields<'_> {
    /// Equal when they hold the same bytes, however they are laid out.
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().map(|f| f.raw).eq(other.iter().map(|f| f.raw))
    }
}

impl Eq for UnknownFields<'_> {}

impl fmt::Debug for UnknownFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// How deep groups may nest in unknown fields built by [`UnknownFields::from_bytes`]:
/// the recursion limit, less the three levels a message can sit below the top.
const BUILT_DEPTH: u32 = RECURSION_LIMIT - 3;

/// A message whose unknown fields can be built with [`UnknownFields::from_bytes`]: every
/// header type and envelope. Sealed.
pub trait KnownFields: private::Known {}

pub(crate) mod private {
    /// Which fields a message knows.
    pub trait Known {
        fn kind() -> super::MessageType;
    }
}

impl<T: private::Known> KnownFields for T {}

/// Iterator over [`UnknownFields`].
#[derive(Clone, Debug)]
pub struct UnknownFieldsIter<'a> {
    fields: NestedFields<'a>,
    /// The message whose known fields are passed over, when fields are picked out.
    kind: Option<MessageType>,
}

impl<'a> Iterator for UnknownFieldsIter<'a> {
    type Item = UnknownField<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (tag, raw, body) = self.fields.next()?;
            match self.kind {
                Some(kind) if kind.is_known(tag) => {}
                _ => return Some(UnknownField { tag, raw, body }),
            }
        }
    }
}
