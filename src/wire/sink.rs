//! Where encoded bytes go: a fixed slice, or any `bytes::BufMut`.
//!
//! Message encoders are written once, against [`Sink`]. Callers check the destination's
//! room against the exact `encoded_len` before the first byte is written, so a sink never
//! runs out of room half way through a message.

use super::varint::{self, MAX_VARINT_LEN};
use bytes::BufMut;

pub trait Sink {
    fn put(&mut self, bytes: &[u8]);

    #[inline(always)]
    fn put_varint(&mut self, value: u64) {
        let mut scratch = [0u8; MAX_VARINT_LEN];
        let n = varint::encode(value, &mut scratch);
        self.put(&scratch[..n]);
    }

    /// Writes the tag of a known field. All our field numbers are below 16, so the tag
    /// takes one byte.
    #[inline(always)]
    fn put_tag(&mut self, tag: u32) {
        debug_assert!(tag < 0x80);
        self.put(&[tag as u8]);
    }

    /// Writes a uint64 field unless it holds the default 0.
    #[inline(always)]
    fn put_uint64_field(&mut self, tag: u32, value: u64) {
        if value != 0 {
            self.put_tag(tag);
            self.put_varint(value);
        }
    }

    /// Writes a string field unless it is empty.
    #[inline(always)]
    fn put_string_field(&mut self, tag: u32, value: &str) {
        if !value.is_empty() {
            self.put_tag(tag);
            self.put_varint(value.len() as u64);
            self.put(value.as_bytes());
        }
    }
}

/// Bytes of [`ArraySink`]: a power of two, so that a position masked to it is always in
/// bounds.
pub(crate) const ARRAY_SINK_LEN: usize = 128;

/// Writes into a stack array, for messages of at most [`ARRAY_SINK_LEN`] bytes, which the
/// caller has checked. Single bytes are stored at the position masked to the array, so
/// the compiler sees them in bounds without a check per byte; as the message fits, the
/// mask never changes a position.
pub(crate) struct ArraySink {
    out: [u8; ARRAY_SINK_LEN],
    pos: usize,
}

impl ArraySink {
    pub(crate) fn new() -> Self {
        Self {
            out: [0; ARRAY_SINK_LEN],
            pos: 0,
        }
    }

    /// What was written.
    pub(crate) fn written(&self) -> &[u8] {
        &self.out[..self.pos]
    }

    #[inline(always)]
    fn put_byte(&mut self, byte: u8) {
        self.out[self.pos & (ARRAY_SINK_LEN - 1)] = byte;
        self.pos += 1;
    }
}

impl Sink for ArraySink {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        self.out[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
    }

    #[inline(always)]
    fn put_tag(&mut self, tag: u32) {
        self.put_byte(tag as u8);
    }

    #[inline(always)]
    fn put_varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.put_byte((value as u8) | 0x80);
            value >>= 7;
        }
        self.put_byte(value as u8);
    }
}

/// Writes into a `BufMut` whose `remaining_mut` the caller has checked.
pub(crate) struct BufSink<'b, B: BufMut>(pub(crate) &'b mut B);

impl<B: BufMut> Sink for BufSink<'_, B> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}
