//! The splice against decode, set, encode: the same message on every input that
//! decodes, and the same bytes on every canonical one.

use super::*;
use crate::{ResponseType, StreamHeader};
use std::vec::Vec;

/// A small deterministic generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A value of every varint length, 0 a fifth of the time.
    fn value(&mut self) -> u64 {
        match self.below(5) {
            0 => 0,
            _ => self.next() >> self.below(64),
        }
    }
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn field(number: u32, wire_type: u8, payload: &[u8], out: &mut Vec<u8>) {
    varint(u64::from(number) << 3 | u64::from(wire_type), out);
    if wire_type == 2 {
        varint(payload.len() as u64, out);
    }
    out.extend_from_slice(payload);
}

fn varint_field(number: u32, v: u64, out: &mut Vec<u8>) {
    let mut p = Vec::new();
    varint(v, &mut p);
    field(number, 0, &p, out);
}

/// A header's fields as `(number, bytes)`, in canonical order, each present or not,
/// and sometimes an unknown field at the end; `numbers` are the varint fields.
fn header_fields(rng: &mut Lcg, numbers: &[u32], len_fields: &[u32]) -> Vec<(u32, Vec<u8>)> {
    let mut fields = Vec::new();
    for number in 1..=8u32 {
        let mut f = Vec::new();
        if numbers.contains(&number) {
            let v = rng.value();
            if v != 0 {
                varint_field(number, v, &mut f);
            }
        } else if len_fields.contains(&number) && rng.below(3) != 0 {
            // A string, or a Name of one (field 1 of it).
            let len = rng.below(12) as usize;
            let text: Vec<u8> = (0..len).map(|i| b'a' + (i as u8 % 26)).collect();
            let mut body = Vec::new();
            field(1, 2, &text, &mut body);
            field(number, 2, if number == 1 { &body } else { &text }, &mut f);
        }
        if !f.is_empty() {
            fields.push((number, f));
        }
    }
    if rng.below(3) == 0 {
        let mut f = Vec::new();
        varint_field(20 + rng.below(5) as u32, rng.value(), &mut f);
        fields.push((99, f));
    }
    fields
}

/// Makes `fields` non-canonical in one of several ways, or leaves them.
fn disorder(rng: &mut Lcg, fields: &mut Vec<(u32, Vec<u8>)>, stamped: &[u32]) {
    match rng.below(6) {
        0 if fields.len() > 1 => {
            let i = rng.below(fields.len() as u64) as usize;
            let f = fields.remove(i);
            fields.insert(0, f);
        }
        1 => {
            // A stamped field twice, the first to be overridden.
            let n = stamped[rng.below(stamped.len() as u64) as usize];
            let mut f = Vec::new();
            varint_field(n, rng.value() | 1, &mut f);
            fields.insert(0, (n, f));
        }
        2 => {
            // A stamped number with another wire type: an unknown field upb keeps.
            let n = stamped[rng.below(stamped.len() as u64) as usize];
            let mut f = Vec::new();
            field(n, 2, b"xy", &mut f);
            fields.push((n, f));
        }
        _ => {}
    }
}

fn envelope(rng: &mut Lcg, header: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut op = Vec::new();
    field(2, 2, b"some-key", &mut op);
    if rng.below(2) == 0 {
        varint_field(4, rng.value(), &mut op);
    }
    match rng.below(8) {
        // The header after the operation, or twice: spliced by encoding.
        0 => {
            out.extend_from_slice(&op);
            field(1, 2, header, &mut out);
        }
        1 => {
            field(1, 2, header, &mut out);
            out.extend_from_slice(&op);
            field(1, 2, &[0x20, 0x05], &mut out);
        }
        _ => {
            field(1, 2, header, &mut out);
            out.extend_from_slice(&op);
        }
    }
    out
}

/// Splices `$source` with `$stamp` and checks it against decode, set, encode.
macro_rules! check {
    ($header:ident, $source:expr, $stamp:expr) => {{
        let source: &[u8] = $source;
        if let Ok(decoded) = Envelope::<$header>::decode(source) {
            let mut spliced = Vec::new();
            decoded.splice(source, $stamp, &mut spliced).unwrap();
            let mut set = decoded;
            set.header.get_or_insert_default().apply($stamp);
            let encoded = set.encode_to_vec().unwrap();
            if decoded.encode_to_vec().unwrap() == source {
                assert_eq!(spliced, encoded, "canonical {source:02x?}");
            }
            // The same message: its canonical encoding is the same.
            let back = Envelope::<$header>::decode(&spliced).unwrap();
            assert_eq!(
                back.encode_to_vec().unwrap(),
                encoded,
                "{source:02x?} -> {spliced:02x?}"
            );
        }
    }};
}

