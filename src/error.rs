//! Errors of decoding and encoding.
//!
//! Both error types are small `Copy` values: building one never allocates, because an
//! attacker who controls the input controls how often the error path runs. A decode error
//! carries what went wrong, the byte offset in the input where it went wrong, and the
//! field number whose value was being read, when there was one.

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

/// Why a message could not be decoded, and where.
///
/// ```
/// use atomix_headers::{DecodeErrorKind, Message, ResponseHeader};
///
/// // Field 5 (leader) announces 3 bytes, but only one follows.
/// let err = ResponseHeader::decode(&[0x2a, 0x03, b'a']).unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::TruncatedField);
/// assert_eq!(err.offset(), 1);
/// assert_eq!(err.field(), Some(5));
/// assert_eq!(
///     err.to_string(),
///     "invalid header at byte 1 (field 5): field runs past the end of its message"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
    field: Option<u32>,
}

impl DecodeError {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        Self {
            kind,
            offset,
            field: None,
        }
    }

    /// Attaches a field number, unless a deeper one is already attached.
    #[cold]
    #[inline(never)]
    pub(crate) fn in_field(mut self, field: u32) -> Self {
        if self.field.is_none() {
            self.field = Some(field);
        }
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

    /// The field number whose value was being read, when the error is inside a field.
    pub fn field(&self) -> Option<u32> {
        self.field
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid header at byte {}", self.offset)?;
        if let Some(field) = self.field {
            write!(f, " (field {field})")?;
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

// Every error type is a `core::error::Error` in every build, no_std included (CI builds
// without std, so this fails there if an impl goes missing).
const _: () = {
    const fn is_error<T: core::error::Error>() {}
    is_error::<DecodeError>();
    is_error::<EncodeError>();
    is_error::<crate::unknown::UnknownFieldsError>();
    is_error::<crate::partition::RouteError>();
};
