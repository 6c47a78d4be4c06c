//! Where encoded bytes go: any `bytes::BufMut`.
//!
//! Message encoders are written once, against [`Sink`]. Callers check the destination's
//! room before the first byte is written (against the exact length when they know it,
//! else a cheap upper bound, and the exact `encoded_len` only when the bound does not
//! fit), so a sink never runs out of room half way through a message.
//!
//! When one contiguous chunk of the destination's spare capacity holds that many bytes
//! (a `Vec` or `BytesMut` with room, the usual case), [`put_in_chunk`] writes there and
//! advances the buffer once at the end; otherwise [`BufSink`] writes through the
//! `BufMut` a byte or slice at a time. The first is preferred because a byte written
//! through a `BufMut` may alias the buffer's own length, which must then be stored and
//! reloaded around every byte.
//!
//! One block of this module is `unsafe`: advancing a `BufMut` over bytes written into its
//! spare capacity, in [`put_in_chunk`].

use super::{size, varint};
use bytes::buf::UninitSlice;
use bytes::BufMut;

pub trait Sink {
    fn put(&mut self, bytes: &[u8]);

    fn put_byte(&mut self, byte: u8);

    /// Writes the minimal varint encoding of `value`, a byte at a time.
    #[inline(always)]
    fn put_varint(&mut self, value: u64) {
        varint::encode(value, |byte| self.put_byte(byte));
    }

    /// Writes the tag of a known field. All our field numbers are below 16, so the tag
    /// takes one byte.
    #[inline(always)]
    fn put_tag(&mut self, tag: u32) {
        debug_assert!(tag < 0x80);
        self.put_byte(tag as u8);
    }

    /// Writes a varint field, its tag and value, even when the value is 0.
    #[inline(always)]
    fn put_varint_field(&mut self, tag: u32, value: u64) {
        self.put_tag(tag);
        self.put_varint(value);
    }

    /// Writes a uint64 field unless it holds the default 0.
    #[inline(always)]
    fn put_uint64_field(&mut self, tag: u32, value: u64) {
        if value != 0 {
            self.put_varint_field(tag, value);
        }
    }

    /// Writes an enum field unless it holds the default 0; a negative value as the
    /// 10-byte varint of its sign extension.
    #[inline(always)]
    fn put_enum_field(&mut self, tag: u32, value: i32) {
        if (1..0x80).contains(&value) {
            // Enums' values are small: the field takes two bytes.
            self.put_two(tag as u8, value as u8);
        } else if value != 0 {
            self.put_varint_field(tag, value as i64 as u64);
        }
    }

    /// Writes two bytes.
    #[inline(always)]
    fn put_two(&mut self, first: u8, second: u8) {
        self.put_byte(first);
        self.put_byte(second);
    }

    /// Writes a string field unless it is empty.
    #[inline(always)]
    fn put_string_field(&mut self, tag: u32, value: &str) {
        string_field(self, tag, value, Self::put);
    }

    /// [`Sink::put_string_field`] for a string that is usually short: a primitive's name
    /// or namespace, not a leader's address.
    #[inline(always)]
    fn put_short_string_field(&mut self, tag: u32, value: &str) {
        string_field(self, tag, value, Self::put_short);
    }

    /// [`Sink::put`] for bytes that are usually few.
    #[inline(always)]
    fn put_short(&mut self, bytes: &[u8]) {
        self.put(bytes);
    }
}

/// A string field unless it is empty, its bytes written by `put`.
#[inline(always)]
fn string_field<S: Sink + ?Sized>(sink: &mut S, tag: u32, value: &str, put: fn(&mut S, &[u8])) {
    if !value.is_empty() {
        sink.put_tag(tag);
        sink.put_varint(value.len() as u64);
        put(sink, value.as_bytes());
    }
}

/// Writes into a `BufMut` whose `remaining_mut` the caller has checked.
pub(crate) struct BufSink<'b, B: BufMut>(pub(crate) &'b mut B);

impl<B: BufMut> Sink for BufSink<'_, B> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }

    #[inline(always)]
    fn put_byte(&mut self, byte: u8) {
        self.0.put_u8(byte);
    }
}

/// Writes into one contiguous run of spare capacity, from its start and without gaps,
/// counting the bytes written. Every write is bounds-checked (and would panic rather
/// than overflow); the caller's bound check makes sure none does. A varint field is
/// checked once as a whole when the chunk has room for the longest one, else byte by
/// byte; a slice is checked once.
pub(crate) struct ChunkSink<'c> {
    chunk: &'c mut UninitSlice,
    written: usize,
}

