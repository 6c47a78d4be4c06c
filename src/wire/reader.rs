//! A bounds-checked cursor over one message's bytes.
//!
//! A [`Reader`] walks the bytes of exactly one message. A nested message gets a reader of
//! its own over the sub-slice its length prefix announced, so a child can never read past
//! its parent's end. Offsets in errors are absolute: each reader knows where its slice
//! starts in the top-level input.

use super::varint;
use crate::error::{DecodeError, DecodeErrorKind};

/// Nesting allowed below a top-level message, counting embedded messages and groups.
pub(crate) const RECURSION_LIMIT: u32 = 100;

/// Wire type numbers.
pub(crate) const VARINT: u32 = 0;
pub(crate) const FIXED64: u32 = 1;
pub(crate) const LEN: u32 = 2;
pub(crate) const START_GROUP: u32 = 3;
pub(crate) const END_GROUP: u32 = 4;
pub(crate) const FIXED32: u32 = 5;

/// The exact cursor: every read is checked, and a malformed input gets its exact error
/// and offset. Nominally public for the sealed trait; not reachable from outside.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    /// This message's bytes: nothing outside them is ever part of a value.
    pub(super) data: &'a [u8],
    /// `data` and whatever follows it in the input. Varints are decoded from a word read
    /// here when `data` ends too soon for one, and then checked against `data`'s end.
    pub(super) lookahead: &'a [u8],
    pub(super) pos: usize,
    /// Offset of `data[0]` in the top-level input.
    pub(super) base: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    pub(crate) fn new(data: &'a [u8], base: usize) -> Self {
        Self {
            data,
            lookahead: data,
            pos: 0,
            base,
        }
    }

    /// A reader over `data`, which starts `lookahead` (the rest of a buffer of frames, or of
    /// a message whose fields are re-read), at offset `base` of the input.
    #[inline(always)]
    pub(crate) fn with_lookahead(data: &'a [u8], lookahead: &'a [u8], base: usize) -> Self {
        debug_assert!(lookahead.len() >= data.len() && lookahead.as_ptr() == data.as_ptr());
        Self {
            data,
            lookahead,
            pos: 0,
            base,
        }
    }

    /// This message's bytes and everything after them in the input.
    #[inline(always)]
    pub(crate) fn lookahead(&self) -> &'a [u8] {
        self.lookahead
    }

    /// Reads the varint value of known field `field` and tells whether it was written
    /// canonically: minimal and not zero. A varint is minimal when its last byte is not
    /// zero, except that a tenth byte may only hold the one bit that is not dropped.
    #[inline(always)]
    pub(crate) fn varint_field_canonical(
        &mut self,
        field: u32,
    ) -> Result<(u64, bool), DecodeError> {
        let start = self.pos;
        let value = self.varint_field(field)?;
        let last = self
            .data
            .get(self.pos.wrapping_sub(1))
            .copied()
            .unwrap_or(0);
        let minimal = varint::is_minimal(self.pos - start, last);
        Ok((value, minimal))
    }

    #[inline(always)]
    pub(crate) fn has_remaining(&self) -> bool {
        self.pos < self.data.len()
    }

    /// Position within this reader's slice.
    #[inline(always)]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    // Nothing below hands `&mut self` (or `&self`) to code that is not inlined: out of
    // line helpers take the slice and position by value and return the new position, so
    // a message's decode loop keeps its reader in registers.

    #[inline(always)]
    pub(super) fn error_at(&self, kind: DecodeErrorKind, pos: usize) -> DecodeError {
        DecodeError::new(kind, self.base + pos)
    }

    #[inline(always)]
    pub(super) fn varint_max(&mut self, max_len: usize) -> Result<u64, DecodeError> {
        let lookahead = self.lookahead.get(self.pos..).unwrap_or_default();
        if let Ok((value, n)) = varint::decode(lookahead, max_len) {
            if n <= self.data.len() - self.pos {
                self.pos += n;
                return Ok(value);
            }
        }
        // Decoded from this message's bytes alone, for the exact result or error.
        match varint_exact(self.data, self.pos, max_len) {
            Ok((value, n)) => {
                self.pos += n;
                Ok(value)
            }
            Err(kind) => Err(self.error_at(kind, self.pos)),
        }
    }

    /// Reads a value varint (at most 10 bytes).
    #[inline(always)]
    pub(crate) fn varint(&mut self) -> Result<u64, DecodeError> {
        self.varint_max(varint::MAX_VARINT_LEN)
    }

    /// Reads a tag: a varint of at most 5 bytes whose value fits in 32 bits. The field
    /// number and wire type are checked by [`Reader::skip`], the only place an
    /// unchecked tag can go.
    #[inline(always)]
    pub(crate) fn tag(&mut self) -> Result<u32, DecodeError> {
        if let Some(&b) = self.data.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u32::from(b));
            }
        }
        match tag_slow(self.data, self.pos) {
            Ok((tag, n)) => {
                self.pos += n;
                Ok(tag)
            }
            Err(kind) => Err(self.error_at(kind, self.pos)),
        }
    }

    /// Reads a length prefix and returns the sub-reader over the bytes it announces,
    /// which must lie inside this reader's slice.
    #[inline(always)]
    pub(crate) fn length_delimited(&mut self) -> Result<Reader<'a>, DecodeError> {
        let start = self.pos;
        let len = self.varint_max(5)?;
        let body_start = self.pos;
        let remaining = self.data.len() - body_start;
        if len > remaining as u64 {
            return Err(self.error_at(DecodeErrorKind::TruncatedField, start));
        }
        let end = body_start + len as usize;
        self.pos = end;
        let data = &self.data[body_start..end];
        // The body keeps the look-ahead, so that its last varints are read as words too.
        let lookahead = self.lookahead.get(body_start..).unwrap_or(data);
        Ok(Reader {
            data,
            lookahead,
            pos: 0,
            base: self.base + body_start,
        })
    }

    /// Reads a length-delimited field as a UTF-8 string.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Result<&'a str, DecodeError> {
        let body = self.length_delimited()?;
        super::utf8::to_str(body.data).map_err(|e| {
            DecodeError::new(DecodeErrorKind::InvalidUtf8, body.base + e.valid_up_to())
        })
    }

    /// Reads the varint value of known field `field`.
    #[inline(always)]
    pub(crate) fn varint_field(&mut self, field: u32) -> Result<u64, DecodeError> {
        self.varint().map_err(|e| e.in_field(field))
    }

    /// Reads the string value of known field `field`.
    #[inline(always)]
    pub(crate) fn string_field(&mut self, field: u32) -> Result<&'a str, DecodeError> {
        self.string().map_err(|e| e.in_field(field))
    }

    /// Reads the body of embedded message field `field`, one level deeper.
    #[inline(always)]
    pub(crate) fn message_field(
        &mut self,
        field: u32,
        depth: u32,
    ) -> Result<Reader<'a>, DecodeError> {
        let start = self.pos;
        let body = self.length_delimited().map_err(|e| e.in_field(field))?;
        if depth == 0 {
            return Err(self
                .error_at(DecodeErrorKind::RecursionLimitExceeded, start)
                .in_field(field));
        }
        Ok(body)
    }

    pub(super) fn fixed(&mut self, width: usize) -> Result<(), DecodeError> {
        if self.data.len() - self.pos < width {
            return Err(self.error_at(DecodeErrorKind::TruncatedField, self.pos));
        }
        self.pos += width;
        Ok(())
    }
}

#[inline(never)]
fn tag_slow(data: &[u8], pos: usize) -> Result<(u32, usize), DecodeErrorKind> {
    let (value, n) = varint_exact(data, pos, 5)?;
    let tag = u32::try_from(value).map_err(|_| DecodeErrorKind::TagOutOfRange)?;
    Ok((tag, n))
}

#[inline(never)]
fn varint_exact(data: &[u8], pos: usize, max_len: usize) -> Result<(u64, usize), DecodeErrorKind> {
    varint::decode(data.get(pos..).unwrap_or_default(), max_len)
}

#[cfg(test)]
mod tests;
