//! Base-128 varints: decoding (one byte, up to four bytes, a word at a time, or a short
//! loop near the end of the input), minimal encoding, and lengths.
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
    match decode_raw(buf, max_len) {
        (value, n) if n != 0 => Ok((value, n)),
        _ => Err(error_kind(buf, max_len)),
    }
}

/// [`decode`] with failure as a length of 0, so that every path returns its pair in
/// registers and the error's kind is only worked out when there is one. Up to four
/// bytes go one by one and the rest as a word.
#[inline(always)]
pub(crate) fn decode_raw(buf: &[u8], max_len: usize) -> (u64, usize) {
    match buf.first() {
        Some(&b) if b < 0x80 => (u64::from(b), 1),
        Some(&b) => match buf.first_chunk::<MAX_VARINT_LEN>() {
            Some(bytes) => decode_unrolled(bytes, max_len),
            None => decode_short(buf, u64::from(b & 0x7f), max_len),
        },
        None => (0, 0),
    }
}

/// [`decode_raw`] for ids spread over every length, as a StreamHeader's are: every
/// byte read one at a time, each with its own branch. Going to a word at the second
/// byte (one branch on where the varint ends, found from the word's top bits) takes
/// fewer instructions but more time on such ids: the word's end is a chain of dependent
/// steps before the next field can be read, where a predicted branch per byte lets the
/// reads run ahead.
///
/// Ten readable bytes are read from an array without further checks
/// ([`decode_window`]). With `WINDOW`,
/// the caller knows ten bytes to be readable (a frame followed by others), and fewer
/// fail. Without, fewer are read each checked against the readable length (a short
/// message decoded on its own, whose last varint ends at the end of the input). A
/// frame's varint sites hold only the first way: with both, the registers they need
/// spill on its hot path.
#[inline(always)]
pub(crate) fn decode_raw_spread<const WINDOW: bool>(buf: &[u8], max_len: usize) -> (u64, usize) {
    let Some(&first) = buf.first() else {
        return (0, 0);
    };
    if first < 0x80 {
        return (u64::from(first), 1);
    }
    match buf.first_chunk::<MAX_VARINT_LEN>() {
        Some(bytes) => return decode_window(bytes, max_len),
        None if WINDOW => return (0, 0),
        None => {}
    }
    let readable = buf.len().min(max_len);
    let mut value = u64::from(first);
    // Unrolled by hand: LLVM does not unroll a loop with two exits. The shifts are
    // constants, and each `buf[i]` lies below `readable`, so its bounds check folds
    // away. Bytes are summed and each exit joins the last one as `decode_window`'s do.
    // Fewer than ten bytes are readable here, so `i` stays below 9.
    macro_rules! byte {
        ($($i:literal)+) => {$(
            if $i >= readable {
                return (0, 0);
            }
            let b = buf[$i];
            if b < 0x80 {
                // An exit of its own, as in `decode_window`.
                return (value.wrapping_sub(CONTINUATION[$i]) | u64::from(b) << (7 * $i), $i + 1);
            }
            value = value.wrapping_add(u64::from(b) << (7 * $i));
        )+};
    }
    byte!(1 2 3 4 5 6 7);
    if 8 < readable && buf[8] < 0x80 {
        return (
            value.wrapping_sub(CONTINUATION[8]) | u64::from(buf[8]) << 56,
            9,
        );
    }
    (0, 0)
}

