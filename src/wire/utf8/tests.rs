use super::*;

/// Agrees with the standard checker, value and error position, on ASCII, on valid
/// multi-byte text and on every kind of invalid sequence, at every length up to past 64
/// so that each path of the ASCII check (three bytes, two halves, two words, two 16- or
/// 32-byte chunks, the standard scan) is taken.
#[test]
fn agrees_with_core_from_utf8() {
    let pieces: [&[u8]; 9] = [
        b"raft-node-2.atomix-raft.default.svc:5678",
        "καλημέρα".as_bytes(),
        "日本語🦀".as_bytes(),
        b"\x80",
        b"\xc3",
        b"\xe2\x82",
        b"\xed\xa0\x80",     // a surrogate
        b"\xf4\x90\x80\x80", // above U+10FFFF
        b"\xc0\xaf",         // overlong
    ];
    let mut checked = 0;
    for piece in pieces {
        for prefix in 0..20 {
            for suffix in 0..50 {
                let mut bytes = vec![b'a'; prefix];
                bytes.extend_from_slice(piece);
                bytes.extend(core::iter::repeat_n(b'z', suffix));
                assert_eq!(to_str(&bytes), core::str::from_utf8(&bytes), "{bytes:?}");
                checked += 1;
            }
        }
    }
    for len in 0..80 {
        let bytes = vec![b'x'; len];
        assert_eq!(to_str(&bytes), Ok(core::str::from_utf8(&bytes).unwrap()));
        checked += 1;
    }
    assert_eq!(checked, 9 * 20 * 50 + 80);
}

/// A non-ASCII byte anywhere in an otherwise ASCII string sends it to the full check.
#[test]
fn one_high_byte_anywhere_is_checked() {
    for len in 1..80 {
        for at in 0..len {
            let mut bytes = vec![b'q'; len];
            bytes[at] = 0xff;
            let err = to_str(&bytes).unwrap_err();
            assert_eq!(err.valid_up_to(), at);
        }
    }
}
