//! Base-128 varints: decoding with a one-byte fast path, minimal encoding, and lengths.
//!
//! A value varint has at most 10 bytes; bits beyond 64 in the tenth byte are dropped, as
//! the reference runtime drops them. Tags and lengths use the same encoding but are
//! limited to 5 bytes by their callers.

use crate::error::DecodeErrorKind;

/// Most bytes a varint of a 64-bit value may take.
pub(crate) const MAX_VARINT_LEN: usize = 10;

/// Decodes a varint of at most `max_len` bytes from the front of `buf`, returning the
/// value (low 64 bits) and the number of bytes read.
#[inline(always)]
pub(crate) fn decode(buf: &[u8], max_len: usize) -> Result<(u64, usize), DecodeErrorKind> {
    match buf.first() {
        Some(&b) if b < 0x80 => Ok((u64::from(b), 1)),
        _ => decode_multi(buf, max_len),
    }
}

/// With 10 bytes readable the bytes are taken from a fixed-size array, so the unrolled
/// checks carry no bounds checks; a short buffer takes the byte loop.
#[inline(always)]
fn decode_multi(buf: &[u8], max_len: usize) -> Result<(u64, usize), DecodeErrorKind> {
    if let Some(bytes) = buf.first_chunk::<MAX_VARINT_LEN>() {
        let mut value = u64::from(bytes[0] & 0x7f);
        for (i, &b) in bytes.iter().enumerate().skip(1) {
            // A shift of 63 keeps only the lowest bit of the tenth byte: the rest is dropped.
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                if i < max_len {
                    return Ok((value, i + 1));
                }
                break;
            }
        }
    }
    decode_slow(buf, max_len)
}

/// Fewer than 10 bytes readable, or a malformed varint.
#[inline(never)]
fn decode_slow(buf: &[u8], max_len: usize) -> Result<(u64, usize), DecodeErrorKind> {
    let end = if buf.len() < max_len {
        buf.len()
    } else {
        max_len
    };
    let mut value = 0u64;
    let mut shift = 0;
    let mut i = 0;
    while i < end {
        let b = buf[i];
        // A shift of 63 keeps only the lowest bit of the tenth byte: the rest is dropped.
        value |= u64::from(b & 0x7f) << shift;
        shift += 7;
        i += 1;
        if b < 0x80 {
            return Ok((value, i));
        }
    }
    if buf.len() < max_len {
        Err(DecodeErrorKind::TruncatedVarint)
    } else {
        Err(DecodeErrorKind::VarintTooLong)
    }
}

/// Number of bytes the minimal varint encoding of `value` takes.
#[inline]
pub const fn encoded_len(value: u64) -> usize {
    // Each 7 significant bits take one byte; zero still takes one.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes the minimal varint encoding of `value` into `out`, returning the bytes used.
/// `out` must hold at least `encoded_len(value)` bytes.
#[inline(always)]
pub(crate) fn encode(mut value: u64, out: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut i = 0;
    while value >= 0x80 {
        out[i] = (value as u8) | 0x80;
        value >>= 7;
        i += 1;
    }
    out[i] = value as u8;
    i + 1
}

#[cfg(test)]
mod tests;
