//! A tiny protobuf writer for building fuzz inputs field by field, independent of the
//! crate under test, so inputs can hold what the crate would never write: overlong
//! varints, invalid UTF-8, repeated fields, truncation.

pub fn varint(out: &mut Vec<u8>, mut value: u64, overlong: u8) {
    let pad = overlong % 4;
    loop {
        let more = value >= 0x80 || pad > 0;
        out.push((value as u8 & 0x7f) | if more { 0x80 } else { 0 });
        value >>= 7;
        if value == 0 {
            break;
        }
    }
    if pad > 0 {
        // The last byte written has its continuation bit set; append zero groups.
        for i in 0..pad {
            out.push(if i + 1 == pad { 0x00 } else { 0x80 });
        }
    } else if let Some(last) = out.last_mut() {
        *last &= 0x7f;
    }
}

pub fn tag(out: &mut Vec<u8>, field: u32, wire_type: u32) {
    varint(out, u64::from(field << 3 | wire_type), 0);
}

pub fn length_delimited(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    tag(out, field, 2);
    varint(out, body.len() as u64, 0);
    out.extend_from_slice(body);
}
