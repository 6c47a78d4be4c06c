//! Encoding: exact sizes, every kind of destination, all-or-nothing on a short buffer,
//! the canonical rules of the semantics page, and length-delimited helpers.

use atomix_headers::{
    Message, Name, Progress, RequestHeader, ResponseHeader, ResponseStatus, ResponseType,
    StreamHeader, Streams, UnknownFields,
};
use bytes::BufMut;

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn typical_streams() -> [StreamHeader<'static>; 2] {
    [
        StreamHeader {
            stream_id: 1,
            response_id: 2,
            ..Default::default()
        },
        StreamHeader {
            stream_id: 3,
            ..Default::default()
        },
    ]
}

#[test]
fn request_built_from_a_slice_of_streams() {
    let streams = typical_streams();
    let request = RequestHeader {
        name: Some(Name {
            name: "m",
            namespace: "d",
            ..Default::default()
        }),
        session_id: 300,
        streams: Streams::from_slice(&streams),
        ..Default::default()
    };
    let expected = unhex("0a06 0a016d 120164  10ac02  2a04 0801 1002  2a02 0803");
    assert_eq!(request.encoded_len(), expected.len());
    assert_eq!(request.encode_to_vec().unwrap(), expected);
}

#[test]
fn every_destination_gets_the_same_bytes() {
    let leader = "x".repeat(300); // larger than the stack fast path
    for leader in ["raft-node-2:5678", leader.as_str()] {
        let response = ResponseHeader {
            session_id: 1,
            leader,
            status: ResponseStatus::ERROR,
            ..Default::default()
        };
        let expected = response.encode_to_vec().unwrap();
        assert_eq!(expected.len(), response.encoded_len());

        let mut bytes_mut = bytes::BytesMut::new();
        response.encode(&mut bytes_mut).unwrap();
        assert_eq!(&bytes_mut[..], &expected[..]);

        let mut array = [0u8; 512];
        let mut dest = &mut array[..];
        response.encode(&mut dest).unwrap();
        let left = dest.remaining_mut();
        assert_eq!(&array[..512 - left], &expected[..]);

        let mut array = [0u8; 512];
        assert_eq!(response.encode_to_slice(&mut array), Ok(expected.len()));
        assert_eq!(&array[..expected.len()], &expected[..]);
    }
}

#[test]
fn short_destination_is_an_error_and_nothing_is_written() {
    let response = ResponseHeader {
        session_id: u64::MAX,
        leader: "leader",
        ..Default::default()
    };
    let len = response.encoded_len();
    let mut array = [0xeeu8; 64];
    let mut dest = &mut array[..len - 1];
    let err = response.encode(&mut dest).unwrap_err();
    assert_eq!((err.needed(), err.remaining()), (len, len - 1));
    assert_eq!(dest.len(), len - 1, "the slice was not advanced");
    assert!(array.iter().all(|&b| b == 0xee), "nothing was written");
    let err = response.encode_to_slice(&mut array[..3]).unwrap_err();
    assert_eq!(err.needed(), len);
    assert!(array.iter().all(|&b| b == 0xee));
    let mut dest = &mut array[..len];
    let err = response.encode_length_delimited(&mut dest).unwrap_err();
    assert_eq!(err.needed(), len + 1);
    assert!(array.iter().all(|&b| b == 0xee));
}

#[test]
fn defaults_are_omitted_and_negative_enums_take_ten_bytes() {
    assert_eq!(ResponseHeader::default().encode_to_vec().unwrap(), b"");
    assert_eq!(StreamHeader::default().encoded_len(), 0);
    let response = ResponseHeader {
        status: ResponseStatus::from_value(-1),
        ..Default::default()
    };
    assert_eq!(
        response.encode_to_vec().unwrap(),
        unhex("30 ffffffffffffffffff01")
    );
    let response = ResponseHeader {
        r#type: ResponseType::CLOSE_STREAM,
        ..Default::default()
    };
    assert_eq!(response.encode_to_vec().unwrap(), unhex("3802"));
}

#[test]
fn empty_name_and_empty_streams_are_written() {
    let streams = [StreamHeader::default(); 2];
    let request = RequestHeader {
        name: Some(Name::default()),
        streams: (&streams).into(),
        ..Default::default()
    };
    assert_eq!(request.encode_to_vec().unwrap(), unhex("0a00 2a00 2a00"));
}

