//! The cheap upper bound that lets `encode` skip the exact length, and the two ways of
//! writing that it chooses between.

use super::Message;
use crate::{Name, RequestHeader, ResponseHeader, ResponseStatus, ResponseType, StreamHeader};
use crate::{Streams, UnknownFields};
use bytes::BufMut;

/// Every value at its widest and narrowest: zero, one byte, ten bytes, negative enums.
const VALUES: [u64; 4] = [0, 1, 1 << 35, u64::MAX];
const STRINGS: [&str; 3] = ["", "m", "a-namespace-long-enough-for-a-two-byte-length-prefix-a-namespace-long-enough-for-a-two-byte-length-prefix"];

fn check<'a, M: Message<'a>>(message: &M) {
    let exact = message.encoded_len();
    assert!(
        message.max_encoded_len() >= exact,
        "bound {} < {exact}",
        message.max_encoded_len()
    );
    let mut out = Vec::new();
    message.encode(&mut out).unwrap();
    assert_eq!(out.len(), exact);
    // A buffer of exactly the encoded length is enough, one byte less is refused.
    let mut room = vec![0u8; exact];
    message.encode(&mut &mut room[..]).unwrap();
    assert_eq!(room, out);
    if exact > 0 {
        let mut short = vec![0u8; exact - 1];
        assert!(message.encode(&mut &mut short[..]).is_err());
    }
    // Into a chunk of spare capacity that holds the bound (a `Vec` with room, after
    // bytes already there), and a byte or slice at a time (two slices chained, the
    // first too short for the bound): the same bytes, prefixed or not.
    let bound = message.max_encoded_len() + 10;
    let mut roomy = Vec::with_capacity(4 + bound);
    roomy.extend_from_slice(b"head");
    message.encode(&mut roomy).unwrap();
    assert_eq!(roomy[..4], *b"head");
    assert_eq!(roomy[4..], out[..]);
    // Chunks from the exact length to a little more than the longest varint field: the
    // last fields are written near the chunk's end, each byte checked, and the others
    // each checked once.
    for extra in 0..=12 {
        let mut tight = Vec::with_capacity(exact + extra);
        message.encode(&mut tight).unwrap();
        assert_eq!(tight, out, "a chunk {extra} bytes over the exact length");
    }
    let mut prefixed = Vec::with_capacity(bound);
    message.encode_length_delimited(&mut prefixed).unwrap();
    let mut first = [0u8; 1];
    let mut second = vec![0u8; bound];
    let mut chained = (&mut first[..]).chain_mut(&mut second[..]);
    message.encode_length_delimited(&mut chained).unwrap();
    let left = chained.remaining_mut();
    let mut through_chain = first.to_vec();
    through_chain.extend_from_slice(&second[..bound - left]);
    assert_eq!(through_chain, prefixed);
    assert_eq!(prefixed[prefixed.len() - exact..], out[..]);
}

#[test]
// Every literal ends in `..Default::default()`, even where it names every field today, so
// that a field added to the declaration needs no edit here (tests/declaration.rs sets
// each field at its longest).
#[allow(clippy::needless_update)]
fn the_bound_holds_and_short_buffers_are_refused() {
    let unknown =
        UnknownFields::from_bytes::<StreamHeader>(&[0x78, 0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap();
    let streams: Vec<StreamHeader> = VALUES
        .iter()
        .map(|&v| StreamHeader {
            stream_id: v,
            response_id: v,
            unknown_fields: unknown,
            ..Default::default()
        })
        .collect();
    for &v in &VALUES {
        for unknown_fields in [UnknownFields::EMPTY, unknown] {
            check(&StreamHeader {
                stream_id: v,
                response_id: v,
                unknown_fields,
                ..Default::default()
            });
            for leader in STRINGS {
                for status in [0, 1, -1, i32::MIN] {
                    check(&ResponseHeader {
                        session_id: v,
                        stream_id: v,
                        response_id: v,
                        index: v,
                        leader,
                        status: ResponseStatus::from_value(status),
                        r#type: ResponseType::from_value(status),
                        unknown_fields,
                        ..Default::default()
                    });
                }
                let name = Name {
                    name: leader,
                    namespace: leader,
                    unknown_fields,
                    ..Default::default()
                };
                check(&name);
                for name in [None, Some(name)] {
                    for count in [0, 1, VALUES.len()] {
                        check(&RequestHeader {
                            name,
                            session_id: v,
                            request_id: v,
                            index: v,
                            streams: Streams::from_slice(&streams[..count]),
                            unknown_fields,
                            ..Default::default()
                        });
                    }
                }
            }
        }
    }
}

#[test]
fn names_of_every_short_length_encode_alike_every_way() {
    // Names of 4 to 16 bytes are copied as two overlapping words; around and between
    // those lengths, each byte must land where `memcpy` would put it.
    let text: String = ('a'..='z').collect();
    for len in 0..=20 {
        for other in [0, 5, 13] {
            let name = Name {
                name: &text[..len],
                namespace: &text[26 - other..],
                ..Default::default()
            };
            check(&name);
            let mut expected = Vec::new();
            for (tag, s) in [(0x0a, name.name), (0x12, name.namespace)] {
                if !s.is_empty() {
                    expected.extend_from_slice(&[tag, s.len() as u8]);
                    expected.extend_from_slice(s.as_bytes());
                }
            }
            let mut roomy = Vec::with_capacity(128);
            name.encode(&mut roomy).unwrap();
            assert_eq!(roomy, expected, "name of {len} bytes, namespace of {other}");
        }
    }
}

/// A StreamHeader's fast path reads its ids from a window when ten bytes follow the
/// message and checks each byte otherwise: every pair of id lengths, 1 to 10 bytes,
/// decodes the same on its own, in a frame followed by 0 to 12 bytes, and inside a
/// RequestHeader's streams (last, or followed by another).
#[test]
fn stream_ids_of_every_length_read_alike_with_and_without_bytes_after() {
    let of_length = |bytes: u32| match bytes {
        1 => 1,
        10 => u64::MAX - 5,
        n => (1u64 << (7 * (n - 1))) + 3,
    };
    let mut compared = 0;
    for a in 1..=10 {
        for b in 1..=10 {
            let stream = StreamHeader {
                stream_id: of_length(a),
                response_id: of_length(b),
                ..Default::default()
            };
            let bytes = stream.encode_to_vec().unwrap();
            assert_eq!(StreamHeader::decode(&bytes).unwrap(), stream);
            for after in 0..=12 {
                let mut framed = Vec::new();
                stream.encode_length_delimited(&mut framed).unwrap();
                let frame_len = framed.len();
                framed.extend(core::iter::repeat_n(0x80, after));
                let Ok(crate::Progress::Complete((decoded, used))) =
                    StreamHeader::decode_length_delimited(&framed)
                else {
                    panic!("{a} {b} {after}: not decoded");
                };
                assert_eq!((decoded, used), (stream, frame_len), "{a} {b} {after}");
                compared += 1;
            }
            let streams = [stream, stream];
            for count in 1..=2 {
                let request = RequestHeader {
                    streams: Streams::from_slice(&streams[..count]),
                    ..Default::default()
                };
                let bytes = request.encode_to_vec().unwrap();
                let decoded = RequestHeader::decode(&bytes).unwrap();
                assert!(decoded.streams.iter().eq(streams[..count].iter().copied()));
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 100 * 15);
}
