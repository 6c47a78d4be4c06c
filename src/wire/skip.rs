//! Skipping fields: checking an unknown field as the reference runtime checks it and
//! stepping over it, groups and the recursion limit included; and a quick check of the
//! simple fields (one-byte tag; varint, fixed or length-delimited) that most unknown
//! fields are.

use super::reader::{Reader, END_GROUP, FIXED32, FIXED64, LEN, START_GROUP, VARINT};
use super::varint;
use crate::error::{DecodeError, DecodeErrorKind};

impl Reader<'_> {
    /// Skips the value of a field whose tag was just read at `tag_pos`, checking it as
    /// the reference runtime checks an unknown field. `depth` is how many more levels of
    /// groups may be opened.
    #[inline(always)]
    pub(crate) fn skip(&mut self, tag: u32, tag_pos: usize, depth: u32) -> Result<(), DecodeError> {
        self.pos = skip_field(self.clone(), tag, tag_pos, depth)?;
        Ok(())
    }

    /// [`Reader::skip`] without the field number check: inside a group the reference
    /// runtime accepts field number 0.
    fn skip_value(&mut self, tag: u32, tag_pos: usize, depth: u32) -> Result<(), DecodeError> {
        let field = tag >> 3;
        let result = match tag & 7 {
            VARINT => self.varint().map(drop),
            FIXED64 => self.fixed(8),
            LEN => self.length_delimited().map(drop),
            START_GROUP => self.skip_group(field, tag_pos, depth),
            END_GROUP => Err(self.error_at(DecodeErrorKind::UnexpectedEndGroup, tag_pos)),
            FIXED32 => self.fixed(4),
            _ => Err(self.error_at(DecodeErrorKind::InvalidWireType, tag_pos)),
        };
        result.map_err(|e| e.in_field(field))
    }

    /// Skips the body of a group of field `field`, whose start tag is at `start`, and its
    /// end-group tag.
    fn skip_group(&mut self, field: u32, start: usize, depth: u32) -> Result<(), DecodeError> {
        if depth == 0 {
            return Err(self.error_at(DecodeErrorKind::RecursionLimitExceeded, start));
        }
        while self.has_remaining() {
            let tag_pos = self.pos;
            let tag = self.tag()?;
            if tag & 7 == END_GROUP {
                if tag >> 3 != field {
                    return Err(self.error_at(DecodeErrorKind::MismatchedEndGroup, tag_pos));
                }
                return Ok(());
            }
            self.skip_value(tag, tag_pos, depth - 1)?;
        }
        Err(self.error_at(DecodeErrorKind::UnterminatedGroup, start))
    }
}

/// Where a message whose rest, from `r`'s position, should be unknown fields ends: `None`
/// when one of them `is_known` or is malformed. [`Reader::rest_unknown`] on a copy
/// of the reader.
///
/// [`Reader::rest_unknown`]: super::reader::Reader::rest_unknown
#[inline(never)]
pub(super) fn rest_unknown(
    mut r: Reader<'_>,
    is_known: impl Fn(u32) -> bool,
    depth: u32,
) -> Option<usize> {
    let data = r.data;
    while let Some(&tag) = data.get(r.pos) {
        let start = r.pos;
        if let Some((_, end)) = skip_simple(data, start) {
            if is_known(u32::from(tag)) {
                return None;
            }
            r.pos = end;
            continue;
        }
        let tag = r.tag().ok()?;
        if is_known(tag) {
            return None;
        }
        r.skip(tag, start, depth).ok()?;
    }
    Some(r.pos)
}

/// Where the body of the field at `data[start..]` starts (its end, for a field that is
/// not length-delimited) and where the field ends, when it is a well-formed field with a
/// one-byte tag of a varint, fixed or length-delimited value, checked exactly as
/// [`Reader::skip`] checks it; `None` for anything else, well formed or not, which the
/// caller then reads the general way.
#[inline(always)]
pub(crate) fn skip_simple(data: &[u8], start: usize) -> Option<(usize, usize)> {
    let tag = *data.get(start)?;
    // Field number 0, wire types 3, 4, 6, 7 and multi-byte tags go the general way.
    if !(8..0x80).contains(&tag) {
        return None;
    }
    let value = start + 1;
    let mut body = None;
    let end = match u32::from(tag) & 7 {
        VARINT => {
            // At most 10 bytes; the first below 0x80 ends the varint.
            let mut end = value;
            loop {
                if *data.get(end)? < 0x80 {
                    break end + 1;
                }
                end += 1;
                if end - value == varint::MAX_VARINT_LEN {
                    return None;
                }
            }
        }
        FIXED64 => value + 8,
        FIXED32 => value + 4,
        LEN => {
            let (len, n) = match *data.get(value)? {
                short @ 0..0x80 => (u64::from(short), 1),
                _ => varint::decode(data.get(value..)?, 5).ok()?,
            };
            body = Some(value + n);
            (value + n).checked_add(usize::try_from(len).ok()?)?
        }
        _ => return None,
    };
    (end <= data.len()).then_some((body.unwrap_or(end), end))
}

/// [`Reader::skip`] on a copy of the reader, returning where the field ends.
#[inline(never)]
fn skip_field(
    mut r: Reader<'_>,
    tag: u32,
    tag_pos: usize,
    depth: u32,
) -> Result<usize, DecodeError> {
    if tag >> 3 == 0 {
        return Err(r.error_at(DecodeErrorKind::FieldNumberZero, tag_pos));
    }
    r.skip_value(tag, tag_pos, depth)?;
    Ok(r.pos)
}
