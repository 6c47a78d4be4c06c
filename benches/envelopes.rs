//! Headers where they travel: reading and rewriting the header of real Atomix primitive
//! requests, against prost, quick-protobuf and buffa decoding (and encoding) the whole
//! message, which is what their users do. One run:
//!
//!     cargo bench --bench envelopes
//!     python3 benches/table.py
//!
//! Inputs: counter.IncrementRequest and map.PutRequest with a 100-byte value, from
//! testdata/primitives/cases.tsv (protoc's encoding), and 1,000 gRPC-framed PutRequests
//! with varied keys, ids and value lengths. Every contender reads the same header fields
//! (ids, name, streams) and, for a PutRequest, the key's length; the checksums must agree
//! (checked before timing).

use atomix_headers::grpc::GrpcDecoder;
use atomix_headers::{Message, Name, Progress, RequestEnvelope, RequestHeader};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

// The peers' code covers every message; this benchmark uses a few.
use testkit::peers::buffa_types as bf;
use testkit::peers::prost_types as pr;
use testkit::peers::quick;

use bf::atomix::{counter as bfc, map as bfm};
use buffa::{Message as _, MessageView as _};
use quick::atomix::{counter as qpc, map as qpm};
use quick_protobuf::{BytesReader, MessageRead, MessageWrite, Writer};

const STAMP: u64 = 1_000_000;
const FRAMES: usize = 1_000;

fn group<'c>(c: &'c mut Criterion, name: &str, bytes: usize) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

/// A fixture's message, from testdata/primitives/cases.tsv.
fn fixture(name: &str) -> Vec<u8> {
    let table = include_str!("../testdata/primitives/cases.tsv");
    let row = table
        .lines()
        .find(|l| l.split('\t').next() == Some(name))
        .unwrap_or_else(|| panic!("no fixture {name}"));
    let hex = row.split('\t').nth(2).unwrap();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// What every contender reads from a header: ids, the name's length, the streams.
fn sum_ids(session: u64, request: u64, index: u64, name: usize) -> u64 {
    session ^ request.rotate_left(8) ^ index.rotate_left(16) ^ name as u64
}

fn ours_read(bytes: &[u8]) -> u64 {
    let envelope = RequestEnvelope::decode(bytes).unwrap();
    let h = envelope.header.unwrap_or_default();
    let name = h.name.unwrap_or_default().name.len();
    let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    let key = envelope
        .last_field(2)
        .map_or(0, |f| f.payload().map_or(0, <[u8]>::len));
    sum_ids(h.session_id, h.request_id, h.index, name) + streams + key as u64
}

fn ours_bare(bytes: &[u8]) -> u64 {
    let h = RequestHeader::decode(bytes).unwrap();
    let name = h.name.unwrap_or_default().name.len();
    let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    sum_ids(h.session_id, h.request_id, h.index, name) + streams
}

fn prost_header(h: &Option<pr::RequestHeader>) -> u64 {
    let Some(h) = h else { return 0 };
    let name = h.name.as_ref().map_or(0, |n| n.name.len());
    let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    sum_ids(h.session_id, h.request_id, h.index, name) + streams
}

fn qp_header(h: &Option<quick::atomix::headers::RequestHeader<'_>>) -> u64 {
    let Some(h) = h else { return 0 };
    let name = h.name.as_ref().map_or(0, |n| n.name.len());
    let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    sum_ids(h.session_id, h.request_id, h.index, name) + streams
}

fn qp_decode<'a, M: MessageRead<'a>>(bytes: &'a [u8]) -> M {
    M::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap()
}

fn qp_encode<M: MessageWrite>(m: &M, buf: &mut Vec<u8>) {
    buf.clear();
    m.write_message(&mut Writer::new(&mut *buf)).unwrap();
}

/// The peers' ways of reading one message type, as closures over its bytes.
struct Peers<'f> {
    prost: &'f dyn Fn(&[u8]) -> u64,
    quick: &'f dyn Fn(&[u8]) -> u64,
    buffa: &'f dyn Fn(&[u8]) -> u64,
    buffa_view: &'f dyn Fn(&[u8]) -> u64,
}