/// Ten readable bytes, the first known to continue, read one at a time. A byte that
/// continues the varint is added whole (see `CONTINUATION`); the last one is joined by
/// an expression of its own, after the continuation bits are taken off, so that each
/// exit has a block of its own: merged into one, the exits' length and table index
/// would be set before every byte's branch, two instructions a byte on the path that
/// goes on.
#[inline(always)]
fn decode_window(bytes: &[u8; MAX_VARINT_LEN], max_len: usize) -> (u64, usize) {
    let mut value = u64::from(bytes[0]);
    macro_rules! byte {
        ($($i:literal)+) => {$(
            let b = bytes[$i];
            if b < 0x80 {
                // `value` less its continuation bits lies below bit 7 * $i, so the
                // last byte's bits are or-ed in.
                let value = value.wrapping_sub(CONTINUATION[$i]) | u64::from(b) << (7 * $i);
                return if $i < max_len { (value, $i + 1) } else { (0, 0) };
            }
            value = value.wrapping_add(u64::from(b) << (7 * $i));
        )+};
    }
    byte!(1 2 3 4 5 6 7 8);
    // The tenth byte: a shift of 63 keeps only its lowest bit.
    let b = bytes[9];
    if b < 0x80 && max_len >= MAX_VARINT_LEN {
        (
            value.wrapping_sub(CONTINUATION[9]) | u64::from(b) << 63,
            MAX_VARINT_LEN,
        )
    } else {
        (0, 0)
    }
}

/// `CONTINUATION[i]`: the top bits of a varint's first `i` bytes (those that continue it)
/// where a sum of its whole bytes, each shifted by 7 bits more than the last, holds them.
/// That sum less this is the value, modulo 2^64: a byte read whole is added with one
/// instruction fewer than one masked first. At the tenth byte, a shift of 63 keeps only
/// its lowest bit, which drops the bits beyond 64 as the reference runtime drops them.
const CONTINUATION: [u64; MAX_VARINT_LEN] = {
    let mut table = [0u64; MAX_VARINT_LEN];
    let mut i = 1;
    while i < MAX_VARINT_LEN {
        table[i] = table[i - 1].wrapping_add(0x80u64 << (7 * (i - 1)));
        i += 1;
    }
    table
};

/// With 10 bytes readable, bytes are taken from a fixed-size array, so no read needs a
/// bounds check. Up to four bytes go byte by byte, which for short varints (ids in the
/// millions take four bytes) takes the fewest instructions; longer varints go word at a
/// time. The exits here share one block, unlike `decode_window`'s: given each its own,
/// the responses' enums and lengths took three instructions more a message.
#[inline(always)]
fn decode_unrolled(bytes: &[u8; MAX_VARINT_LEN], max_len: usize) -> (u64, usize) {
    const ONE_BY_ONE: usize = 4;
    // Whole bytes summed, continuation bits taken off at the end (see `CONTINUATION`).
    let mut value = u64::from(bytes[0]);
    #[allow(clippy::needless_range_loop)] // adapters here are not unrolled
    for i in 1..ONE_BY_ONE {
        let b = bytes[i];
        value = value.wrapping_add(u64::from(b) << (7 * i));
        if b < 0x80 {
            return if i < max_len {
                (value.wrapping_sub(CONTINUATION[i]), i + 1)
            } else {
                (0, 0)
            };
        }
    }
    decode_word(bytes, max_len)
}

/// The top bit of every byte of a word: set in each byte a varint continues past.
const TOPS: u64 = 0x8080_8080_8080_8080;

/// The length of the varint at the front of `bytes`, 1 to 10, or 0 when none of the ten
/// bytes ends it: found in one word for the first eight.
#[inline(always)]
pub(crate) fn raw_len(bytes: &[u8; MAX_VARINT_LEN]) -> usize {
    let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9] = *bytes;
    let ends = !u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]) & TOPS;
    if ends != 0 {
        // The lowest clear top bit is bit 8k+7 of the word for a varint of k+1 bytes.
        (ends.trailing_zeros() as usize + 1) / 8
    } else if b8 < 0x80 {
        9
    } else if b9 < 0x80 {
        10
    } else {
        0
    }
}

