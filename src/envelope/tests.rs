use super::*;
use crate::StreamHeader;

fn request(bytes: &[u8]) -> RequestEnvelope<'_> {
    RequestEnvelope::decode(bytes).unwrap()
}

#[test]
fn empty_message_has_no_header() {
    let envelope = request(&[]);
    assert_eq!(envelope.header, None);
    assert!(envelope.operation.is_empty());
    assert!(envelope.encode_to_vec().unwrap().is_empty());
}

#[test]
fn header_first_and_once_takes_the_fast_path_and_round_trips() {
    // header { session_id: 7 }, delta: 5, an unknown fixed32 field 9
    let wire = [0x0a, 0x02, 0x10, 0x07, 0x10, 0x05, 0x4d, 1, 2, 3, 4];
    let envelope = request(&wire);
    assert_eq!(envelope.header.unwrap().session_id, 7);
    assert_eq!(envelope.operation.as_contiguous(), Some(&wire[4..]));
    assert_eq!(envelope.encode_to_vec().unwrap(), wire);
}

#[test]
fn header_after_other_fields_is_written_first() {
    // delta: 5, then header { index: 3 }
    let wire = [0x10, 0x05, 0x0a, 0x02, 0x20, 0x03];
    let envelope = request(&wire);
    assert_eq!(envelope.header.unwrap().index, 3);
    assert_eq!(
        envelope.encode_to_vec().unwrap(),
        [0x0a, 0x02, 0x20, 0x03, 0x10, 0x05]
    );
}

#[test]
fn field_one_of_another_wire_type_is_kept_as_another_field() {
    let wire = [0x08, 0x01, 0x0a, 0x00];
    let envelope = request(&wire);
    assert_eq!(envelope.header, Some(RequestHeader::default()));
    let kept: Vec<_> = envelope.operation.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(kept, [&[0x08, 0x01][..]]);
    assert_eq!(envelope.encode_to_vec().unwrap(), [0x0a, 0x00, 0x08, 0x01]);
}

#[test]
fn several_headers_merge_as_protobuf_merges_them() {
    // header { session_id: 1 name { name: "a" 3: 1 } streams { stream_id: 1 } 9: 1 }
    // key: "k"
    // header { session_id: 0 name { namespace: "b" 4: 2 } streams { stream_id: 2 } 10: 2 }
    let wire = [
        0x0a, 0x0f, 0x10, 0x01, 0x0a, 0x05, 0x0a, 0x01, b'a', 0x18, 0x01, 0x2a, 0x02, 0x08, 0x01,
        0x48, 0x01, //
        0x12, 0x01, b'k', //
        0x0a, 0x0f, 0x10, 0x00, 0x0a, 0x05, 0x12, 0x01, b'b', 0x20, 0x02, 0x2a, 0x02, 0x08, 0x02,
        0x50, 0x02,
    ];
    let envelope = request(&wire);
    let header = envelope.header.unwrap();
    assert_eq!(header.session_id, 0, "a scalar present later overwrites");
    let name = header.name.unwrap();
    assert_eq!((name.name, name.namespace), ("a", "b"));
    let name_unknown: Vec<_> = name.unknown_fields.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(name_unknown, [&[0x18, 0x01][..], &[0x20, 0x02]]);
    let ids: Vec<_> = header.streams.iter().map(|s| s.stream_id).collect();
    assert_eq!(ids, [1, 2]);
    let unknown: Vec<_> = header.unknown_fields.iter().map(|f| f.as_bytes()).collect();
    assert_eq!(unknown, [&[0x48, 0x01][..], &[0x50, 0x02]]);
    assert_eq!(header.unknown_fields.encoded_len(), 4);
    assert_eq!(envelope.last_field(2).unwrap().payload(), Some(&b"k"[..]));

    // What the merged message re-encodes to, written out by hand.
    let merged = [
        0x0a, 0x18, // header, 24 bytes
        0x0a, 0x0a, 0x0a, 0x01, b'a', 0x12, 0x01, b'b', 0x18, 0x01, 0x20, 0x02, // name
        0x2a, 0x02, 0x08, 0x01, 0x2a, 0x02, 0x08, 0x02, // streams
        0x48, 0x01, 0x50, 0x02, // unknown fields
        0x12, 0x01, b'k',
    ];
    assert_eq!(envelope.encode_to_vec().unwrap(), merged);
}

#[test]
fn many_merged_streams_are_read_from_every_occurrence() {
    let mut wire = Vec::new();
    for id in 1..=6u8 {
        // header { streams { stream_id: id 7: 1 } }: the unknown field keeps the
        // streams out of the small cache.
        wire.extend_from_slice(&[0x0a, 0x06, 0x2a, 0x04, 0x08, id, 0x38, 0x01]);
        wire.extend_from_slice(&[0x18, id]);
    }
    let envelope = request(&wire);
    let header = envelope.header.unwrap();
    let ids: Vec<_> = header.streams.iter().map(|s| s.stream_id).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    assert_eq!(header.streams.len(), 6);
    let streams: Vec<StreamHeader<'_>> = header.streams.iter().collect();
    let again = RequestHeader {
        streams: streams[..].into(),
        ..Default::default()
    };
    assert_eq!(header, again);
    assert_eq!(envelope.operation.iter().count(), 6);
}

#[test]
fn merged_response_headers_keep_every_unknown_field() {
    // header { session_id: 1 8: 1 } header { leader: "x" 9: 2 }
    let wire = [
        0x0a, 0x04, 0x08, 0x01, 0x40, 0x01, 0x0a, 0x05, 0x2a, 0x01, b'x', 0x48, 0x02,
    ];
    let envelope = ResponseEnvelope::decode(&wire).unwrap();
    let header = envelope.header.unwrap();
    assert_eq!((header.session_id, header.leader), (1, "x"));
    assert_eq!(
        envelope.encode_to_vec().unwrap(),
        [0x0a, 0x09, 0x08, 0x01, 0x2a, 0x01, b'x', 0x40, 0x01, 0x48, 0x02]
    );
}

#[test]
fn errors_count_from_the_start_of_the_message() {
    use crate::DecodeErrorKind;
    // delta: 5, then a header whose name's string is cut short.
    let wire = [0x10, 0x05, 0x0a, 0x04, 0x0a, 0x02, 0x0a, 0x05];
    let err = RequestEnvelope::decode(&wire).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::TruncatedField);
    assert_eq!(err.offset(), 7);
    // A header that is not a RequestHeader: field 2 with a string where a varint goes
    // is unknown, but an invalid wire type is not.
    let err = RequestEnvelope::decode(&[0x0a, 0x01, 0x0f]).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset()),
        (DecodeErrorKind::InvalidWireType, 2)
    );
    // A header field cut by the end of the message.
    let err = RequestEnvelope::decode(&[0x0a, 0x05, 0x10]).unwrap_err();
    assert_eq!(
        (err.kind(), err.offset(), err.field()),
        (DecodeErrorKind::TruncatedField, 1, Some(1))
    );
}
