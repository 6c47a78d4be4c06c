//! Malformed inputs, each with the exact error kind, offset and field number expected.

use atomix_headers::DecodeErrorKind::{self, *};
use atomix_headers::{Message, RequestHeader, ResponseHeader, StreamHeader};

type Case = (
    &'static str,
    &'static [u8],
    DecodeErrorKind,
    usize,
    Option<u32>,
);

fn check<'a, M: Message<'a> + std::fmt::Debug>(cases: &'a [Case]) {
    for &(what, input, kind, offset, field) in cases {
        match M::decode(input) {
            Ok(m) => panic!("{what}: accepted as {m:?}"),
            Err(e) => assert_eq!(
                (e.kind(), e.offset(), e.field()),
                (kind, offset, field),
                "{what}: {e}"
            ),
        }
    }
}

#[test]
fn response_header() {
    const CASES: &[Case] = &[
        (
            "value truncated",
            &[0x08, 0x80],
            TruncatedVarint,
            1,
            Some(1),
        ),
        (
            "tag truncated",
            &[0x08, 0x01, 0x80],
            TruncatedVarint,
            2,
            None,
        ),
        (
            "11-byte varint",
            &[
                0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ],
            VarintTooLong,
            1,
            Some(2),
        ),
        (
            "10th byte continues",
            &[
                0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81,
            ],
            VarintTooLong,
            1,
            Some(2),
        ),
        (
            "6-byte tag",
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00],
            VarintTooLong,
            0,
            None,
        ),
        (
            "tag of 2^32",
            &[0x80, 0x80, 0x80, 0x80, 0x10, 0x00],
            TagOutOfRange,
            0,
            None,
        ),
        ("field 0", &[0x00, 0x01], FieldNumberZero, 0, None),
        ("wire type 6", &[0x4e, 0x00], InvalidWireType, 0, Some(9)),
        ("wire type 7", &[0x4f, 0x00], InvalidWireType, 0, Some(9)),
        (
            "leader past end",
            &[0x2a, 0x05, b'a', b'b'],
            TruncatedField,
            1,
            Some(5),
        ),
        (
            "leader not UTF-8",
            &[0x2a, 0x03, b'a', 0xc3, 0x28],
            InvalidUtf8,
            3,
            Some(5),
        ),
        (
            "unknown bytes past end",
            &[0x4a, 0x02, 0x00],
            TruncatedField,
            1,
            Some(9),
        ),
        (
            "6-byte length",
            &[0x4a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
            VarintTooLong,
            1,
            Some(9),
        ),
        (
            "fixed64 short",
            &[0x49, 1, 2, 3, 4, 5, 6, 7],
            TruncatedField,
            1,
            Some(9),
        ),
        (
            "fixed32 short",
            &[0x4d, 1, 2, 3],
            TruncatedField,
            1,
            Some(9),
        ),
        ("end group alone", &[0x4c], UnexpectedEndGroup, 0, Some(9)),
        (
            "end group mismatch",
            &[0x4b, 0x54],
            MismatchedEndGroup,
            1,
            Some(9),
        ),
        (
            "group unterminated",
            &[0x4b, 0x08, 0x01],
            UnterminatedGroup,
            0,
            Some(9),
        ),
        ("enum truncated", &[0x30, 0xff], TruncatedVarint, 1, Some(6)),
    ];
    check::<ResponseHeader>(CASES);
}

#[test]
fn request_header() {
    const CASES: &[Case] = &[
        (
            "name past end",
            &[0x0a, 0x05, 0x0a],
            TruncatedField,
            1,
            Some(1),
        ),
        (
            "name's child past its end",
            &[0x0a, 0x03, 0x0a, 0x05, b'a', b'b', b'c', b'd', b'e'],
            TruncatedField,
            3,
            Some(1),
        ),
        (
            "namespace not UTF-8",
            &[0x0a, 0x03, 0x12, 0x01, 0xff],
            InvalidUtf8,
            4,
            Some(2),
        ),
        (
            "stream truncated inside",
            &[0x2a, 0x01, 0x08],
            TruncatedVarint,
            3,
            Some(1),
        ),
        (
            "stray end group in stream",
            &[0x10, 0x01, 0x2a, 0x01, 0x0c],
            UnexpectedEndGroup,
            4,
            Some(1),
        ),
    ];
    check::<RequestHeader>(CASES);
}

#[test]
fn stream_header() {
    const CASES: &[Case] = &[
        ("empty-length varint", &[0x08], TruncatedVarint, 1, Some(1)),
        (
            "response_id truncated",
            &[0x08, 0x01, 0x10, 0x80, 0x80],
            TruncatedVarint,
            3,
            Some(2),
        ),
    ];
    check::<StreamHeader>(CASES);
}

