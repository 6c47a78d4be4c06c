//! The fuzz targets' invariants (testkit/src/invariants.rs), checked under `cargo test`
//! on every fixture, every conformance input, and every input kept under
//! fuzz/regressions/decode_*/ (crashes the fuzzers found, replayed forever).

mod common;
use common::*;
use invariants::{check_decode, Request, RequestEnv, Response, ResponseEnv, Stream};
use testkit::invariants;

fn check(kind: &str, input: &[u8]) -> bool {
    match kind {
        "request" => check_decode::<Request>(input),
        "response" => check_decode::<Response>(input),
        "request_envelope" => check_decode::<RequestEnv>(input),
        "response_envelope" => check_decode::<ResponseEnv>(input),
        _ => check_decode::<Stream>(input),
    }
}

#[test]
fn invariants_hold_on_fixtures_and_conformance_inputs() {
    let mut accepted = 0;
    for kind in KINDS {
        for row in rows(&format!("conformance/{kind}.tsv")) {
            let was_accepted = check(kind, &unhex(&row[0]));
            assert_eq!(was_accepted, row[1] == "OK", "{kind} {}", row[0]);
            accepted += usize::from(was_accepted);
        }
    }
    for row in rows("fixtures/cases.tsv") {
        assert!(
            check(&row[1], read(&format!("fixtures/{}.bin", row[0]))),
            "{}",
            row[0]
        );
    }
    assert!(accepted > 10_000);
}

#[test]
fn fuzz_regressions_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    for (target, kind) in [
        ("decode_request", "request"),
        ("decode_response", "response"),
        ("decode_stream", "stream"),
    ] {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                continue;
            }
            check(kind, &std::fs::read(&path).unwrap());
        }
    }
}

/// Issue 16, finding 5: unknown fields decoded from any conformance input, put into any
/// other message type, are refused exactly when writing them would not decode back equal
/// (a field the other type knows); otherwise they encode and decode back equal.
#[test]
fn unknown_fields_moved_between_message_types_encode_only_when_they_fit() {
    use atomix_headers::{
        EncodeErrorKind, Message, Name, RequestEnvelope, RequestHeader, ResponseEnvelope,
        ResponseHeader, StreamHeader, UnknownFields,
    };
    let inputs: Vec<(&str, Vec<u8>)> = KINDS
        .iter()
        .flat_map(|kind| {
            rows(&format!("conformance/{kind}.tsv"))
                .into_iter()
                .filter(|row| row[1] == "OK")
                .map(move |row| (*kind, unhex(&row[0])))
        })
        .collect();
    let unknown_of = |kind: &str, data: &'static [u8]| -> UnknownFields<'static> {
        match kind {
            "request" => RequestHeader::decode(data).unwrap().unknown_fields,
            "response" => ResponseHeader::decode(data).unwrap().unknown_fields,
            "stream" => StreamHeader::decode(data).unwrap().unknown_fields,
            "request_envelope" => RequestEnvelope::decode(data).unwrap().operation,
            _ => ResponseEnvelope::decode(data).unwrap().operation,
        }
    };
    // What writing the fields without the check would give: the message's known fields,
    // then the unknown ones, as encode lays them out.
    macro_rules! check_target {
        ($message:expr, $field:ident, $fields:expr, $counts:expr) => {{
            let mut message = $message;
            let known_only = message.encode_to_vec().unwrap();
            message.$field = $fields;
            let unchecked: Vec<u8> = known_only
                .iter()
                .copied()
                .chain($fields.iter().flat_map(|f| f.as_bytes().iter().copied()))
                .collect();
            let unchecked: &'static [u8] = Box::leak(unchecked.into_boxed_slice());
            let faithful = match decode_like(unchecked, &message) {
                Ok(decoded) => decoded == message,
                Err(_) => false,
            };
            match message.encode_to_vec() {
                Ok(bytes) => {
                    assert_eq!(bytes, unchecked);
                    assert!(
                        faithful,
                        "{message:?} encoded, but decodes as something else"
                    );
                    $counts.0 += 1;
                }
                Err(e) => {
                    assert_eq!(e.kind(), EncodeErrorKind::InvalidUnknownFields);
                    assert!(
                        !faithful,
                        "{message:?} refused, but would decode back equal"
                    );
                    $counts.1 += 1;
                }
            }
        }};
    }
    fn decode_like<M: Message<'static>>(
        bytes: &'static [u8],
        _like: &M,
    ) -> Result<M, atomix_headers::DecodeError> {
        M::decode(bytes)
    }
    let mut counts = (0usize, 0usize);
    for (kind, data) in &inputs {
        let data: &'static [u8] = Box::leak(data.clone().into_boxed_slice());
        let fields = unknown_of(kind, data);
        if fields.is_empty() {
            continue;
        }
        let request = RequestHeader {
            session_id: 1,
            ..Default::default()
        };
        check_target!(request, unknown_fields, fields, counts);
        let response = ResponseHeader {
            index: 2,
            ..Default::default()
        };
        check_target!(response, unknown_fields, fields, counts);
        let stream = StreamHeader {
            stream_id: 3,
            ..Default::default()
        };
        check_target!(stream, unknown_fields, fields, counts);
        let name = Name {
            name: "n",
            ..Default::default()
        };
        check_target!(name, unknown_fields, fields, counts);
        check_target!(RequestEnvelope::default(), operation, fields, counts);
        check_target!(ResponseEnvelope::default(), operation, fields, counts);
    }
    // Both outcomes occur often, so the test checks each.
    let (encoded, refused) = counts;
    assert!(
        encoded > 1_000 && refused > 1_000,
        "{encoded} encoded, {refused} refused"
    );
}
