//! Real Atomix primitive messages (testdata/primitives/cases.tsv, made by
//! testdata/generate.py with protoc and the reference runtime from
//! testdata/schema/atomix/{counter,map,lock}/): the envelope's header is the
//! header upb decodes from the whole message, and stamping `index` re-encodes to exactly
//! upb's bytes for the whole message with that field changed. The same messages then
//! travel as gRPC frames.

mod common;
use atomix_headers::grpc::{self, GrpcDecoder};
use atomix_headers::{
    partition, Message, OwnedRequestEnvelope, Progress, RequestEnvelope, ResponseEnvelope,
};
use bytes::BytesMut;
use common::*;

const STAMPED_INDEX: u64 = 1_000_000;

#[test]
fn headers_and_rewrites_agree_with_the_reference_runtime() {
    let cases = rows("primitives/cases.tsv");
    assert!(cases.len() >= 15);
    for row in &cases {
        let (name, kind, message) = (&row[0], &row[1], unhex(&row[2]));
        let (header, stamped) = (unhex(&row[3]), unhex(&row[4]));
        let (ours_header, ours_stamped) = match kind.as_str() {
            "request" => {
                let mut envelope = RequestEnvelope::decode(&message).unwrap();
                let mut h = envelope.header.expect("every fixture has a header");
                let before = h.encode_to_vec().unwrap();
                h.index = STAMPED_INDEX;
                envelope.header = Some(h);
                (before, envelope.encode_to_vec().unwrap())
            }
            _ => {
                let mut envelope = ResponseEnvelope::decode(&message).unwrap();
                let mut h = envelope.header.expect("every fixture has a header");
                let before = h.encode_to_vec().unwrap();
                h.index = STAMPED_INDEX;
                envelope.header = Some(h);
                (before, envelope.encode_to_vec().unwrap())
            }
        };
        assert_eq!(hex(&ours_header), hex(&header), "{name}: header");
        assert_eq!(hex(&ours_stamped), hex(&stamped), "{name}: stamped message");
    }
}

#[test]
fn responses_carry_what_a_proxy_reads() {
    let cases = rows("primitives/cases.tsv");
    let message = |name: &str| unhex(&cases.iter().find(|r| r[0] == name).unwrap()[2]);
    let not_leader = message("counter_increment_not_leader");
    let header = ResponseEnvelope::decode(&not_leader)
        .unwrap()
        .header
        .unwrap();
    assert_eq!(header.status, atomix_headers::ResponseStatus::NOT_LEADER);
    assert_eq!(header.leader, "raft-node-2.atomix-raft.default.svc:5678");
    let opened = message("map_events_opened");
    let header = ResponseEnvelope::decode(&opened).unwrap().header.unwrap();
    assert_eq!(header.r#type, atomix_headers::ResponseType::OPEN_STREAM);
    assert_eq!((header.stream_id, header.response_id), (10, 1));

    // Routing a map put by its key, as the Go client does.
    let put = message("map_put");
    let envelope = RequestEnvelope::decode(&put).unwrap();
    let key = envelope.last_field(2).and_then(|f| f.payload()).unwrap();
    assert_eq!(key, b"user:42");
    // fnv1a_32("user:42") = 0x2f6b7b82, worked out apart from this code.
    assert_eq!(partition::fnv1a_32(key), 0x2f6b_7b82);
    assert_eq!(partition::index(key, 3), Some(0x2f6b_7b82 % 3));
}

#[test]
fn every_fixture_travels_in_grpc_frames_read_in_small_chunks() {
    let cases = rows("primitives/cases.tsv");
    let requests: Vec<Vec<u8>> = cases
        .iter()
        .filter(|r| r[1] == "request")
        .map(|r| unhex(&r[2]))
        .collect();
    let mut wire = Vec::new();
    for message in &requests {
        let envelope = RequestEnvelope::decode(message).unwrap();
        grpc::encode(&envelope, &mut wire).unwrap();
    }
    let decoder = GrpcDecoder::new();
    let mut received = BytesMut::new();
    let mut out = Vec::new();
    for chunk in wire.chunks(7) {
        received.extend_from_slice(chunk);
        while let Progress::Complete(envelope) = decoder
            .decode_owned::<OwnedRequestEnvelope>(&mut received)
            .unwrap()
        {
            out.push(envelope);
        }
    }
    decoder.finish(&received).unwrap();
    assert_eq!(out.len(), requests.len());
    for (owned, message) in out.iter().zip(&requests) {
        // What came out is the canonical re-encoding of what went in.
        let direct = RequestEnvelope::decode(message).unwrap();
        assert_eq!(owned.message(), &direct);
    }
}
