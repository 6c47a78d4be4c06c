//! Errors of decoding and encoding.
//!
//! Both error types are small `Copy` values: building one never allocates, because an
//! attacker who controls the input controls how often the error path runs. A decode error
//! carries what went wrong, the byte offset in the input where it went wrong, and the
//! field number whose value was being read, when there was one.

use crate::schema::MessageType;
use core::fmt;

/// What kind of malformation a [`DecodeError`] reports.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// The input ended inside a varint (a tag, a length or a value).
    TruncatedVarint,
    /// A varint ran past its maximum size: 10 bytes for a value, 5 for a tag or a length.
    VarintTooLong,
    /// A tag's value does not fit in 32 bits.
    TagOutOfRange,
    /// A tag names field number 0.
    FieldNumberZero,
    /// A tag uses wire type 6 or 7, which do not exist.
    InvalidWireType,
    /// A fixed-width value or a length-delimited field runs past the end of the
    /// enclosing message (or of the input).
    TruncatedField,
    /// A string field is not valid UTF-8.
    InvalidUtf8,
    /// An end-group tag arrived with no group open.
    UnexpectedEndGroup,
    /// An end-group tag closes a group of a different field number.
    MismatchedEndGroup,
    /// The message ended while a group was still open.
    UnterminatedGroup,
    /// More than 100 levels of nested messages and groups.
    RecursionLimitExceeded,
    /// A length-delimited frame announces more bytes than the caller's limit allows.
    FrameTooLarge,
    /// The stream ended inside a length-delimited frame.
    TruncatedFrame,
    /// A gRPC message has its compressed flag set: its bytes cannot be read without the
    /// stream's compression. The frame itself is well formed, so it can still be passed
    /// on as it is.
    CompressedMessage,
    /// A gRPC message prefix whose flag byte is neither 0 (plain) nor 1 (compressed).
    InvalidCompressionFlag,
}

impl fmt::Display for DecodeErrorKind {
    /// What went wrong, in a few words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl DecodeErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::TruncatedVarint => "input ends inside a varint",
            Self::VarintTooLong => "varint is longer than its maximum size",
            Self::TagOutOfRange => "field tag does not fit in 32 bits",
            Self::FieldNumberZero => "field number 0 is not allowed",
            Self::InvalidWireType => "wire type 6 or 7 does not exist",
            Self::TruncatedField => "field runs past the end of its message",
            Self::InvalidUtf8 => "string field is not valid UTF-8",
            Self::UnexpectedEndGroup => "end-group tag with no open group",
            Self::MismatchedEndGroup => "end-group tag does not match the open group",
            Self::UnterminatedGroup => "message ends inside an open group",
            Self::RecursionLimitExceeded => "messages and groups are nested too deeply",
            Self::FrameTooLarge => "frame length exceeds the configured limit",
            Self::TruncatedFrame => "stream ends inside a frame",
            Self::CompressedMessage => "gRPC message is compressed and cannot be read",
            Self::InvalidCompressionFlag => "gRPC compression flag is neither 0 nor 1",
        }
    }
}

/// Why a message could not be decoded, and where: the byte offset, the message type
/// that was being decoded, and the path of fields from it to the field whose value was
/// being read.
///
/// ```
/// use atomix_headers::{DecodeErrorKind, Message, RequestEnvelope, ResponseHeader};
///
/// // Field 5 (leader) announces 3 bytes, but only one follows.
/// let err = ResponseHeader::decode(&[0x2a, 0x03, b'a']).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::TruncatedField);
/// assert_eq!(err.offset(), 1);
/// assert_eq!(err.field(), Some(5));
/// assert_eq!(
///     err.to_string(),
///     "invalid atomix.headers.ResponseHeader at byte 1 (leader): field runs past the end of its message"
/// );
///
/// // header { name { namespace: "\xff" } }: the path names the string at fault.
/// let err = RequestEnvelope::decode(b"\x0a\x05\x0a\x03\x12\x01\xff").unwrap_err();
/// assert_eq!(err.path().to_string(), "header.name.namespace");
/// assert_eq!(err.offset(), 6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
    /// Field numbers, innermost first: `path[..len]`. Each level adds its own as the
    /// error returns through it, so the path costs nothing until an error happens.
    path: [u32; MAX_PATH],
    len: u8,
    /// Levels further out than `MAX_PATH` were dropped.
    more: bool,
    /// For a repeated message field on the path: its level, counted from the innermost,
    /// and the element's position.
    index: Option<(u8, u32)>,
    /// The message type the decoding started from.
    message: Option<MessageType>,
}

/// Levels of a path kept: the deepest the schema nests (envelope, header, name or
/// stream, field) plus one level of unknown groups.
const MAX_PATH: usize = 4;