#[test]
fn request_splices_match_decode_set_encode() {
    let mut rng = Lcg(1);
    let mut canonical = 0;
    for _ in 0..20_000 {
        let mut fields = header_fields(&mut rng, &[2, 3, 4], &[1]);
        // streams: field 5, canonical StreamHeaders
        for _ in 0..rng.below(3) {
            let mut s = Vec::new();
            varint_field(1, rng.value() | 1, &mut s);
            let mut f = Vec::new();
            field(5, 2, &s, &mut f);
            let at = fields
                .iter()
                .position(|(n, _)| *n > 5)
                .unwrap_or(fields.len());
            fields.insert(at, (5, f));
        }
        disorder(&mut rng, &mut fields, &[2, 3, 4]);
        let header: Vec<u8> = fields.into_iter().flat_map(|(_, f)| f).collect();
        let source = envelope(&mut rng, &header);
        let some = |rng: &mut Lcg| (rng.below(4) != 0).then(|| rng.value());
        let stamp = RequestStamp {
            session_id: some(&mut rng),
            request_id: some(&mut rng),
            index: some(&mut rng),
        };
        if let Ok(decoded) = RequestEnvelope::decode(&source) {
            canonical += (decoded.encode_to_vec().unwrap() == source) as u32;
        }
        check!(RequestHeader, &source, &stamp);
    }
    assert!(canonical > 5_000, "canonical inputs: {canonical}");
}

#[test]
fn response_splices_match_decode_set_encode() {
    let mut rng = Lcg(2);
    for _ in 0..20_000 {
        let mut fields = header_fields(&mut rng, &[1, 2, 3, 4, 6, 7], &[5]);
        disorder(&mut rng, &mut fields, &[1, 2, 3, 4, 7]);
        let header: Vec<u8> = fields.into_iter().flat_map(|(_, f)| f).collect();
        let source = envelope(&mut rng, &header);
        let some = |rng: &mut Lcg| (rng.below(3) != 0).then(|| rng.value());
        let stamp = ResponseStamp {
            session_id: some(&mut rng),
            stream_id: some(&mut rng),
            response_id: some(&mut rng),
            index: some(&mut rng),
            r#type: (rng.below(2) == 0).then(|| ResponseType::from_value(rng.below(4) as i32 - 1)),
        };
        check!(ResponseHeader, &source, &stamp);
    }
}

#[test]
fn a_buffer_without_room_gets_nothing() {
    let source = [0x0a, 0x02, 0x10, 0x07, 0x12, 0x01, b'k'];
    let decoded = RequestEnvelope::decode(&source).unwrap();
    let stamp = RequestStamp {
        index: Some(1 << 40),
        ..Default::default()
    };
    let mut out = [0u8; 8];
    let err = decoded
        .splice(&source, &stamp, &mut &mut out[..])
        .unwrap_err();
    assert_eq!(err.needed(), 2 + 2 + 7 + 3);
    assert_eq!(out, [0; 8]);
    let _ = StreamHeader::default();
}

#[test]
fn other_fields_are_copied_not_encoded() {
    // header { session_id: 7, name { name: "m" } }, out of number order, then key "k":
    // encoding puts the name first; the splice copies it where it stood.
    let source = [
        0x0a, 0x07, 0x10, 0x07, 0x0a, 0x03, 0x0a, 0x01, b'm', 0x12, 0x01, b'k',
    ];
    let decoded = RequestEnvelope::decode(&source).unwrap();
    let stamp = RequestStamp {
        session_id: Some(9),
        index: Some(1),
        ..Default::default()
    };
    let mut out = Vec::new();
    decoded.splice(&source, &stamp, &mut out).unwrap();
    assert_eq!(
        out,
        [0x0a, 0x09, 0x10, 0x09, 0x20, 0x01, 0x0a, 0x03, 0x0a, 0x01, b'm', 0x12, 0x01, b'k']
    );
    // A session_id after the name would win over the stamp: that source is encoded.
    let later = [
        0x0a, 0x09, 0x0a, 0x03, 0x0a, 0x01, b'm', 0x10, 0x07, 0x10, 0x08,
    ];
    let decoded = RequestEnvelope::decode(&later[..]).unwrap();
    let mut out = Vec::new();
    decoded.splice(&later, &stamp, &mut out).unwrap();
    assert_eq!(
        RequestEnvelope::decode(&out)
            .unwrap()
            .header
            .unwrap()
            .session_id,
        9
    );
}

#[test]
fn random_bytes_that_decode_splice_without_panic_to_the_same_message() {
    let mut rng = Lcg(3);
    let mut decoded = 0;
    for _ in 0..200_000 {
        let len = rng.below(24) as usize;
        // Mostly small bytes, so that tags and lengths are often well formed.
        let mut source: Vec<u8> = (0..len).map(|_| (rng.next() % 40) as u8).collect();
        if rng.below(2) == 0 {
            source.insert(0, 0x0a);
            if len > 0 {
                source.insert(1, (rng.below(len as u64 + 1)) as u8);
            }
        }
        let stamp = RequestStamp {
            session_id: Some(rng.value()),
            request_id: None,
            index: Some(rng.value()),
        };
        decoded += RequestEnvelope::decode(&source).is_ok() as u32;
        check!(RequestHeader, &source, &stamp);
        let stamp = ResponseStamp {
            session_id: Some(rng.value()),
            r#type: Some(ResponseType::from_value(-1)),
            ..Default::default()
        };
        check!(ResponseHeader, &source, &stamp);
    }
    assert!(decoded > 5_000, "{decoded} decoded");
}
