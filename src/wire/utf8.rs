//! UTF-8 checks for string fields. Every string is checked; ASCII, which nearly every
//! header string is (names, namespaces, host:port addresses), is checked word by word
//! and then taken as a `&str` without checking it a second time.
//!
//! One of the crate's three places with `unsafe` code (the others are `owned` and
//! `wire::sink::put_in_chunk`). Measured with `valgrind --tool=callgrind` on a
//! ResponseHeader whose leader address has 40 bytes, the standard checker costs about
//! 125 instructions per string for short strings, against about 25 for the ASCII scan,
//! a sixth of the whole decode.
#![allow(unsafe_code)]

use core::str::Utf8Error;

/// `bytes` as a string slice, or why it is not UTF-8, exactly as `core::str::from_utf8`.
#[inline(always)]
pub(crate) fn to_str(bytes: &[u8]) -> Result<&str, Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: every byte is below 0x80, and a run of such bytes is valid UTF-8 (each
        // is a one-byte code point), which is all `from_utf8_unchecked` requires.
        Ok(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        core::str::from_utf8(bytes)
    }
}

#[cfg(test)]
mod tests;