#[test]
fn name_occurrences_merge() {
    // From the semantics page.
    let input = unhex("0a05 1801 0a0161  0a05 2005 120162");
    let request = RequestHeader::decode(&input).unwrap();
    let name = request.name.unwrap();
    assert_eq!((name.name, name.namespace), ("a", "b"));
    let unknown: Vec<_> = name.unknown_fields.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(unknown, [&[0x18, 0x01][..], &[0x20, 0x05][..]]);
    assert_eq!(
        request.encode_to_vec().unwrap(),
        unhex("0a0a 0a0161 120162 1801 2005")
    );
    // A later empty string overwrites; an absent one does not.
    let input = unhex("0a03 0a0161  0a02 0a00  0a03 120162");
    let name = RequestHeader::decode(&input).unwrap().name.unwrap();
    assert_eq!((name.name, name.namespace), ("", "b"));
}

#[test]
fn streams_interleaved_with_other_fields() {
    let input = unhex("2a02 0801  2005  2a02 1002");
    let request = RequestHeader::decode(&input).unwrap();
    let streams: Vec<_> = request
        .streams
        .iter()
        .map(|s| (s.stream_id, s.response_id))
        .collect();
    assert_eq!(streams, [(1, 0), (0, 2)]);
    assert_eq!(
        request.encode_to_vec().unwrap(),
        unhex("2005 2a020801 2a021002")
    );
}

#[test]
fn non_canonical_streams_are_canonicalised() {
    // Overlong varint, a zero field, unknown field first, and an overlong length.
    let input = unhex("2a03 088100  2a04 1000 0801  2a04 3001 0801  2a8000");
    let request = RequestHeader::decode(&input).unwrap();
    assert_eq!(
        request.encode_to_vec().unwrap(),
        unhex("2a020801 2a020801 2a0408013001 2a00")
    );
    assert_eq!(request.encoded_len(), 16);
}

#[test]
fn unknown_fields_survive_a_rewrite_verbatim() {
    // Overlong tag for an unknown field, a wrong-wire-type known field, a group.
    let input = unhex("c880808000 01  0d01000000  0805  5b 0801 5c");
    let mut response = ResponseHeader::decode(&input).unwrap();
    assert_eq!(response.session_id, 5);
    response.index = 1;
    assert_eq!(
        response.encode_to_vec().unwrap(),
        unhex("0805 2001 c88080800001 0d01000000 5b08015c")
    );
}

#[test]
fn unknown_fields_can_be_added_to_built_messages() {
    let extra = unhex("4202 6869");
    let response = ResponseHeader {
        session_id: 1,
        unknown_fields: UnknownFields::from_bytes::<ResponseHeader>(&extra).unwrap(),
        ..Default::default()
    };
    assert_eq!(response.encode_to_vec().unwrap(), unhex("0801 42026869"));
    assert!(UnknownFields::from_bytes::<ResponseHeader>(&[0x42, 0x05]).is_err());
}

#[test]
fn length_delimited_round_trip_and_partial_frames() {
    let streams = typical_streams();
    let request = RequestHeader {
        index: 9,
        streams: (&streams).into(),
        ..Default::default()
    };
    let mut buf = Vec::new();
    request.encode_length_delimited(&mut buf).unwrap();
    let response = ResponseHeader {
        leader: "l",
        ..Default::default()
    };
    response.encode_length_delimited(&mut buf).unwrap();

    let Progress::Complete((decoded, used)) = RequestHeader::decode_length_delimited(&buf).unwrap()
    else {
        panic!("complete")
    };
    assert_eq!(decoded, request);
    assert_eq!(used, 1 + request.encoded_len());
    let Progress::Complete((second, used2)) =
        ResponseHeader::decode_length_delimited(&buf[used..]).unwrap()
    else {
        panic!("complete")
    };
    assert_eq!((second, used + used2), (response, buf.len()));

    for cut in 0..used {
        match RequestHeader::decode_length_delimited(&buf[..cut]).unwrap() {
            Progress::Partial(needed) => {
                assert!(needed >= 1 && cut + needed <= used, "cut {cut}: {needed}")
            }
            Progress::Complete(_) => panic!("cut {cut} complete"),
        }
    }
    // A complete frame with a malformed body is an error, not a request for more bytes.
    let err = ResponseHeader::decode_length_delimited(&[0x02, 0x2a, 0x05]).unwrap_err();
    assert_eq!((err.offset(), err.field()), (2, Some(5)));
}

