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

/// Builds the tag of a field number and wire type.
pub(crate) const fn tag(field: u32, wire_type: u32) -> u32 {
    (field << 3) | wire_type
}

#[derive(Clone, Debug)]
pub struct Reader<'a> {
    /// This message's bytes: nothing outside them is ever part of a value.
    data: &'a [u8],
    /// `data` and whatever follows it in the input. Varints are decoded from a word read
    /// here when `data` ends too soon for one, and then checked against `data`'s end.
    ahead: &'a [u8],
    pos: usize,
    /// Offset of `data[0]` in the top-level input.
    base: usize,
}

impl<'a> Reader<'a> {
    #[inline(always)]
    pub(crate) fn new(data: &'a [u8], base: usize) -> Self {
        Self {
            data,
            ahead: data,
            pos: 0,
            base,
        }
    }

    /// A reader over `data`, which starts `ahead` (the rest of a buffer of frames, or of
    /// a message whose fields are re-read), at offset `base` of the input.
    #[inline(always)]
    pub(crate) fn with_ahead(data: &'a [u8], ahead: &'a [u8], base: usize) -> Self {
        debug_assert!(ahead.len() >= data.len() && ahead.as_ptr() == data.as_ptr());
        Self {
            data,
            ahead,
            pos: 0,
            base,
        }
    }

    /// This message's bytes and everything after them in the input.
    #[inline(always)]
    pub(crate) fn ahead(&self) -> &'a [u8] {
        self.ahead
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

    // Speculative reads, for the fast paths that take a message in its canonical shape
    // (`Sealed::decode_canonical`). They return `None` on anything unexpected, malformed
    // or not, and never build an error: the caller then decodes the message again on
    // the general path, which reports the exact error.

    /// Consumes the next byte when it is `tag`, a one-byte tag.
    #[inline(always)]
    pub(crate) fn eat(&mut self, tag: u32) -> bool {
        match self.data.get(self.pos) {
            Some(&b) if u32::from(b) == tag => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Reads a varint of at most `max_len` bytes.
    #[inline(always)]
    fn try_varint_max(&mut self, max_len: usize) -> Option<u64> {
        let ahead = self.ahead.get(self.pos..)?;
        let (value, n) = varint::decode_raw(ahead, max_len);
        if n == 0 || n > self.data.len() - self.pos {
            return None;
        }
        self.pos += n;
        Some(value)
    }

    /// Reads a value varint.
    #[inline(always)]
    pub(crate) fn try_varint(&mut self) -> Option<u64> {
        self.try_varint_max(varint::MAX_VARINT_LEN)
    }

    /// Reads a value varint written canonically: minimal and not zero (see
    /// [`Reader::varint_field_canonical`]).
    #[inline(always)]
    pub(crate) fn try_varint_canonical(&mut self) -> Option<u64> {
        let start = self.pos;
        let value = self.try_varint()?;
        let last = *self.data.get(self.pos.wrapping_sub(1))?;
        let minimal = varint::is_minimal(self.pos - start, last);
        minimal.then_some(value)
    }

    /// When the next field is `tag`, reads its varint value into `value`; `None` when
    /// the field is there but its value cannot be read.
    #[inline(always)]
    pub(crate) fn try_varint_field(&mut self, tag: u32, value: &mut u64) -> Option<()> {
        // With 11 bytes of this message left, the tag and the longest varint both lie
        // inside it: one length check covers the whole field.
        let window = self
            .data
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<11>());
        if let Some(window) = window {
            if u32::from(window[0]) == tag {
                let (read, n) = varint::decode_raw(&window[1..], varint::MAX_VARINT_LEN);
                if n == 0 {
                    return None;
                }
                *value = read;
                self.pos += 1 + n;
            }
            return Some(());
        }
        if self.eat(tag) {
            *value = self.try_varint()?;
        }
        Some(())
    }

    /// When the next field is `tag`, reads its string value into `value`.
    #[inline(always)]
    pub(crate) fn try_string_field(&mut self, tag: u32, value: &mut &'a str) -> Option<()> {
        if self.eat(tag) {
            *value = self.try_string()?;
        }
        Some(())
    }

    /// Reads a length prefix and returns the reader over the body it announces.
    #[inline(always)]
    pub(crate) fn try_length_delimited(&mut self) -> Option<Reader<'a>> {
        let len = self.try_varint_max(5)?;
        let body_start = self.pos;
        if len > (self.data.len() - body_start) as u64 {
            return None;
        }
        let end = body_start + len as usize;
        self.pos = end;
        Some(Reader {
            data: self.data.get(body_start..end)?,
            ahead: self.ahead.get(body_start..)?,
            pos: 0,
            base: self.base + body_start,
        })
    }

