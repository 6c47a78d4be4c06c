//! Builds messages from an `Arbitrary` description (unknown fields of every wire type and
//! enum values beyond the schema included), encodes them, decodes the bytes and compares
//! field by field.
#![no_main]

use arbitrary::Arbitrary;
use atomix_headers::{
    KnownFields, Message, Name, RequestHeader, ResponseHeader, ResponseStatus, ResponseType,
    StreamHeader, Streams, UnknownFields,
};
use atomix_headers_fuzz::build;
use atomix_headers_fuzz::invariants::{check_decode, Kind, Request, Response, Stream};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum UnknownValue {
    Varint(u64),
    Fixed64(u64),
    Bytes(Vec<u8>),
    Fixed32(u32),
    Group(Vec<(u16, u64)>),
}

#[derive(Arbitrary, Debug)]
struct Unknown {
    number: u32,
    value: UnknownValue,
}

/// Encodes unknown fields with numbers above every known one (8 and up).
fn unknown_bytes(fields: &[Unknown]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in fields {
        let number = 8 + f.number % ((1 << 29) - 9);
        match &f.value {
            UnknownValue::Varint(v) => {
                build::tag(&mut out, number, 0);
                build::varint(&mut out, *v, 0);
            }
            UnknownValue::Fixed64(v) => {
                build::tag(&mut out, number, 1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            UnknownValue::Bytes(b) => build::length_delimited(&mut out, number, b),
            UnknownValue::Fixed32(v) => {
                build::tag(&mut out, number, 5);
                out.extend_from_slice(&v.to_le_bytes());
            }
            UnknownValue::Group(items) => {
                build::tag(&mut out, number, 3);
                for (n, v) in items {
                    build::tag(&mut out, u32::from(*n) + 1, 0);
                    build::varint(&mut out, *v, 0);
                }
                build::tag(&mut out, number, 4);
            }
        }
    }
    out
}

#[derive(Arbitrary, Debug)]
struct ArbStream {
    stream_id: u64,
    response_id: u64,
    unknown: Vec<Unknown>,
}

#[derive(Arbitrary, Debug)]
struct ArbName {
    name: String,
    namespace: String,
    unknown: Vec<Unknown>,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Request {
        name: Option<ArbName>,
        session_id: u64,
        request_id: u64,
        index: u64,
        streams: Vec<ArbStream>,
        unknown: Vec<Unknown>,
    },
    Response {
        session_id: u64,
        stream_id: u64,
        response_id: u64,
        index: u64,
        leader: String,
        status: i32,
        r#type: i32,
        unknown: Vec<Unknown>,
    },
    Stream(ArbStream),
}

/// Unknown fields of message `M`: numbers of 8 and up are unknown to every header.
fn unknown_fields<M: KnownFields>(bytes: &[u8]) -> UnknownFields<'_> {
    UnknownFields::from_bytes::<M>(bytes).expect("well-formed unknown fields")
}

/// Encodes `message` into `buf`, checks the invariants on those bytes, and decodes them.
fn round_trip<'a, K: Kind>(message: &K::Of<'_>, buf: &'a mut Vec<u8>) -> K::Of<'a> {
    buf.clear();
    message.encode(buf).expect("a Vec has room");
    assert_eq!(buf.len(), message.encoded_len());
    assert!(check_decode::<K>(buf));
    let decoded = K::Of::decode(buf).expect("our own encoding decodes");
    assert_eq!(format!("{decoded:?}"), format!("{message:?}"));
    decoded
}

fuzz_target!(|input: Input| {
    let mut buf = Vec::new();
    match input {
        Input::Stream(s) => {
            let unknown = unknown_bytes(&s.unknown);
            let stream = StreamHeader {
                stream_id: s.stream_id,
                response_id: s.response_id,
                unknown_fields: unknown_fields::<StreamHeader>(&unknown),
            };
            let decoded = round_trip::<Stream>(&stream, &mut buf);
            assert_eq!(
                (decoded.stream_id, decoded.response_id),
                (s.stream_id, s.response_id)
            );
            assert_eq!(
                decoded
                    .unknown_fields
                    .iter()
                    .map(|f| f.as_bytes())
                    .collect::<Vec<_>>()
                    .concat(),
                unknown
            );
        }
        Input::Response {
            session_id,
            stream_id,
            response_id,
            index,
            leader,
            status,
            r#type,
            unknown,
        } => {
            let unknown_raw = unknown_bytes(&unknown);
            let response = ResponseHeader {
                session_id,
                stream_id,
                response_id,
                index,
                leader: &leader,
                status: ResponseStatus::from_value(status),
                r#type: ResponseType::from_value(r#type),
                unknown_fields: unknown_fields::<ResponseHeader>(&unknown_raw),
            };
            let decoded = round_trip::<Response>(&response, &mut buf);
            assert_eq!(decoded.leader, leader);
            assert_eq!(
                (decoded.status.value(), decoded.r#type.value()),
                (status, r#type)
            );
            assert_eq!(decoded.unknown_fields.encoded_len(), unknown_raw.len());
        }
        Input::Request {
            name,
            session_id,
            request_id,
            index,
            streams,
            unknown,
        } => {
            let name_unknown = name
                .as_ref()
                .map(|n| unknown_bytes(&n.unknown))
                .unwrap_or_default();
            let stream_unknown: Vec<Vec<u8>> =
                streams.iter().map(|s| unknown_bytes(&s.unknown)).collect();
            let built: Vec<StreamHeader<'_>> = streams
                .iter()
                .zip(&stream_unknown)
                .map(|(s, u)| StreamHeader {
                    stream_id: s.stream_id,
                    response_id: s.response_id,
                    unknown_fields: unknown_fields::<StreamHeader>(u),
                })
                .collect();
            let unknown_raw = unknown_bytes(&unknown);
            let request = RequestHeader {
                name: name.as_ref().map(|n| Name {
                    name: &n.name,
                    namespace: &n.namespace,
                    unknown_fields: unknown_fields::<Name>(&name_unknown),
                }),
                session_id,
                request_id,
                index,
                streams: Streams::from_slice(&built),
                unknown_fields: unknown_fields::<RequestHeader>(&unknown_raw),
            };
            let decoded = round_trip::<Request>(&request, &mut buf);
            assert_eq!(decoded.streams.len(), built.len());
            for (got, want) in decoded.streams.iter().zip(&built) {
                assert_eq!(&got, want);
            }
            assert_eq!(
                decoded.name.map(|n| (n.name, n.namespace)),
                name.as_ref().map(|n| (&*n.name, &*n.namespace))
            );
            assert_eq!(
                (decoded.session_id, decoded.request_id, decoded.index),
                (session_id, request_id, index)
            );
        }
    }
});
