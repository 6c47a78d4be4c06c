//! The benchmark inputs, shared by the benchmarks and by tests/bench_inputs.rs, which
//! checks that they decode to the intended values (so the suite never measures an error
//! path).
#![allow(dead_code)]

use atomix_headers::{
    Message, Name, RequestHeader, ResponseHeader, ResponseStatus, ResponseType, StreamHeader,
};

pub const LEADER: &str = "raft-node-2.atomix-raft.default.svc:5678";

/// One benchmark input: its name and its encoding.
pub struct Input {
    pub name: &'static str,
    pub bytes: Vec<u8>,
}

pub fn typical_streams() -> Vec<StreamHeader<'static>> {
    vec![
        StreamHeader {
            stream_id: 1_000_001,
            response_id: 1_000_002,
            ..Default::default()
        },
        StreamHeader {
            stream_id: 1_000_003,
            response_id: 1_000_004,
            ..Default::default()
        },
    ]
}

pub fn worst_streams() -> Vec<StreamHeader<'static>> {
    (0..32)
        .map(|_| StreamHeader {
            stream_id: u64::MAX,
            response_id: u64::MAX,
            ..Default::default()
        })
        .collect()
}

pub const LONG_NAME: &str = "a-primitive-name-that-is-rather-long-for-a-map-but-still-legal-0123456789-abcdefghijklmnopqrstuvwxyz";

pub fn requests() -> Vec<Input> {
    let typical = typical_streams();
    let worst = worst_streams();
    vec![
        Input {
            name: "typical",
            bytes: RequestHeader {
                name: Some(Name {
                    name: "my-map",
                    namespace: "default",
                    ..Default::default()
                }),
                session_id: 1_234_567,
                request_id: 1_765_432,
                index: 1_990_001,
                streams: typical[..].into(),
                ..Default::default()
            }
            .encode_to_vec()
            .unwrap(),
        },
        Input {
            name: "worst",
            bytes: RequestHeader {
                name: Some(Name {
                    name: LONG_NAME,
                    namespace: LONG_NAME,
                    ..Default::default()
                }),
                session_id: u64::MAX,
                request_id: u64::MAX,
                index: u64::MAX,
                streams: worst[..].into(),
                ..Default::default()
            }
            .encode_to_vec()
            .unwrap(),
        },
    ]
}

pub fn responses() -> Vec<Input> {
    let long_leader = LEADER.repeat(8);
    vec![
        Input {
            name: "typical",
            bytes: ResponseHeader {
                session_id: 1_234_567,
                stream_id: 1_000_001,
                response_id: 1_765_432,
                index: 1_990_001,
                leader: LEADER,
                status: ResponseStatus::NOT_LEADER,
                r#type: ResponseType::OPEN_STREAM,
                ..Default::default()
            }
            .encode_to_vec()
            .unwrap(),
        },
        Input {
            name: "worst",
            bytes: ResponseHeader {
                session_id: u64::MAX,
                stream_id: u64::MAX,
                response_id: u64::MAX,
                index: u64::MAX,
                leader: &long_leader,
                status: ResponseStatus::NOT_LEADER,
                r#type: ResponseType::CLOSE_STREAM,
                ..Default::default()
            }
            .encode_to_vec()
            .unwrap(),
        },
    ]
}

pub fn streams() -> Vec<Input> {
    vec![
        Input {
            name: "typical",
            bytes: typical_streams()[0].encode_to_vec().unwrap(),
        },
        Input {
            name: "worst",
            bytes: worst_streams()[0].encode_to_vec().unwrap(),
        },
    ]
}

/// `count` copies of `message`, each behind a varint length prefix.
pub fn frames(message: &[u8], count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..count {
        atomix_headers::framing::encode_frame(message, &mut out).expect("a Vec grows");
    }
    out
}
