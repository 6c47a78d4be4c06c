//! [`UnknownFieldsError`]: why bytes cannot be a message's unknown fields.

use crate::error::DecodeError;
use core::fmt;

/// Why bytes cannot be a message's unknown fields.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnknownFieldsError {
    /// The bytes are not a run of well-formed fields.
    Malformed(DecodeError),
    /// A field the message knows, which would be read back as that field.
    KnownField {
        /// Its field number.
        number: u32,
        /// Its wire type.
        wire_type: u8,
        /// Where its tag starts in the bytes.
        offset: usize,
    },
}

impl fmt::Display for UnknownFieldsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "not well-formed unknown fields: {e}"),
            Self::KnownField {
                number,
                wire_type,
                offset,
            } => write!(
                f,
                "field {number} (wire type {wire_type}) at byte {offset} is known to the message, not unknown"
            ),
        }
    }
}

// core::error::Error (stable since 1.81, below the crate's rust-version), so that
// no_std users get it too; std::error::Error is the same trait.
impl core::error::Error for UnknownFieldsError {}

const _: () = crate::error::is_error::<UnknownFieldsError>();
