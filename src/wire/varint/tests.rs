use super::*;

/// Every value at and around each 7-bit boundary, with the length its encoding takes.
fn boundaries() -> impl Iterator<Item = (u64, usize)> {
    (1..=9u32)
        .flat_map(|k| {
            let edge = 1u64 << (7 * k);
            [
                (edge - 1, k as usize),
                (edge, k as usize + 1),
                (edge + 1, k as usize + 1),
            ]
        })
        .chain([
            (0, 1),
            (1, 1),
            (u64::MAX, 10),
            (u64::MAX - 1, 10),
            (1 << 63, 10),
        ])
}

/// A xorshift generator from `seed`: random bit patterns, the same on every run.
fn random(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// [`encode`] into an array, returning the bytes used.
fn encode_into(value: u64, out: &mut [u8; MAX_VARINT_LEN]) -> usize {
    let mut n = 0;
    encode(value, |byte| {
        out[n] = byte;
        n += 1;
    });
    n
}

#[test]
fn round_trip_at_every_7_bit_boundary() {
    for (value, len) in boundaries() {
        let mut out = [0u8; MAX_VARINT_LEN];
        let n = encode_into(value, &mut out);
        assert_eq!(n, len, "encoded length of {value}");
        assert_eq!(encoded_len(value), len, "encoded_len({value})");
        assert_eq!(decode(&out[..n], MAX_VARINT_LEN), Ok((value, n)));
        // Every proper prefix is a truncation.
        for cut in 0..n {
            assert_eq!(
                decode(&out[..cut], MAX_VARINT_LEN),
                Err(DecodeErrorKind::TruncatedVarint),
                "{value} cut at {cut}"
            );
        }
        // Trailing bytes are not read.
        let mut longer = out[..n].to_vec();
        longer.push(0x7f);
        assert_eq!(decode(&longer, MAX_VARINT_LEN), Ok((value, n)));
    }
}

#[test]
fn known_encodings() {
    let cases: &[(u64, &[u8])] = &[
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (16_383, &[0xff, 0x7f]),
        (16_384, &[0x80, 0x80, 0x01]),
        (u32::MAX as u64, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        (
            u64::MAX,
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
        ),
    ];
    for &(value, bytes) in cases {
        let mut out = [0u8; MAX_VARINT_LEN];
        let n = encode_into(value, &mut out);
        assert_eq!(&out[..n], bytes, "{value}");
        assert_eq!(decode(bytes, MAX_VARINT_LEN), Ok((value, bytes.len())));
    }
}

#[test]
fn overlong_encodings_are_accepted() {
    assert_eq!(decode(&[0x81, 0x80, 0x80, 0x80, 0x00], 10), Ok((1, 5)));
    assert_eq!(decode(&[0x80, 0x00], 10), Ok((0, 2)));
    let ten_zero = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    assert_eq!(decode(&ten_zero, 10), Ok((0, 10)));
}

#[test]
fn bits_beyond_64_are_dropped() {
    let max_with_junk = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    assert_eq!(decode(&max_with_junk, 10), Ok((u64::MAX, 10)));
    let only_high = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e];
    assert_eq!(decode(&only_high, 10), Ok((0, 10)));
}

#[test]
fn too_long() {
    let eleven = [0x80u8; 11];
    assert_eq!(decode(&eleven, 10), Err(DecodeErrorKind::VarintTooLong));
    let ten_continuing = [0xffu8; 10];
    assert_eq!(
        decode(&ten_continuing, 10),
        Err(DecodeErrorKind::VarintTooLong)
    );
    // With a 5-byte limit, a sixth byte is too long even if it would end the varint.
    assert_eq!(
        decode(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00], 5),
        Err(DecodeErrorKind::VarintTooLong)
    );
    assert_eq!(decode(&[0x80, 0x80, 0x80, 0x80, 0x00], 5), Ok((0, 5)));
}

/// The multiply form of the length agrees with counting 7-bit groups, for values with
/// every possible number of significant bits, and with what `encode` writes.
#[test]
fn encoded_len_at_every_bit_count() {
    for bits in 0..=64u32 {
        let value = if bits == 0 {
            0
        } else {
            u64::MAX >> (64 - bits)
        };
        let expected = bits.max(1).div_ceil(7) as usize;
        assert_eq!(encoded_len(value), expected, "{bits} bits");
        let mut out = [0u8; MAX_VARINT_LEN];
        assert_eq!(encode_into(value, &mut out), expected, "{bits} bits");
        if bits > 0 {
            let lowest = 1u64 << (bits - 1);
            assert_eq!(
                encoded_len(lowest),
                expected,
                "{bits} bits, only the top one set"
            );
        }
    }
}