impl Sink for ChunkSink<'_> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.written + bytes.len();
        self.chunk[self.written..end].copy_from_slice(bytes);
        self.written = end;
    }

    #[inline(always)]
    fn put_byte(&mut self, byte: u8) {
        self.chunk.write_byte(self.written, byte);
        self.written += 1;
    }

    #[inline(always)]
    fn put_two(&mut self, first: u8, second: u8) {
        let end = self.written + 2;
        self.chunk[self.written..end].copy_from_slice(&[first, second]);
        self.written = end;
    }

    /// Slices of 4 to 16 bytes are copied as two overlapping chunks, in a few moves
    /// instead of a call to `memcpy`: names and namespaces are that short. Only `Name`
    /// takes this way: other strings (a 40-byte leader, say) are mostly longer, and the
    /// length test would be a branch spent before the `memcpy` anyway.
    #[inline(always)]
    fn put_short(&mut self, bytes: &[u8]) {
        let len = bytes.len();
        if !(4..=16).contains(&len) {
            return self.put(bytes);
        }
        let end = self.written + len;
        let dst = &mut self.chunk[self.written..end];
        if len >= 8 {
            copy_ends::<8>(dst, bytes);
        } else {
            copy_ends::<4>(dst, bytes);
        }
        self.written = end;
    }

    /// The room for the longest field checked once, and the varint written whole
    /// ([`varint::encode_word`], [`varint::encode_long`]) rather than a byte at a time,
    /// which branches on every byte. The writes are safe slice copies, whose own bounds
    /// check the compiler keeps: the one unsafe block of this module is not worth a
    /// second for one compare per field.
    /// Strings' keys and messages' length prefixes stay byte by byte.
    #[inline(always)]
    fn put_varint_field(&mut self, tag: u32, value: u64) {
        let at = self.written;
        // The room left is checked on the rest of the chunk, so that the writes below,
        // within it, need no check of their own (`at + 11` could overflow for all the
        // compiler knows, and the write's range would be checked again).
        let rest = &mut self.chunk[at..];
        if rest.len() < size::VARINT_FIELD_MAX {
            // The last fields of a message written into a chunk of its exact length.
            // The sink goes by value: had its address escaped to an out of line call,
            // its position would be stored and reloaded around every field.
            self.written = put_varint_field_near_end(self.chunk, at, tag, value);
            return;
        }
        debug_assert!(tag < 0x80);
        // Nine or eleven bytes are written, inside the room just checked; those past
        // the field are not counted, and the next write, or nothing, covers them.
        if value < varint::WORD_LIMIT {
            let (word, len) = varint::encode_word(value);
            let [b0, b1, b2, b3, b4, b5, b6, b7] = word.to_le_bytes();
            rest[..9].copy_from_slice(&[tag as u8, b0, b1, b2, b3, b4, b5, b6, b7]);
            self.written = at + 1 + len;
            return;
        }
        let (bytes, len) = varint::encode_long(value);
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9] = bytes;
        rest[..size::VARINT_FIELD_MAX]
            .copy_from_slice(&[tag as u8, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9]);
        self.written = at + 1 + len;
    }
}

/// Copies `src` to `dst`, both of the same length, from N to 2N bytes, as its first and
/// its last N bytes: together they cover every byte.
#[inline(always)]
fn copy_ends<const N: usize>(dst: &mut UninitSlice, src: &[u8]) {
    let len = src.len();
    dst[..N].copy_from_slice(&src[..N]);
    dst[len - N..].copy_from_slice(&src[len - N..]);
}

/// [`Sink::put_varint_field`] with every byte checked; returns the new position.
#[inline(never)]
fn put_varint_field_near_end(
    chunk: &mut UninitSlice,
    written: usize,
    tag: u32,
    value: u64,
) -> usize {
    let mut sink = ChunkSink { chunk, written };
    sink.put_tag(tag);
    sink.put_varint(value);
    sink.written
}

/// Runs `write` on a [`ChunkSink`] over `buf`'s next chunk of spare capacity and
/// advances `buf` past what it wrote, when that chunk holds at least `bound` bytes
/// (which `write` must not exceed). Returns `false`, having written nothing, otherwise.
#[inline(always)]
pub(crate) fn put_in_chunk<B: BufMut>(
    buf: &mut B,
    bound: usize,
    write: impl FnOnce(&mut ChunkSink<'_>),
) -> bool {
    let chunk = buf.chunk_mut();
    if chunk.len() < bound {
        return false;
    }
    let mut sink = ChunkSink { chunk, written: 0 };
    write(&mut sink);
    let written = sink.written;
    #[allow(unsafe_code)]
    // SAFETY: `advance_mut(n)` requires the next `n` bytes of spare capacity to be
    // initialized. `chunk_mut` returned the start of the spare capacity; the sink wrote
    // its bytes in order from the chunk's start without gaps (`put_byte` at `written`,
    // `put` over `written..end`, `put_short` over `written..end` as two chunks that
    // cover it, `put_two` over two bytes, `put_varint_field` over the tag and the whole
    // varint and maybe bytes past them; each moves `written` to the end of its field,
    // never past what it wrote), so its first `written` bytes are initialized, and
    // `written <= chunk.len() <= remaining_mut()` since every write was bounds-checked
    // against the chunk. Nothing touched `buf` in between.
    unsafe {
        buf.advance_mut(written);
    }
    true
}
