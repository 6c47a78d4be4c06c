//! The fuzz targets' invariants (tests/common/invariants.rs), checked under `cargo test`
//! on every fixture, every conformance input, and every input kept under
//! fuzz/regressions/decode_*/ (crashes the fuzzers found, replayed forever).

mod common;
#[path = "common/invariants.rs"]
mod invariants;
use common::*;
use invariants::{check_decode, Request, RequestEnv, Response, ResponseEnv, Stream};

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