fn nested_groups(n: usize) -> Vec<u8> {
    let mut v = vec![0x4b; n];
    v.extend(std::iter::repeat_n(0x4c, n));
    v
}

#[test]
fn depth_limits() {
    assert!(ResponseHeader::decode(&nested_groups(100)).is_ok());
    let err = ResponseHeader::decode(&nested_groups(101)).unwrap_err();
    assert_eq!((err.kind(), err.offset()), (RecursionLimitExceeded, 100));
    // Field number 0 is an error at top level, accepted inside a group (as upb does).
    assert_eq!(
        ResponseHeader::decode(&[0x00, 0x01]).unwrap_err().kind(),
        FieldNumberZero
    );
    assert!(ResponseHeader::decode(&[0x4b, 0x00, 0x01, 0x4c]).is_ok());
    // Inside `name` (and inside each stream) one level is already used.
    let inside = |field: u8, n: usize| {
        let body = nested_groups(n);
        let len = body.len();
        assert!((128..16384).contains(&len));
        let mut v = vec![field, (len as u8) | 0x80, (len >> 7) as u8];
        v.extend(body);
        v
    };
    assert!(RequestHeader::decode(&inside(0x0a, 99)).is_ok());
    assert_eq!(
        RequestHeader::decode(&inside(0x0a, 100))
            .unwrap_err()
            .kind(),
        RecursionLimitExceeded
    );
    assert!(RequestHeader::decode(&inside(0x2a, 99)).is_ok());
    assert_eq!(
        RequestHeader::decode(&inside(0x2a, 100))
            .unwrap_err()
            .kind(),
        RecursionLimitExceeded
    );
}

#[test]
fn display_reads_as_a_sentence() {
    let err = ResponseHeader::decode(&[0x2a, 0x01, 0xff]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid atomix.headers.ResponseHeader at byte 2 (leader): string field is not valid UTF-8"
    );
}

/// Every error names the path from the message decoded to the field at fault, by name
/// inside the schema and by number inside unknown fields, with a stream's position.
#[test]
fn errors_name_the_path_to_the_field() {
    use atomix_headers::{RequestEnvelope, ResponseEnvelope, StreamHeader};
    let cases: &[(&str, &[u8], &str, usize)] = &[
        // header { name { namespace: "\xff" } } and a delta
        (
            "envelope",
            b"\x0a\x05\x0a\x03\x12\x01\xff\x10\x01",
            "header.name.namespace",
            6,
        ),
        // three streams, the third's stream_id cut short
        (
            "request",
            b"\x2a\x02\x08\x01\x2a\x02\x08\x02\x2a\x01\x08",
            "streams[2].stream_id",
            11,
        ),
        // a stream's response_id cut short, inside an envelope's header
        (
            "envelope",
            b"\x0a\x04\x2a\x02\x10\x80",
            "header.streams[0].response_id",
            5,
        ),
        ("request", b"\x0a\x03\x0a\x01\xff", "name.name", 4),
        ("response", b"\x08\x80", "session_id", 1),
        // an unknown group 9 holding a group 1 holding a varint 1 cut short
        ("response", b"\x4b\x0b\x08", "9.1.1", 3),
        // an unknown length-delimited field 12 running past the end
        ("stream", b"\x62\x05\x01", "12", 1),
        // inside an envelope's unknown field: its number
        ("response-envelope", b"\x12\x05\x01", "2", 1),
        // the header itself cut short: the path is the header
        ("envelope", b"\x0a\x05\x08", "header", 1),
    ];
    for &(kind, wire, path, offset) in cases {
        let err = match kind {
            "envelope" => RequestEnvelope::decode(wire).unwrap_err(),
            "response-envelope" => ResponseEnvelope::decode(wire).unwrap_err(),
            "request" => RequestHeader::decode(wire).unwrap_err(),
            "response" => ResponseHeader::decode(wire).unwrap_err(),
            _ => StreamHeader::decode(wire).unwrap_err(),
        };
        assert_eq!(err.path().to_string(), path, "{kind} {wire:02x?}: {err}");
        assert_eq!(err.offset(), offset, "{kind} {wire:02x?}: {err}");
        assert!(err.to_string().contains(&format!("({path})")), "{err}");
        assert!(err.message().is_some());
    }
    // A framing error is the frame's, not a message's.
    let err = atomix_headers::grpc::split(&[0, 0xff, 0xff, 0xff, 0xff], 16).unwrap_err();
    assert!(err.message().is_none());
    assert_eq!(
        err.to_string(),
        "invalid frame at byte 1: frame length exceeds the configured limit"
    );
}
