//! The fast paths' reads, on the one cursor, [`Reader`], beside its checked reads. A
//! message's fast path (`Sealed::decode_fast`) reads the canonical shape, expecting each
//! field in turn; every read here gives `None` on anything unexpected, malformed or not,
//! and never builds an error. The caller then decodes the message again with the
//! checked reads, which report the exact error. The speculative reads that share a
//! checked read's purpose carry a `try_` prefix.

use super::reader::Reader;
use super::skip::{rest_unknown, skip_simple};
use super::varint;

impl<'a> Reader<'a> {
    /// Consumes the next byte when it is `tag`, a one-byte tag: whether the field
    /// expected next is there.
    #[inline(always)]
    pub(crate) fn next_is(&mut self, tag: u32) -> bool {
        match self.data.get(self.pos) {
            Some(&b) if u32::from(b) == tag => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Reads a varint of at most `max_len` bytes; with `SPREAD`, as ids spread over every
    /// length are best read ([`varint::decode_raw_spread`], given `WINDOW`).
    #[inline(always)]
    fn try_varint_max<const SPREAD: bool, const WINDOW: bool>(
        &mut self,
        max_len: usize,
    ) -> Option<u64> {
        let r = &mut *self;
        let lookahead = r.lookahead.get(r.pos..)?;
        let (value, n) = if SPREAD {
            varint::decode_raw_spread::<WINDOW>(lookahead, max_len)
        } else {
            varint::decode_raw(lookahead, max_len)
        };
        if n == 0 || n > r.data.len() - r.pos {
            return None;
        }
        r.pos += n;
        Some(value)
    }

    /// Reads a value varint.
    #[inline(always)]
    pub(crate) fn try_varint(&mut self) -> Option<u64> {
        self.try_varint_max::<false, false>(varint::MAX_VARINT_LEN)
    }

    /// The varint value of the next field when it is `tag`, else 0 (the field is
    /// absent); `None` when the field is there but its value cannot be read. The value is
    /// read the way ids spread over every length, as streams' are, read fastest
    /// ([`varint::decode_raw_spread`]); `WINDOW` when [`Reader::window_past_end`].
    #[inline(always)]
    pub(crate) fn varint_spread_if<const WINDOW: bool>(&mut self, tag: u32) -> Option<u64> {
        if self.next_is(tag) {
            self.try_varint_max::<true, WINDOW>(varint::MAX_VARINT_LEN)
        } else {
            Some(0)
        }
    }

    /// Whether ten bytes are readable past the end of this message, so that every varint
    /// inside it can be read from a ten-byte window: true of a frame followed by others,
    /// false of a message decoded on its own.
    #[inline(always)]
    pub(crate) fn window_past_end(&self) -> bool {
        self.lookahead.len() >= self.data.len() + varint::MAX_VARINT_LEN
    }

    /// Reads a value varint written canonically: minimal and not zero (see
    /// [`Reader::varint_field_canonical`]).
    #[inline(always)]
    pub(crate) fn varint_canonical(&mut self) -> Option<u64> {
        let start = self.pos;
        let value = self.try_varint()?;
        let last = *self.data.get(self.pos.wrapping_sub(1))?;
        let minimal = varint::is_minimal(self.pos - start, last);
        minimal.then_some(value)
    }

    /// Steps over a value varint written canonically (minimal, not zero) without
    /// working out its value: with ten bytes readable, its end is found in one word.
    #[inline(always)]
    pub(crate) fn skip_varint_canonical(&mut self) -> Option<()> {
        let r = &mut *self;
        let Some(bytes) = r
            .lookahead
            .get(r.pos..)
            .and_then(|rest| rest.first_chunk::<{ varint::MAX_VARINT_LEN }>())
        else {
            return self.varint_canonical().map(drop);
        };
        let len = varint::raw_len(bytes);
        if len == 0 || len > r.data.len() - r.pos || !varint::is_minimal(len, bytes[len - 1]) {
            return None;
        }
        r.pos += len;
        Some(())
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
                let (read, n) =
                    varint::decode_raw_spread::<true>(&window[1..], varint::MAX_VARINT_LEN);
                if n == 0 {
                    return None;
                }
                *value = read;
                self.pos += 1 + n;
            }
            return Some(());
        }
        // Near the end of the input, each byte checked, as a short message's last id is
        // read (`decode_raw_spread` without its window).
        if self.next_is(tag) {
            *value = self.try_varint_max::<true, false>(varint::MAX_VARINT_LEN)?;
        }
        Some(())
    }

    /// The string value of the next field when it is `tag`, else "".
    #[inline(always)]
    pub(crate) fn string_if(&mut self, tag: u32) -> Option<&'a str> {
        if self.next_is(tag) {
            self.try_string()
        } else {
            Some("")
        }
    }

    /// When the next field is `tag`, reads its string value into `value`.
    #[inline(always)]
    pub(crate) fn try_string_field(&mut self, tag: u32, value: &mut &'a str) -> Option<()> {
        if self.next_is(tag) {
            *value = self.try_string()?;
        }
        Some(())
    }

    /// Reads a length prefix and returns the cursor over the body it announces.
    #[inline(always)]
    pub(crate) fn try_length_delimited(&mut self) -> Option<Reader<'a>> {
        let len = self.try_varint_max::<false, false>(5)?;
        let r = &mut *self;
        let body_start = r.pos;
        if len > (r.data.len() - body_start) as u64 {
            return None;
        }
        let end = body_start + len as usize;
        r.pos = end;
        Some(Reader {
            data: r.data.get(body_start..end)?,
            lookahead: r.lookahead.get(body_start..)?,
            pos: 0,
            base: r.base + body_start,
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
    pub(crate) fn rest_unknown(
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

    /// [`Reader::rest_unknown`] for a message whose rest is usually long, as an
    /// envelope's is: simple fields are walked here, inline, and the general walk
    /// takes over at the first other one.
    #[inline(always)]
    pub(crate) fn rest_unknown_inline(
        &mut self,
        is_known: impl Fn(u32) -> bool + Copy,
        depth: u32,
    ) -> Option<&'a [u8]> {
        let r = &mut *self;
        let start = r.pos;
        while let Some(&tag) = r.data.get(r.pos) {
            match skip_simple(r.data, r.pos) {
                Some((_, end)) if !is_known(u32::from(tag)) => r.pos = end,
                Some(_) => return None,
                None => {
                    r.pos = rest_unknown(r.clone(), is_known, depth)?;
                    break;
                }
            }
        }
        r.data.get(start..)
    }
}
