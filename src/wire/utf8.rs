//! UTF-8 checks for string fields. Every string is checked; ASCII, which nearly every
//! header string is (names, namespaces, host:port addresses), is checked a chunk at a
//! time (without a loop up to 64 bytes) and then taken as a `&str` without checking it
//! a second time.
//!
//! The one `unsafe` block takes bytes already checked to be ASCII as a `&str`, so that
//! they are not checked a second time by the standard checker, which on short strings
//! is a loop and a call where the ASCII check is a few loads.
#![allow(unsafe_code)]

use core::str::Utf8Error;

/// `bytes` as a string slice, or why it is not UTF-8, exactly as `core::str::from_utf8`.
#[inline(always)]
pub(crate) fn to_str(bytes: &[u8]) -> Result<&str, Utf8Error> {
    if is_ascii(bytes) {
        // SAFETY: every byte is below 0x80, and a run of such bytes is valid UTF-8 (each
        // is a one-byte code point), which is all `from_utf8_unchecked` requires.
        Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        core::str::from_utf8(bytes)
    }
}

/// Whether every byte is below 0x80. Strings of up to 64 bytes (names, namespaces,
/// host:port addresses) are checked without a loop: two chunks of 4, 8, 16 or 32 bytes
/// taken from the front and the back cover the whole string (they overlap when its
/// length is not twice their size), or three bytes cover a string shorter than four.
/// `[u8]::is_ascii` would scan strings under 16 bytes a byte at a time, and is not
/// inlined. Longer strings go to it. Chunks of 4 and 8 bytes are read as integers: one
/// load and one test each, rather than a load per byte.
#[inline(always)]
fn is_ascii(bytes: &[u8]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    if bytes.len() > 16 {
        return match bytes.len() {
            17..=32 => front_and_back_ascii::<16>(bytes),
            33..=64 => front_and_back_ascii::<32>(bytes),
            _ => bytes.is_ascii(),
        };
    }
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        return (u64::from_le_bytes(*head) | u64::from_le_bytes(*tail)) & HIGH == 0;
    }
    if let (Some(head), Some(tail)) = (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
        return (u32::from_le_bytes(*head) | u32::from_le_bytes(*tail)) & (HIGH as u32) == 0;
    }
    // Bytes 0, len / 2 and len - 1 are every byte of a string of 1 to 3 bytes.
    match (bytes.first(), bytes.get(bytes.len() / 2), bytes.last()) {
        (Some(&a), Some(&b), Some(&c)) => (a | b | c) < 0x80,
        _ => true,
    }
}

/// Whether the first and the last `N` bytes are all below 0x80: the whole of a string
/// of `N` to `2 * N` bytes.
#[inline(always)]
fn front_and_back_ascii<const N: usize>(bytes: &[u8]) -> bool {
    match (bytes.first_chunk::<N>(), bytes.last_chunk::<N>()) {
        (Some(head), Some(tail)) => head.iter().zip(tail).fold(0, |all, (a, b)| all | a | b) < 0x80,
        _ => bytes.is_ascii(),
    }
}

#[cfg(test)]
mod tests;