impl DecodeError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset,
            path: [0; MAX_PATH],
            len: 0,
            more: false,
            index: None,
            message: None,
        }
    }

    /// Adds the field `field` of the enclosing message to the path, as the error leaves
    /// that field.
    #[cold]
    #[inline(never)]
    pub(crate) fn in_field(mut self, field: u32) -> Self {
        match self.path.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = field;
                self.len += 1;
            }
            None => self.more = true,
        }
        self
    }

    /// Adds element `index` of the repeated field `field` to the path.
    #[cold]
    #[inline(never)]
    pub(crate) fn in_element(self, field: u32, index: usize) -> Self {
        let mut e = self.in_field(field);
        if !e.more {
            e.index = Some((e.len - 1, u32::try_from(index).unwrap_or(u32::MAX)));
        }
        e
    }

    /// Names the message type the decoding started from.
    #[cold]
    #[inline(never)]
    pub(crate) fn in_message(mut self, message: MessageType) -> Self {
        self.message = Some(message);
        self
    }

    /// The same error, `by` bytes further into a larger input.
    #[cold]
    #[inline(never)]
    pub(crate) fn shifted(mut self, by: usize) -> Self {
        self.offset = self.offset.saturating_add(by);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Byte offset in the input where the offending element starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The number of the innermost field whose value was being read, when the error is
    /// inside a field.
    pub fn field(&self) -> Option<u32> {
        (self.len > 0).then_some(self.path[0])
    }

    /// The message type that was being decoded; `None` for an error of framing, found
    /// before any message was read.
    pub fn message(&self) -> Option<MessageType> {
        self.message
    }

    /// The fields from the message decoded to the one at fault, by name where the
    /// schema knows them (`header.streams[2].stream_id`), by number inside unknown
    /// fields (`header.9.1`).
    pub fn path(&self) -> FieldPath {
        FieldPath { error: *self }
    }

    /// Whether this is an error of the framing around a message rather than of the
    /// message itself.
    fn is_framing(&self) -> bool {
        matches!(
            self.kind,
            DecodeErrorKind::FrameTooLarge
                | DecodeErrorKind::TruncatedFrame
                | DecodeErrorKind::CompressedMessage
                | DecodeErrorKind::InvalidCompressionFlag
        )
    }
}

/// The path of a [`DecodeError`], printed with `Display`: field names joined by dots,
/// with the element's position in a repeated field, empty when the error is not inside
/// a field.
#[derive(Clone, Copy, Debug)]
pub struct FieldPath {
    error: DecodeError,
}

impl FieldPath {
    /// Whether the error lies inside no field.
    pub fn is_empty(&self) -> bool {
        self.error.len == 0
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.error;
        // Names are known while the path stays inside the schema: from the message
        // decoded, through message fields, until a field it does not know.
        let mut message = if e.more { None } else { e.message };
        if e.more {
            f.write_str("…")?;
        }
        for level in (0..usize::from(e.len)).rev() {
            let number = e.path[level];
            if level + 1 < usize::from(e.len) || e.more {
                f.write_str(".")?;
            }
            match message.and_then(|m| m.field(number)) {
                Some(field) => {
                    f.write_str(field.name())?;
                    message = match field.ty() {
                        crate::schema::FieldType::Message(m) => Some(m),
                        _ => None,
                    };
                }
                None => {
                    write!(f, "{number}")?;
                    message = None;
                }
            }
            if let Some((at, index)) = e.index {
                if usize::from(at) == level {
                    write!(f, "[{index}]")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.message {
            Some(message) => write!(f, "invalid {} at byte {}", message.full_name(), self.offset)?,
            None if self.is_framing() => write!(f, "invalid frame at byte {}", self.offset)?,
            None => write!(f, "invalid message at byte {}", self.offset)?,
        }
        if !self.path().is_empty() {
            write!(f, " ({})", self.path())?;
        }
        write!(f, ": {}", self.kind)
    }
}

// core::error::Error (stable since 1.81, below the crate's rust-version), so that
// no_std users get it too; std::error::Error is the same trait.
impl core::error::Error for DecodeError {}

/// Why a message could not be encoded.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncodeErrorKind {
    /// The destination has less room than the encoding needs.
    BufferTooSmall,
    /// Unknown fields that cannot be encoded where they were put: they hold a field the
    /// message knows (they were decoded or built for another message type), or groups
    /// nested deeper than the recursion limit allows at their depth (they were decoded
    /// in a shallower place). Encoded, they would decode as something else, or not at
    /// all.
    InvalidUnknownFields,
}

/// Why a message could not be encoded. Nothing was written when this is returned.
///
/// ```
/// use atomix_headers::{EncodeErrorKind, Message, ResponseHeader};
///
/// let header = ResponseHeader { session_id: 300, ..Default::default() };
/// let mut out = [0u8; 2];
/// let err = header.encode_to_slice(&mut out).unwrap_err();
/// assert_eq!(err.kind(), EncodeErrorKind::BufferTooSmall);
/// assert_eq!((err.needed(), err.remaining()), (3, 2));
/// assert_eq!(out, [0, 0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncodeError {
    kind: EncodeErrorKind,
    needed: usize,
    remaining: usize,
}

impl EncodeError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(needed: usize, remaining: usize) -> Self {
        Self {
            kind: EncodeErrorKind::BufferTooSmall,
            needed,
            remaining,
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn invalid_unknown_fields() -> Self {
        Self {
            kind: EncodeErrorKind::InvalidUnknownFields,
            needed: 0,
            remaining: 0,
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> EncodeErrorKind {
        self.kind
    }

    /// How many bytes the encoding needs; 0 unless the kind is
    /// [`EncodeErrorKind::BufferTooSmall`].
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// How many bytes the destination had room for; 0 unless the kind is
    /// [`EncodeErrorKind::BufferTooSmall`].
    pub fn remaining(&self) -> usize {
        self.remaining
    }
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            EncodeErrorKind::BufferTooSmall => write!(
                f,
                "buffer too small to encode header: {} bytes needed, {} available",
                self.needed, self.remaining
            ),
            EncodeErrorKind::InvalidUnknownFields => f.write_str(
                "cannot encode header: unknown fields hold a field the message knows, \
                 or groups nested too deeply for where they are",
            ),
        }
    }
}

// core::error::Error (stable since 1.81, below the crate's rust-version), so that
// no_std users get it too; std::error::Error is the same trait.
impl core::error::Error for EncodeError {}

/// Checks at compile time, in every build (CI builds without std too), that an error
/// type is a `core::error::Error`.
pub(crate) const fn is_error<T: core::error::Error>() {}

const _: () = {
    is_error::<DecodeError>();
    is_error::<EncodeError>();
};