fn read_group(c: &mut Criterion, name: &str, bytes: &[u8], bare: &[u8], peers: &Peers<'_>) {
    let expected = ours_read(bytes);
    for (peer, read) in [
        ("prost", peers.prost),
        ("quick-protobuf", peers.quick),
        ("buffa", peers.buffa),
        ("buffa-view", peers.buffa_view),
    ] {
        assert_eq!(read(bytes), expected, "{peer} reads what we read");
    }
    let mut g = group(c, name, bytes.len());
    g.bench_function("atomix-headers", |b| b.iter(|| ours_read(black_box(bytes))));
    // The same header decoded bare, without the message around it.
    g.bench_function("atomix-headers-bare-header", |b| {
        b.iter(|| ours_bare(black_box(bare)))
    });
    g.bench_function("prost", |b| b.iter(|| (peers.prost)(black_box(bytes))));
    g.bench_function("quick-protobuf", |b| {
        b.iter(|| (peers.quick)(black_box(bytes)))
    });
    g.bench_function("buffa", |b| b.iter(|| (peers.buffa)(black_box(bytes))));
    g.bench_function("buffa-view", |b| {
        b.iter(|| (peers.buffa_view)(black_box(bytes)))
    });
    g.finish();
}

fn bare_header(bytes: &[u8]) -> Vec<u8> {
    RequestEnvelope::decode(bytes)
        .unwrap()
        .header
        .unwrap()
        .encode_to_vec()
        .unwrap()
}

fn increment(c: &mut Criterion) {
    let bytes = fixture("counter_increment");
    let peers = Peers {
        prost: &|b| {
            let m = <pr::IncrementRequest as prost::Message>::decode(b).unwrap();
            prost_header(&m.header)
        },
        quick: &|b| qp_header(&qp_decode::<qpc::IncrementRequest>(b).header),
        buffa: &|b| {
            let m = bfc::IncrementRequest::decode_from_slice(b).unwrap();
            let Some(h) = m.header.as_option() else {
                return 0;
            };
            let name = h.name.as_option().map_or(0, |n| n.name.len());
            let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
            sum_ids(h.session_id, h.request_id, h.index, name) + streams
        },
        buffa_view: &|b| {
            let m = bfc::IncrementRequestView::decode_view(b).unwrap();
            let Some(h) = m.header.as_option() else {
                return 0;
            };
            let name = h.name.as_option().map_or(0, |n| n.name.len());
            let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
            sum_ids(h.session_id, h.request_id, h.index, name) + streams
        },
    };
    read_group(
        c,
        "envelope/increment/read",
        &bytes,
        &bare_header(&bytes),
        &peers,
    );
}

fn put_peers() -> Peers<'static> {
    Peers {
        prost: &|b| {
            let m = <pr::PutRequest as prost::Message>::decode(b).unwrap();
            prost_header(&m.header) + m.key.len() as u64
        },
        quick: &|b| {
            let m = qp_decode::<qpm::PutRequest>(b);
            qp_header(&m.header) + m.key.len() as u64
        },
        buffa: &|b| {
            let m = bfm::PutRequest::decode_from_slice(b).unwrap();
            let key = m.key.len() as u64;
            let Some(h) = m.header.as_option() else {
                return key;
            };
            let name = h.name.as_option().map_or(0, |n| n.name.len());
            let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
            sum_ids(h.session_id, h.request_id, h.index, name) + streams + key
        },
        buffa_view: &|b| {
            let m = bfm::PutRequestView::decode_view(b).unwrap();
            let key = m.key.len() as u64;
            let Some(h) = m.header.as_option() else {
                return key;
            };
            let name = h.name.as_option().map_or(0, |n| n.name.len());
            let streams: u64 = h.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
            sum_ids(h.session_id, h.request_id, h.index, name) + streams + key
        },
    }
}

fn put(c: &mut Criterion) {
    let bytes = fixture("map_put");
    read_group(
        c,
        "envelope/put_100/read",
        &bytes,
        &bare_header(&bytes),
        &put_peers(),
    );

    // Read, stamp `index`, encode into a reused buffer.
    let mut buf = Vec::with_capacity(4096);
    let mut expected = Vec::new();
    let mut ours = RequestEnvelope::decode(&bytes).unwrap();
    if let Some(h) = &mut ours.header {
        h.index = STAMP;
    }
    ours.encode(&mut expected).unwrap();
    let mut g = group(c, "envelope/put_100/rewrite", bytes.len());
    g.bench_function("atomix-headers", |b| {
        b.iter(|| {
            let mut m = RequestEnvelope::decode(black_box(&bytes)).unwrap();
            if let Some(h) = &mut m.header {
                h.index = STAMP;
            }
            buf.clear();
            m.encode(&mut buf).unwrap();
        })
    });
    check_written(&buf, &expected);
    g.bench_function("prost", |b| {
        b.iter(|| {
            let mut m = <pr::PutRequest as prost::Message>::decode(black_box(&bytes[..])).unwrap();
            if let Some(h) = &mut m.header {
                h.index = STAMP;
            }
            buf.clear();
            prost::Message::encode(&m, &mut buf).unwrap();
        })
    });
    check_written(&buf, &expected);
    g.bench_function("quick-protobuf", |b| {
        b.iter(|| {
            let mut m = qp_decode::<qpm::PutRequest>(black_box(&bytes));
            if let Some(h) = &mut m.header {
                h.index = STAMP;
            }
            qp_encode(&m, &mut buf);
        })
    });
    check_written(&buf, &expected);
    g.bench_function("buffa", |b| {
        b.iter(|| {
            let mut m = bfm::PutRequest::decode_from_slice(black_box(&bytes)).unwrap();
            if let Some(h) = m.header.as_option_mut() {
                h.index = STAMP;
            }
            buf.clear();
            m.encode(&mut buf);
        })
    });
    check_written(&buf, &expected);
    g.finish();
}