/// Issue 16, finding 5: building a header through the public API must never make it
/// encode bytes that decode differently, or that the decoder rejects.
#[test]
fn unknown_fields_that_name_a_known_field_are_refused_at_construction() {
    use atomix_headers::{RequestEnvelope, StreamHeader, UnknownFieldsError};
    // StreamHeader { stream_id: 5, unknown: 08 01 } would encode 08 05 08 01, read back
    // as stream_id 1.
    let err = UnknownFields::from_bytes::<StreamHeader>(&[0x08, 0x01]).unwrap_err();
    assert_eq!(
        err,
        UnknownFieldsError::KnownField {
            number: 1,
            wire_type: 0,
            offset: 0
        }
    );
    // A leader that is not UTF-8 would make our own decoder reject the encoding.
    let err = UnknownFields::from_bytes::<ResponseHeader>(&[0x2a, 0x01, 0xff]).unwrap_err();
    assert!(matches!(
        err,
        UnknownFieldsError::KnownField { number: 5, .. }
    ));
    // An overlong tag is still the known field.
    let err = UnknownFields::from_bytes::<StreamHeader>(&[0x90, 0x00, 0x01]).unwrap_err();
    assert!(matches!(
        err,
        UnknownFieldsError::KnownField { number: 2, .. }
    ));
    // A second header in an envelope's other fields would merge into the header.
    let err = UnknownFields::from_bytes::<RequestEnvelope>(&[0x12, 0x00, 0x0a, 0x00]).unwrap_err();
    assert!(matches!(
        err,
        UnknownFieldsError::KnownField {
            number: 1,
            offset: 2,
            ..
        }
    ));
    // The same numbers with other wire types are unknown, and round-trip.
    let extra = UnknownFields::from_bytes::<StreamHeader>(&[0x0d, 1, 2, 3, 4, 0x12, 0x00]).unwrap();
    let stream = StreamHeader {
        stream_id: 5,
        unknown_fields: extra,
        ..Default::default()
    };
    assert_eq!(
        StreamHeader::decode(&stream.encode_to_vec().unwrap()).unwrap(),
        stream
    );
    // Malformed bytes, and groups nested deeper than any position allows.
    assert!(matches!(
        UnknownFields::from_bytes::<StreamHeader>(&[0x1a, 0x05]),
        Err(UnknownFieldsError::Malformed(_))
    ));
    // 98 groups of field 9 (start 0x4b, end 0x4c), one inside the other.
    let mut deep = vec![0x4b; 98];
    deep.extend(std::iter::repeat_n(0x4c, 98));
    assert!(UnknownFields::from_bytes::<StreamHeader>(&deep).is_err());
    assert!(UnknownFields::from_bytes::<StreamHeader>(&deep[1..deep.len() - 1]).is_ok());
}

/// `depth` groups of field 9, one inside the other.
fn nested_groups(depth: usize) -> Vec<u8> {
    let mut bytes = vec![0x4b; depth];
    bytes.extend(std::iter::repeat_n(0x4c, depth));
    bytes
}

/// A length-delimited field: `tag`, the varint length of `body`, `body`.
fn delimited(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut field = vec![tag];
    prost::encoding::encode_varint(body.len() as u64, &mut field);
    field.extend_from_slice(body);
    field
}

/// The deepest nesting of groups that `decode` accepts in `wrap(groups)`.
fn deepest_accepted(decode: impl Fn(&[u8]) -> bool, wrap: impl Fn(Vec<u8>) -> Vec<u8>) -> usize {
    let deepest = (0..120)
        .take_while(|&d| decode(&wrap(nested_groups(d))))
        .last();
    deepest.expect("no groups at all is accepted")
}

/// Asserts that every way of encoding `message` refuses it, writing nothing.
fn refused_everywhere<'a, M: Message<'a>>(message: &M) {
    use atomix_headers::{grpc, EncodeErrorKind};
    let is_refusal =
        |e: atomix_headers::EncodeError| e.kind() == EncodeErrorKind::InvalidUnknownFields;
    let mut out = Vec::with_capacity(4096);
    assert!(
        message.encode(&mut out).is_err_and(is_refusal),
        "{message:?}"
    );
    assert!(message
        .encode_length_delimited(&mut out)
        .is_err_and(is_refusal));
    assert!(grpc::encode(message, &mut out).is_err_and(is_refusal));
    assert!(out.is_empty());
    let mut slice = [0u8; 4096];
    assert!(message.encode_to_slice(&mut slice).is_err_and(is_refusal));
    assert!(slice.iter().all(|&b| b == 0));
    assert!(message.encode_to_vec().is_err_and(is_refusal));
}

/// Asserts that a message of type `$type` encodes, and decodes back equal.
macro_rules! round_trips {
    ($message:expr, $type:ident) => {{
        let message = &$message;
        let bytes = message.encode_to_vec().unwrap();
        assert_eq!($type::decode(&bytes).unwrap(), *message);
    }};
}

