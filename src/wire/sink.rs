//! Where encoded bytes go: any `bytes::BufMut`.
//!
//! Message encoders are written once, against [`Sink`]. Callers check the destination's
//! room (against a cheap upper bound, or the exact `encoded_len` when the bound does not
//! fit) before the first byte is written, so a sink never runs out of room half way
//! through a message.

use super::varint;
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
