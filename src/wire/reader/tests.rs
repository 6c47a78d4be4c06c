use super::*;
use crate::wire::fields::RawFields;

fn skip_all(data: &[u8], depth: u32) -> Result<(), DecodeError> {
    let mut r = Reader::new(data, 0);
    while r.has_remaining() {
        let tag_pos = r.pos();
        let tag = r.tag()?;
        r.skip(tag, tag_pos, depth)?;
    }
    Ok(())
}

#[test]
fn skips_every_wire_type() {
    let fields = [
        0x48, 0x96, 0x01, // field 9 varint
        0x49, 1, 2, 3, 4, 5, 6, 7, 8, // fixed64
        0x4a, 0x02, 0xff, 0xfe, // length-delimited, bytes unchecked
        0x4b, 0x08, 0x01, 0x4c, // group holding a varint
        0x4d, 1, 2, 3, 4, // fixed32
    ];
    assert_eq!(skip_all(&fields, RECURSION_LIMIT), Ok(()));
}

#[test]
fn group_depth_is_counted() {
    let nest = |n: usize| {
        let mut v = vec![0x4b; n];
        v.extend(std::iter::repeat_n(0x4c, n));
        v
    };
    assert_eq!(skip_all(&nest(3), 3), Ok(()));
    let err = skip_all(&nest(4), 3).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset(), err.field()),
        (DecodeErrorKind::RecursionLimitExceeded, 3, Some(9))
    );
}

#[test]
fn offsets_are_absolute() {
    let mut r = Reader::new(&[0x0a, 0x02, 0x08, 0x80], 100);
    r.tag().unwrap();
    let mut child = r.length_delimited().unwrap();
    child.tag().unwrap();
    let err = child.varint().unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (DecodeErrorKind::TruncatedVarint, 103)
    );
}

#[test]
fn raw_fields_yield_whole_fields() {
    let data = [0x08, 0x01, 0x12, 0x01, b'x', 0x1b, 0x1c];
    let got: Vec<_> = RawFields::new(&data).collect();
    assert_eq!(
        got,
        [
            (0x08, &data[0..2], &[][..]),
            (0x12, &data[2..5], &data[4..5]),
            (0x1b, &data[5..7], &[][..]),
        ]
    );
}