/// Issue 16, finding 5, the rest: unknown fields decoded or built for one message type and
/// put into another, where the other knows one of them, are refused by every encoding
/// method; put where no field is known, they encode and decode back equal.
#[test]
fn unknown_fields_moved_to_a_message_that_knows_them_are_refused() {
    use atomix_headers::{RequestEnvelope, ResponseEnvelope};
    // Field 1 as a length-delimited field: unknown to a ResponseHeader, a RequestHeader's
    // name.
    let built = UnknownFields::from_bytes::<ResponseHeader>(&[0x0a, 0x00]).unwrap();
    let wire = [0x08, 0x07, 0x0a, 0x00];
    let decoded = ResponseHeader::decode(&wire).unwrap().unknown_fields;
    for fields in [built, decoded] {
        let request = RequestHeader {
            unknown_fields: fields,
            index: 3,
            ..Default::default()
        };
        refused_everywhere(&request);
        let envelope = RequestEnvelope {
            header: Some(request),
            ..Default::default()
        };
        refused_everywhere(&envelope);
        let stream = StreamHeader {
            unknown_fields: fields,
            stream_id: 2,
            ..Default::default()
        };
        round_trips!(stream, StreamHeader);
        let streams = [stream];
        let request = RequestHeader {
            streams: Streams::from_slice(&streams),
            ..Default::default()
        };
        round_trips!(request, RequestHeader);
    }
    // An envelope's other fields moved into its header: field 2 as a varint is a
    // ResponseHeader's stream_id.
    let wire = [0x0a, 0x02, 0x08, 0x01, 0x10, 0x05];
    let envelope = ResponseEnvelope::decode(&wire).unwrap();
    let mut header = envelope.header.unwrap();
    header.unknown_fields = envelope.operation;
    refused_everywhere(&header);
    refused_everywhere(&ResponseEnvelope {
        header: Some(header),
        ..envelope
    });
    // A StreamHeader's fields in a Name, which knows field 2 as a string.
    let stream = StreamHeader::decode(&[0x12, 0x01, 0xff]).unwrap();
    let name = Name {
        unknown_fields: stream.unknown_fields,
        ..Default::default()
    };
    refused_everywhere(&name);
    refused_everywhere(&RequestHeader {
        name: Some(name),
        ..Default::default()
    });
}

/// Issue 16, finding 5, the rest: unknown fields that were checked against the recursion
/// limit in one place are refused deeper down, where their groups would nest past it.
#[test]
fn unknown_fields_moved_deeper_than_their_groups_allow_are_refused() {
    use atomix_headers::RequestEnvelope;
    let name_at_top = deepest_accepted(|b| Name::decode(b).is_ok(), |g| g);
    let name_in_request = deepest_accepted(
        |b| RequestHeader::decode(b).is_ok(),
        |g| delimited(0x0a, &g),
    );
    assert_eq!(name_in_request + 1, name_at_top);

    // A Name decoded on its own, with its groups as deep as the top allows, cannot go
    // into a RequestHeader; one level less can, but not into an envelope.
    let deep = nested_groups(name_at_top);
    let name = Name::decode(&deep).unwrap();
    round_trips!(name, Name);
    refused_everywhere(&RequestHeader {
        name: Some(name),
        ..Default::default()
    });
    let less = nested_groups(name_in_request);
    let name = Name::decode(&less).unwrap();
    let request = RequestHeader {
        name: Some(name),
        session_id: 1,
        ..Default::default()
    };
    round_trips!(request, RequestHeader);
    refused_everywhere(&RequestEnvelope {
        header: Some(request),
        ..Default::default()
    });

    // The same for streams still in the input: a RequestHeader decoded at the top, its
    // streams' groups as deep as that allows, cannot go into an envelope. Six streams,
    // more than are kept decoded.
    let stream_in_request = |depth: usize| delimited(0x2a, &nested_groups(depth)).repeat(6);
    let deepest = deepest_accepted(
        |b| RequestHeader::decode(b).is_ok(),
        |g| stream_in_request(g.len() / 2),
    );
    let wire = stream_in_request(deepest);
    let request = RequestHeader::decode(&wire).unwrap();
    assert_eq!(request.streams.len(), 6);
    round_trips!(request, RequestHeader);
    refused_everywhere(&RequestEnvelope {
        header: Some(request),
        ..Default::default()
    });
    // Copied into a slice, each stream is checked on its own, with the same outcome.
    let streams: Vec<StreamHeader> = request.streams.iter().collect();
    let rebuilt = RequestHeader {
        streams: Streams::from_slice(&streams),
        ..Default::default()
    };
    round_trips!(rebuilt, RequestHeader);
    refused_everywhere(&RequestEnvelope {
        header: Some(rebuilt),
        ..Default::default()
    });
    // One level less fits in the envelope.
    let wire = stream_in_request(deepest - 1);
    let request = RequestHeader::decode(&wire).unwrap();
    let envelope = RequestEnvelope {
        header: Some(request),
        ..Default::default()
    };
    round_trips!(envelope, RequestEnvelope);
}