/// The first eight bytes are read as one little-endian word, the terminating byte is
/// found from its clear top bit, and the 7-bit groups are packed together with three
/// shift-and-mask steps, without a branch per byte. A ninth and tenth byte are added
/// one at a time.
#[inline(always)]
fn decode_word(bytes: &[u8; MAX_VARINT_LEN], max_len: usize) -> (u64, usize) {
    let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9] = *bytes;
    let word = u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]);
    let ends = !word & TOPS;
    if ends != 0 {
        // The lowest clear top bit is bit 8k+7 of the word for a varint of k+1 bytes.
        let last_bit = ends.trailing_zeros();
        let len = (last_bit as usize + 1) / 8;
        if len > max_len {
            return (0, 0);
        }
        return (pack(word & (u64::MAX >> (63 - last_bit))), len);
    }
    let value = pack(word) | (u64::from(b8 & 0x7f) << 56);
    if b8 < 0x80 {
        return if max_len >= 9 { (value, 9) } else { (0, 0) };
    }
    // A shift of 63 keeps only the lowest bit of the tenth byte: the rest is dropped.
    let value = value | (u64::from(b9) << 63);
    if b9 < 0x80 && max_len >= 10 {
        (value, 10)
    } else {
        (0, 0)
    }
}

/// Packs the low seven bits of each byte of `word` (little-endian) into 56 bits.
#[inline(always)]
fn pack(word: u64) -> u64 {
    let w = word & 0x7f7f_7f7f_7f7f_7f7f;
    // Pairs of bytes into 14-bit lanes, pairs of those into 28, then the two halves.
    let w = (w & 0x007f_007f_007f_007f) | ((w & 0x7f00_7f00_7f00_7f00) >> 1);
    let w = (w & 0x0000_3fff_0000_3fff) | ((w & 0x3fff_0000_3fff_0000) >> 2);
    (w & 0x0000_0000_0fff_ffff) | ((w & 0x0fff_ffff_0000_0000) >> 4)
}

/// Fewer than 10 bytes readable: the last varints of an input take this path, so it is
/// kept small rather than cold. The first byte, already read and known to continue,
/// comes in as `value`; the loop starts at the second. [`decode_raw_spread`] has an
/// unrolled form of the same reads for a short message's ids; this one stays a loop
/// because it sits at every other varint site, where the unrolled form, inlined beside
/// the window reads, made the registers spill on frames' hot path.
#[inline]
fn decode_short(buf: &[u8], mut value: u64, max_len: usize) -> (u64, usize) {
    // `buf` holds fewer than 10 bytes, so the shift stays below 64.
    let rest = buf.get(1..buf.len().min(max_len)).unwrap_or_default();
    for (i, &b) in rest.iter().enumerate() {
        value |= u64::from(b & 0x7f) << (7 * (i + 1));
        if b < 0x80 {
            return (value, i + 2);
        }
    }
    (0, 0)
}

/// Why a varint that [`decode_raw`] refused is malformed: no terminating byte within
/// `max_len` bytes, or the input ends first.
#[cold]
#[inline(never)]
fn error_kind(buf: &[u8], max_len: usize) -> DecodeErrorKind {
    if buf.len() < max_len {
        DecodeErrorKind::TruncatedVarint
    } else {
        DecodeErrorKind::VarintTooLong
    }
}

/// Whether a varint of `len` bytes ending in byte `last` is the minimal encoding of its
/// value: its last byte is not zero, except that a tenth byte may only hold the one bit
/// that is not dropped.
#[inline(always)]
pub(crate) fn is_minimal(len: usize, last: u8) -> bool {
    last != 0 && (len < MAX_VARINT_LEN || last == 1)
}

/// Number of bytes the minimal varint encoding of `value` takes.
#[inline]
pub const fn encoded_len(value: u64) -> usize {
    // Each 7 significant bits take one byte; zero still takes one. For a highest set
    // bit at 0..=63, (high * 9 + 73) / 64 equals (high + 1).div_ceil(7) with a multiply
    // instead of a divide (a test checks every bit count).
    let high = 63 - (value | 1).leading_zeros() as usize;
    (high * 9 + 73) / 64
}

/// Values [`encode_word`] takes: those whose varint fits in eight bytes.
pub(crate) const WORD_LIMIT: u64 = 1 << 56;