/// Byte at a time, the plainest reading of the rules, to hold the word-at-a-time and
/// short paths to.
fn reference(buf: &[u8], max_len: usize) -> Result<(u64, usize), DecodeErrorKind> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(max_len) {
        if i < 10 {
            value |= u64::from(b & 0x7f).checked_shl(7 * i as u32).unwrap_or(0);
        }
        if b < 0x80 {
            return Ok((value, i + 1));
        }
    }
    if buf.len() < max_len {
        Err(DecodeErrorKind::TruncatedVarint)
    } else {
        Err(DecodeErrorKind::VarintTooLong)
    }
}

/// Varints of every length 1 to 11, with random groups and random bytes after them, in
/// buffers long enough for the word path and too short for it, under both limits.
#[test]
fn agrees_with_byte_at_a_time_reading() {
    let mut next = random(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0;
    for len in 1..=11 {
        for _ in 0..2_000 {
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8 | 0x80).collect();
            buf[len - 1] &= 0x7f;
            buf.extend((0..next() % 12).map(|_| next() as u8));
            for max_len in [5, MAX_VARINT_LEN] {
                for cut in [buf.len(), len, len - 1] {
                    let input = &buf[..cut];
                    let expected = reference(input, max_len);
                    assert_eq!(
                        decode(input, max_len),
                        expected,
                        "{input:02x?} max {max_len}"
                    );
                    // The spread reader agrees, failure as a length of 0; from a
                    // window, it reads only what a ten-byte window holds.
                    let spread = expected.unwrap_or((0, 0));
                    let checked = decode_raw_spread::<false>(input, max_len);
                    assert_eq!(checked, spread, "spread {input:02x?}");
                    let window = if input.len() >= MAX_VARINT_LEN || input.first() < Some(&0x80) {
                        spread
                    } else {
                        (0, 0)
                    };
                    let windowed = decode_raw_spread::<true>(input, max_len);
                    assert_eq!(windowed, window, "window {input:02x?}");
                    // And the length alone, for ten readable bytes and no limit below.
                    if let (Some(ten), MAX_VARINT_LEN) = (input.first_chunk(), max_len) {
                        let len = expected.map_or(0, |(_, n)| n);
                        assert_eq!(raw_len(ten), len, "raw_len {input:02x?}");
                    }
                    compared += 1;
                }
            }
        }
    }
    assert_eq!(compared, 11 * 2_000 * 2 * 3);
}

/// The one-word encoding writes what the byte loop writes, and zeros after it, for
/// values at every 7-bit boundary and with every bit pattern below the limit.
#[test]
fn word_encoding_agrees_with_the_byte_loop() {
    let mut next = random(0x2545_f491_4f6c_dd1d);
    // Random bits, then a random number of them significant.
    let patterns = (0..4096).map(move |_| {
        let bits = next();
        bits >> (bits % 64)
    });
    let values = boundaries().map(|(value, _)| value).chain(patterns);
    for value in values.filter(|&v| v < WORD_LIMIT) {
        let mut expected = [0u8; MAX_VARINT_LEN];
        let n = encode_into(value, &mut expected);
        let (word, len) = encode_word(value);
        assert_eq!(len, n, "length of {value}");
        assert_eq!(&word.to_le_bytes()[..], &expected[..8], "bytes of {value}");
    }
}

/// The nine- and ten-byte encoding writes what the byte loop writes, for values at and
/// past the word limit with every bit pattern.
#[test]
fn long_encoding_agrees_with_the_byte_loop() {
    let mut next = random(0x1234_5678_9abc_def1);
    let patterns = (0..4096).map(move |_| next() | WORD_LIMIT);
    let values = boundaries().map(|(value, _)| value).chain(patterns);
    for value in values.filter(|&v| v >= WORD_LIMIT) {
        let mut expected = [0u8; MAX_VARINT_LEN];
        let n = encode_into(value, &mut expected);
        let (bytes, len) = encode_long(value);
        assert_eq!(len, n, "length of {value:#x}");
        assert_eq!(&bytes[..len], &expected[..n], "bytes of {value:#x}");
    }
}
