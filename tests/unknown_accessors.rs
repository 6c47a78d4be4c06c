//! Typed reads of unknown fields (`UnknownField::varint`, `zigzag`, `fixed32`,
//! `fixed64`, `payload`, and `UnknownFields::last_varint`/`last_bytes`): every varint
//! length, every wire type against every accessor, and the last occurrence of the
//! declared wire type winning over later ones of another.

mod common;

use atomix_headers::{StreamHeader, UnknownFields};
use common::varint;

/// Field 3 (unknown to StreamHeader) with each wire type.
fn fields(value: u64) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(3 << 3);
    varint(value, &mut out);
    out.push(3 << 3 | 5);
    out.extend_from_slice(&(value as u32).to_le_bytes());
    out.push(3 << 3 | 1);
    out.extend_from_slice(&value.to_le_bytes());
    out.push(3 << 3 | 2);
    out.push(3);
    out.extend_from_slice(b"abc");
    out
}

#[test]
fn every_accessor_reads_only_its_wire_type() {
    let mut values = vec![0, 1, u64::MAX, i64::MIN as u64];
    for bits in 0..64 {
        values.extend([1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) + 1]);
    }
    for value in values {
        let wire = fields(value);
        let fields = UnknownFields::from_bytes::<StreamHeader>(&wire).unwrap();
        let all: Vec<_> = fields.iter().collect();
        assert_eq!(all.len(), 4);
        let (v, f32_, f64_, len) = (all[0], all[1], all[2], all[3]);
        assert_eq!(v.varint(), Some(value), "{value:#x}");
        let zigzag = (value >> 1) as i64 ^ -((value & 1) as i64);
        assert_eq!(v.zigzag(), Some(zigzag));
        assert_eq!(f32_.fixed32(), Some(value as u32));
        assert_eq!(f64_.fixed64(), Some(value));
        assert_eq!(len.payload(), Some(&b"abc"[..]));
        for (field, kind) in [(v, 0), (f32_, 5), (f64_, 1), (len, 2)] {
            assert_eq!(field.varint().is_some(), kind == 0);
            assert_eq!(field.zigzag().is_some(), kind == 0);
            assert_eq!(field.fixed32().is_some(), kind == 5);
            assert_eq!(field.fixed64().is_some(), kind == 1);
            assert_eq!(field.payload().is_some(), kind == 2);
        }
        // The last of each wire type, whatever follows it.
        assert_eq!(fields.last_varint(3), Some(value));
        assert_eq!(fields.last_bytes(3), Some(&b"abc"[..]));
        assert_eq!(fields.last(3).unwrap().wire_type(), 2);
    }
}

#[test]
fn zigzag_at_the_boundaries() {
    for (encoded, decoded) in [
        (0u64, 0i64),
        (1, -1),
        (2, 1),
        (3, -2),
        (u64::MAX - 1, i64::MAX),
        (u64::MAX, i64::MIN),
    ] {
        let mut wire = vec![3 << 3];
        varint(encoded, &mut wire);
        let fields = UnknownFields::from_bytes::<StreamHeader>(&wire).unwrap();
        assert_eq!(fields.last(3).unwrap().zigzag(), Some(decoded), "{encoded}");
    }
}

#[test]
fn overlong_varints_keep_their_value() {
    // 1 written in ten bytes, as a peer may.
    let wire = [
        0x18, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
    ];
    let fields = UnknownFields::from_bytes::<StreamHeader>(&wire).unwrap();
    assert_eq!(fields.last_varint(3), Some(1));
    assert_eq!(fields.last(3).unwrap().as_bytes(), &wire[..]);
    // A field number past the largest reads nothing.
    assert_eq!(fields.last_varint(u32::MAX), None);
    assert_eq!(fields.last_bytes(1 << 29), None);
}
