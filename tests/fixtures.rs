//! Golden fixtures made by protoc (testdata/generate.py): each binary decodes, prints
//! exactly what `protoc --decode` printed, and encodes back to the identical bytes.

mod common;
use atomix_headers::{
    Message, RequestHeader, ResponseHeader, ResponseStatus, ResponseType, StreamHeader,
};
use common::*;

fn cases() -> Vec<(String, String)> {
    rows("fixtures/cases.tsv")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect()
}

#[test]
fn every_fixture_decodes_prints_and_reencodes_identically() {
    let cases = cases();
    assert!(cases.len() >= 25, "only {} fixtures", cases.len());
    for (name, kind) in cases {
        let binary = read(&format!("fixtures/{name}.bin"));
        let printed =
            String::from_utf8(read(&format!("fixtures/{name}.decoded.txt")).to_vec()).unwrap();
        let out = decode(&kind, binary).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out.text, printed, "{name}: text format");
        assert_eq!(out.encoded, binary, "{name}: re-encoding");
        assert_eq!(out.encoded_len, binary.len(), "{name}: encoded_len");
    }
}

#[test]
fn typical_request_values() {
    let binary = read("fixtures/request_typical.bin");
    let request = RequestHeader::decode(binary).unwrap();
    let name = request.name.unwrap();
    assert_eq!((name.name, name.namespace), ("my-map", "default"));
    assert_eq!(
        (request.session_id, request.request_id, request.index),
        (1234567, 7654321, 99000001)
    );
    let streams: Vec<_> = request
        .streams
        .iter()
        .map(|s| (s.stream_id, s.response_id))
        .collect();
    assert_eq!(streams, [(1000001, 1000002), (1000003, 1000004)]);
    assert!(request.unknown_fields.is_empty());
}

#[test]
fn typical_response_values() {
    let binary = read("fixtures/response_typical.bin");
    let response = ResponseHeader::decode(binary).unwrap();
    assert_eq!(response.leader, "raft-node-2.atomix-raft.default.svc:5678");
    assert_eq!(response.status, ResponseStatus::NOT_LEADER);
    assert_eq!(response.r#type, ResponseType::OPEN_STREAM);
    assert_eq!(
        (
            response.session_id,
            response.stream_id,
            response.response_id,
            response.index
        ),
        (1234567, 1000001, 7654321, 99000001)
    );
}

#[test]
fn enum_values_beyond_the_schema_are_kept() {
    let response = ResponseHeader::decode(read("fixtures/response_status_unknown_5.bin")).unwrap();
    assert_eq!((response.status.value(), response.r#type.value()), (5, 3));
    let response = ResponseHeader::decode(read("fixtures/response_status_negative.bin")).unwrap();
    assert_eq!(
        (response.status.value(), response.r#type.value()),
        (-1, i32::MIN)
    );
}

#[test]
fn empty_name_is_present_and_streams_may_be_empty() {
    let request = RequestHeader::decode(read("fixtures/request_name_empty_present.bin")).unwrap();
    assert_eq!(request.name.map(|n| (n.name, n.namespace)), Some(("", "")));
    let request = RequestHeader::decode(read("fixtures/request_empty_streams.bin")).unwrap();
    let ids: Vec<_> = request.streams.iter().map(|s| s.stream_id).collect();
    assert_eq!(ids, [0, 1, 0]);
    let request = RequestHeader::decode(read("fixtures/request_many_streams.bin")).unwrap();
    assert_eq!(request.streams.len(), 32);
    assert_eq!(request.streams.iter().last().unwrap().response_id, 32_000);
}

#[test]
fn unknown_fields_of_every_wire_type_are_kept() {
    let binary = read("fixtures/request_unknown_every_wire_type.bin");
    let request = RequestHeader::decode(binary).unwrap();
    let kinds: Vec<_> = request
        .unknown_fields
        .iter()
        .map(|f| (f.number(), f.wire_type()))
        .collect();
    assert_eq!(
        kinds,
        [(6, 0), (10, 5), (11, 1), (12, 2), (13, 3), (14, 2), (15, 0)]
    );
    let stream = StreamHeader::decode(read("fixtures/stream_unknown_fields.bin")).unwrap();
    assert_eq!(stream.stream_id, 3);
    assert_eq!(stream.unknown_fields.iter().count(), 4);
}