/// The minimal varint encoding of `value`, below [`WORD_LIMIT`], as the low bytes of a
/// little-endian word, and how many bytes it takes: one store writes it, where a byte
/// loop would branch on every byte (and mispredict on values of varied lengths). The
/// bytes past the length are zero.
#[inline(always)]
pub(crate) fn encode_word(value: u64) -> (u64, usize) {
    debug_assert!(value < WORD_LIMIT);
    // The length and the continuation bits depend only on the highest set bit: one
    // lookup instead of the arithmetic.
    let (continues, len) = WORD_SHAPES[(value | 1).ilog2() as usize];
    // The inverse of `pack`, 7-bit groups into bytes. Values of up to four bytes, the
    // most common, spread in 32 bits, whose masks are immediates rather than 64-bit
    // constants loaded one by one.
    let groups = if value < 1 << 28 {
        u64::from(spread_28(value as u32))
    } else {
        spread_56(value)
    };
    (groups | continues, len as usize)
}

/// The minimal varint encoding of `value`, at or above [`WORD_LIMIT`], and its length:
/// nine or ten bytes, the first eight as in [`encode_word`], all continuing.
#[inline(always)]
pub(crate) fn encode_long(value: u64) -> ([u8; MAX_VARINT_LEN], usize) {
    debug_assert!(value >= WORD_LIMIT);
    let groups = spread_56(value & (WORD_LIMIT - 1));
    let [b0, b1, b2, b3, b4, b5, b6, b7] = (groups | TOPS).to_le_bytes();
    // The top eight bits: seven in the ninth byte, which continues when the eighth is
    // set, and that one alone in the tenth.
    let high = (value >> 56) as u8;
    let tenth = high >> 7;
    let ninth = (high & 0x7f) | (tenth << 7);
    let bytes = [b0, b1, b2, b3, b4, b5, b6, b7, ninth, tenth];
    (bytes, 9 + usize::from(tenth))
}

/// The eight 7-bit groups of a value below 2^56 in the low bits of eight bytes: each
/// 28-bit half spread in 32 bits.
#[inline(always)]
fn spread_56(value: u64) -> u64 {
    u64::from(spread_28(value as u32 & 0x0fff_ffff))
        | u64::from(spread_28((value >> 28) as u32)) << 32
}

/// The four 7-bit groups of a value below 2^28 in the low bits of four bytes.
#[inline(always)]
fn spread_28(value: u32) -> u32 {
    let w = (value & 0x3fff) | ((value & 0x0fff_c000) << 2);
    (w & 0x007f_007f) | ((w & 0x3f80_3f80) << 1)
}

/// For each highest set bit of a value below [`WORD_LIMIT`] (0 to 55), the top bits of
/// the bytes of its varint that continue (all but the last), and its length.
const WORD_SHAPES: [(u64, u8); 56] = {
    let mut shapes = [(0, 0); 56];
    let mut high = 0;
    while high < 56 {
        let len = encoded_len(1 << high);
        shapes[high] = ((TOPS >> 8) >> (8 * (8 - len)), len as u8);
        high += 1;
    }
    shapes
};

/// Whether `raw` is an int32 as protobuf writes one: its value sign-extended to 64 bits.
/// An enum read from any other varint keeps its low 32 bits, and is written back
/// differently, so its encoding was not canonical. Used by the canonical checks generated
/// for an enum field of a short message, which no message declares today.
#[allow(dead_code)]
#[inline(always)]
pub(crate) const fn is_int32(raw: u64) -> bool {
    raw == raw as i32 as i64 as u64
}

/// Hands the minimal varint encoding of `value` to `put`, a byte at a time.
#[inline(always)]
pub(crate) fn encode(mut value: u64, mut put: impl FnMut(u8)) {
    while value >= 0x80 {
        put((value as u8) | 0x80);
        value >>= 7;
    }
    put(value as u8);
}

#[cfg(test)]
mod tests;