/// 1,000 gRPC-framed PutRequests with varied ids, keys, names and value lengths.
fn put_frames() -> Vec<u8> {
    let mut wire = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let value = [b'v'; 128];
    for i in 0..FRAMES {
        let key = format!("user:{}", next() % 100_000);
        let name = format!("map-{}", next() % 20);
        let header = RequestHeader {
            name: Some(Name {
                name: &name,
                namespace: "default",
                ..Default::default()
            }),
            session_id: next() >> (next() % 60),
            request_id: i as u64,
            index: next() >> (next() % 40),
            ..Default::default()
        };
        // header, key (2), value (3), version (4)
        let mut message = Vec::new();
        message.push(0x0a);
        header.encode_length_delimited(&mut message).unwrap();
        message.push(0x12);
        message.push(key.len() as u8);
        message.extend_from_slice(key.as_bytes());
        // 40 to 127 bytes: a one-byte length prefix.
        let len = 40 + (next() % 88) as usize;
        message.push(0x1a);
        message.push(len as u8);
        message.extend_from_slice(&value[..len]);
        message.extend_from_slice(&[0x20, (next() % 100) as u8 + 1]);
        wire.push(0);
        wire.extend_from_slice(&(message.len() as u32).to_be_bytes());
        wire.extend_from_slice(&message);
    }
    wire
}

/// Walks gRPC frames by hand for the peers: the flag, the 4-byte length, the message.
fn each_frame(mut wire: &[u8], mut f: impl FnMut(&[u8]) -> u64) -> u64 {
    let mut sum = 0;
    while let Some((prefix, rest)) = wire.split_first_chunk::<5>() {
        let len = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
        sum += f(&rest[..len]);
        wire = &rest[len..];
    }
    sum
}

fn frames(c: &mut Criterion) {
    let wire = put_frames();
    let decoder = GrpcDecoder::new();
    let ours = |wire: &[u8]| {
        let mut rest = wire;
        let mut sum = 0;
        let mut n = 0;
        while let Ok(Progress::Complete((m, used))) = decoder.decode::<RequestEnvelope>(rest) {
            let h = m.header.unwrap_or_default();
            let name = h.name.unwrap_or_default().name.len();
            let key = m
                .last_field(2)
                .map_or(0, |f| f.payload().map_or(0, <[u8]>::len));
            sum += sum_ids(h.session_id, h.request_id, h.index, name) + key as u64;
            rest = &rest[used..];
            n += 1;
        }
        assert_eq!(n, FRAMES);
        sum
    };
    let peers = put_peers();
    let expected = ours(&wire);
    for (peer, read) in [
        ("prost", peers.prost),
        ("quick-protobuf", peers.quick),
        ("buffa", peers.buffa),
        ("buffa-view", peers.buffa_view),
    ] {
        assert_eq!(each_frame(&wire, read), expected, "{peer}");
    }
    let mut g = group(c, "envelope/put_frames_1000/read", wire.len());
    g.bench_function("atomix-headers", |b| b.iter(|| ours(black_box(&wire))));
    g.bench_function("prost", |b| {
        b.iter(|| each_frame(black_box(&wire), peers.prost))
    });
    g.bench_function("quick-protobuf", |b| {
        b.iter(|| each_frame(black_box(&wire), peers.quick))
    });
    g.bench_function("buffa", |b| {
        b.iter(|| each_frame(black_box(&wire), peers.buffa))
    });
    g.bench_function("buffa-view", |b| {
        b.iter(|| each_frame(black_box(&wire), peers.buffa_view))
    });
    g.finish();
}

criterion_group!(benches, increment, put, frames);
criterion_main!(benches);

/// What a rewrite benchmark left in the buffer must be the expected encoding; an empty
/// buffer is a benchmark that a filter left out (`cargo bench -- FILTER`, or
/// benches/instructions.py), which wrote nothing.
fn check_written(buf: &[u8], expected: &[u8]) {
    if !buf.is_empty() {
        assert_eq!(buf, expected);
    }
}