    /// Reads a length-delimited field as a UTF-8 string.
    #[inline(always)]
    pub(crate) fn try_string(&mut self) -> Option<&'a str> {
        super::utf8::to_str(self.try_length_delimited()?.data).ok()
    }

    /// Reads the rest of this message as unknown fields, which they are when none of
    /// their tags `is_known` to the message.
    #[inline(always)]
    pub(crate) fn try_rest_unknown(
        &mut self,
        is_known: impl Fn(u32) -> bool,
        depth: u32,
    ) -> Option<&'a [u8]> {
        let start = self.pos;
        if start < self.data.len() {
            self.pos = rest_unknown(self.clone(), is_known, depth)?;
        }
        self.data.get(start..)
    }

    /// [`Reader::try_rest_unknown`] for a message whose rest is usually long, as an
    /// envelope's is: simple fields are walked here, inline, and the general walk
    /// takes over at the first other one.
    #[inline(always)]
    pub(crate) fn try_rest_unknown_inline(
        &mut self,
        is_known: impl Fn(u32) -> bool + Copy,
        depth: u32,
    ) -> Option<&'a [u8]> {
        let start = self.pos;
        while let Some(&tag) = self.data.get(self.pos) {
            match skip_simple(self.data, self.pos) {
                Some((_, end)) if !is_known(u32::from(tag)) => self.pos = end,
                Some(_) => return None,
                None => {
                    self.pos = rest_unknown(self.clone(), is_known, depth)?;
                    break;
                }
            }
        }
        self.data.get(start..)
    }

    // Nothing below hands `&mut self` (or `&self`) to code that is not inlined: out of
    // line helpers take the slice and position by value and return the new position, so
    // a message's decode loop keeps its reader in registers.

    #[inline(always)]
    fn error_at(&self, kind: DecodeErrorKind, pos: usize) -> DecodeError {
        DecodeError::new(kind, self.base + pos)
    }

    #[inline(always)]
    fn varint_max(&mut self, max_len: usize) -> Result<u64, DecodeError> {
        let ahead = self.ahead.get(self.pos..).unwrap_or_default();
        if let Ok((value, n)) = varint::decode(ahead, max_len) {
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
        let ahead = self.ahead.get(body_start..).unwrap_or(data);
        Ok(Reader {
            data,
            ahead,
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

    fn fixed(&mut self, width: usize) -> Result<(), DecodeError> {
        if self.data.len() - self.pos < width {
            return Err(self.error_at(DecodeErrorKind::TruncatedField, self.pos));
        }
        self.pos += width;
        Ok(())
    }

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

/// [`Reader::try_rest_unknown`] on a copy of the reader, returning where the message ends.
#[inline(never)]
fn rest_unknown(mut r: Reader<'_>, is_known: impl Fn(u32) -> bool, depth: u32) -> Option<usize> {
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

/// Walks a run of fields already known to be well formed, yielding each field's tag and
/// its whole encoding (tag included). Used to re-read validated bytes, so it stops
/// quietly at anything malformed instead of reporting it.
#[derive(Clone, Debug)]
pub(crate) struct RawFields<'a> {
    reader: Reader<'a>,
}

impl<'a> RawFields<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            reader: Reader::new(data, 0),
        }
    }
}

impl<'a> Iterator for RawFields<'a> {
    /// (tag, whole field bytes, the body of a length-delimited field or empty)
    type Item = (u32, &'a [u8], &'a [u8]);

    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        let r = &mut self.reader;
        if !r.has_remaining() {
            return None;
        }
        let start = r.pos;
        if let Some((body, end)) = skip_simple(r.data, start) {
            r.pos = end;
            let tag = u32::from(r.data[start]);
            return Some((tag, &r.data[start..end], &r.data[body..end]));
        }
        let tag = r.tag().ok()?;
        let body = if tag & 7 == LEN {
            r.length_delimited().ok()?.data
        } else {
            r.skip(tag, start, RECURSION_LIMIT).ok()?;
            &[]
        };
        Some((tag, &r.data[start..r.pos], body))
    }
}

/// Where a run of fields sits inside a checked run of fields: the one-byte tags of the
/// length-delimited fields to descend through, outermost first. The empty path is the
/// run itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path {
    tags: [u8; 2],
    len: u8,
}

impl Path {
    /// The run itself.
    pub(crate) const HERE: Path = Path {
        tags: [0; 2],
        len: 0,
    };

    /// The bodies of the fields tagged `tag`.
    pub(crate) const fn within(tag: u8) -> Path {
        Path {
            tags: [tag, 0],
            len: 1,
        }
    }

    /// The bodies of the fields tagged `inner` inside those tagged `outer`.
    pub(crate) const fn within_both(outer: u8, inner: u8) -> Path {
        Path {
            tags: [outer, inner],
            len: 2,
        }
    }
}

/// Walks the fields found at the end of a [`Path`] through a run of checked fields, in
/// arrival order: the fields of every body the path leads to, one body after another.
/// Like [`RawFields`] it stops quietly at anything malformed.
#[derive(Clone, Debug)]
pub(crate) struct NestedFields<'a> {
    levels: [RawFields<'a>; 3],
    /// The level being walked: 0 is the run itself.
    level: usize,
    path: Path,
}

impl<'a> NestedFields<'a> {
    pub(crate) fn new(data: &'a [u8], path: Path) -> Self {
        let empty = RawFields::new(&[]);
        Self {
            levels: [RawFields::new(data), empty.clone(), empty],
            level: 0,
            path,
        }
    }
}

impl<'a> Iterator for NestedFields<'a> {
    /// As [`RawFields`] yields it.
    type Item = (u32, &'a [u8], &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.path.len == 0 {
            return self.levels[0].next();
        }
        loop {
            let Some(field) = self.levels.get_mut(self.level)?.next() else {
                if self.level == 0 {
                    return None;
                }
                self.level -= 1;
                continue;
            };
            if self.level == usize::from(self.path.len) {
                return Some(field);
            }
            let (tag, _, body) = field;
            if self.path.tags.get(self.level).map(|&t| u32::from(t)) == Some(tag) {
                self.level += 1;
                *self.levels.get_mut(self.level)? = RawFields::new(body);
            }
        }
    }
}

#[cfg(test)]
mod tests;
