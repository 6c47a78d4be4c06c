//! atomix-headers against prost, quick-protobuf and buffa on the same inputs, in one run.
//!
//!     cargo bench --bench headers
//!
//! For each message and each input (typical values, worst case): decode (ours also
//! iterates the streams, so laziness earns no credit), encode into a reused buffer,
//! `encoded_len`, decode-then-encode, and (typical only) decoding 1,000 back-to-back
//! length-delimited frames. Peers are used the way their documentation shows.

use atomix_headers::framing::FrameDecoder;
use atomix_headers::{Message, Progress, RequestHeader, ResponseHeader, StreamHeader};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

use testkit::inputs;
use testkit::peers::buffa_types as bf;
use testkit::peers::prost_types as pr;
use testkit::peers::quick;

use bf::atomix::headers as bfh;
use buffa::{Message as _, MessageView as _};
use quick::atomix::headers as qp;
use quick_protobuf::{BytesReader, MessageRead, MessageWrite, Writer};

const FRAMES: usize = 1_000;

fn group<'c>(c: &'c mut Criterion, name: String, bytes: usize) -> BenchmarkGroup<'c, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

fn qp_decode<'a, M: MessageRead<'a>>(bytes: &'a [u8]) -> M {
    M::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap()
}

fn qp_encode<M: MessageWrite>(m: &M, buf: &mut Vec<u8>) {
    buf.clear();
    m.write_message(&mut Writer::new(&mut *buf)).unwrap();
}

fn ours_request(bytes: &[u8]) -> u64 {
    let r = RequestHeader::decode(bytes).unwrap();
    let streams: u64 = r.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    black_box(&r);
    streams
}

fn buffa_view_request(bytes: &[u8]) -> u64 {
    let r = bfh::RequestHeaderView::decode_view(bytes).unwrap();
    let streams: u64 = r.streams.iter().map(|s| s.stream_id ^ s.response_id).sum();
    black_box(&r);
    streams
}

/// The benchmarks of one message type against every peer; `$ours_decode` and
/// `$view_decode` decode (and, for a RequestHeader, iterate the streams).
macro_rules! message_benches {
    ($fn:ident, $label:literal, $inputs:path, $t:ident, $ours_decode:expr, $view_decode:expr) => {
        fn $fn(c: &mut Criterion) {
            for input in $inputs() {
                let bytes = &input.bytes[..];
                let ours = $t::decode(bytes).unwrap();
                let prost_msg = <pr::$t as prost::Message>::decode(bytes).unwrap();
                let qp_msg: qp::$t = qp_decode(bytes);
                let bf_msg = bfh::$t::decode_from_slice(bytes).unwrap();
                let mut buf = Vec::with_capacity(4096);
                let name = |op: &str| format!("{}/{}/{op}", $label, input.name);

                let mut g = group(c, name("decode"), bytes.len());
                g.bench_function("atomix-headers", |b| {
                    b.iter(|| $ours_decode(black_box(bytes)))
                });
                g.bench_function("prost", |b| {
                    b.iter(|| <pr::$t as prost::Message>::decode(black_box(bytes)).unwrap())
                });
                g.bench_function("quick-protobuf", |b| {
                    b.iter(|| qp_decode::<qp::$t>(black_box(bytes)))
                });
                g.bench_function("buffa", |b| {
                    b.iter(|| bfh::$t::decode_from_slice(black_box(bytes)).unwrap())
                });
                g.bench_function("buffa-view", |b| b.iter(|| $view_decode(black_box(bytes))));
                g.finish();

                let mut g = group(c, name("encode"), bytes.len());
                g.bench_function("atomix-headers", |b| {
                    b.iter(|| {
                        buf.clear();
                        black_box(&ours).encode(&mut buf).unwrap()
                    })
                });
                g.bench_function("prost", |b| {
                    b.iter(|| {
                        buf.clear();
                        prost::Message::encode(black_box(&prost_msg), &mut buf).unwrap()
                    })
                });
                g.bench_function("quick-protobuf", |b| {
                    b.iter(|| qp_encode(black_box(&qp_msg), &mut buf))
                });
                g.bench_function("buffa", |b| {
                    b.iter(|| {
                        buf.clear();
                        black_box(&bf_msg).encode(&mut buf)
                    })
                });
                g.finish();

                let mut g = group(c, name("encoded_len"), bytes.len());
                g.bench_function("atomix-headers", |b| {
                    b.iter(|| black_box(&ours).encoded_len())
                });
                g.bench_function("prost", |b| {
                    b.iter(|| prost::Message::encoded_len(black_box(&prost_msg)))
                });
                g.bench_function("quick-protobuf", |b| {
                    b.iter(|| black_box(&qp_msg).get_size())
                });
                g.bench_function("buffa", |b| b.iter(|| black_box(&bf_msg).encoded_len()));
                g.finish();

                let mut g = group(c, name("round_trip"), bytes.len());
                g.bench_function("atomix-headers", |b| {
                    b.iter(|| {
                        buf.clear();
                        $t::decode(black_box(bytes))
                            .unwrap()
                            .encode(&mut buf)
                            .unwrap()
                    })
                });
                g.bench_function("prost", |b| {
                    b.iter(|| {
                        buf.clear();
                        let m = <pr::$t as prost::Message>::decode(black_box(bytes)).unwrap();
                        prost::Message::encode(&m, &mut buf).unwrap()
                    })
                });
                g.bench_function("quick-protobuf", |b| {
                    b.iter(|| qp_encode(&qp_decode::<qp::$t>(black_box(bytes)), &mut buf))
                });
                g.bench_function("buffa", |b| {
                    b.iter(|| {
                        buf.clear();
                        bfh::$t::decode_from_slice(black_box(bytes))
                            .unwrap()
                            .encode(&mut buf)
                    })
                });
                g.finish();

                if input.name == "typical" {
                    let frames = inputs::frames(bytes, FRAMES);
                    delimited::<$t, pr::$t, qp::$t, bfh::$t>(c, $label, &frames);
                }
            }
        }
    };
}

fn ours_plain<'a, M: Message<'a>>(bytes: &'a [u8]) -> M {
    M::decode(bytes).unwrap()
}

message_benches!(
    request,
    "request",
    inputs::requests,
    RequestHeader,
    ours_request,
    buffa_view_request
);
message_benches!(
    response,
    "response",
    inputs::responses,
    ResponseHeader,
    ours_plain::<ResponseHeader>,
    |b| { bfh::ResponseHeaderView::decode_view(b).unwrap() }
);
message_benches!(
    stream,
    "stream",
    inputs::streams,
    StreamHeader,
    ours_plain::<StreamHeader>,
    |b| { bfh::StreamHeaderView::decode_view(b).unwrap() }
);

/// Decodes 1,000 back-to-back length-delimited frames.
fn delimited<'x, O, P, Q, B>(c: &mut Criterion, message: &str, buf: &'x [u8])
where
    O: Message<'x>,
    P: prost::Message + Default,
    Q: MessageRead<'x>,
    B: buffa::Message,
{
    let mut g = group(c, format!("{message}/frames_1000/decode"), buf.len());
    // The proxy's path: the frame decoder, with its default 64 KiB limit.
    let frames = FrameDecoder::new();
    g.bench_function("atomix-headers", |b| {
        b.iter(|| {
            let mut rest = black_box(buf);
            let mut n = 0;
            while let Ok(Progress::Complete((m, used))) = frames.decode::<O>(rest) {
                black_box(&m);
                rest = &rest[used..];
                n += 1;
            }
            assert_eq!(n, FRAMES);
        })
    });
    g.bench_function("prost", |b| {
        b.iter(|| {
            let mut rest = black_box(buf);
            while !rest.is_empty() {
                black_box(P::decode_length_delimited(&mut rest).unwrap());
            }
        })
    });
    g.bench_function("quick-protobuf", |b| {
        b.iter(|| {
            let data = black_box(buf);
            let mut reader = BytesReader::from_bytes(data);
            while !reader.is_eof() {
                black_box(reader.read_message::<Q>(data).unwrap());
            }
        })
    });
    g.bench_function("buffa", |b| {
        b.iter(|| {
            let mut rest = black_box(buf);
            while !rest.is_empty() {
                black_box(B::decode_length_delimited(&mut rest).unwrap());
            }
        })
    });
    g.finish();
}

/// What the one `unsafe` block (src/owned.rs) buys: reading a field of an owned header
/// through the stored decoded header, against decoding its bytes again on each access.
fn owned(c: &mut Criterion) {
    let input = &inputs::requests()[0];
    let owned = atomix_headers::OwnedRequestHeader::decode(input.bytes.clone().into()).unwrap();
    let mut g = group(c, "owned/request/read_field".into(), input.bytes.len());
    g.bench_function("stored header", |b| {
        b.iter(|| black_box(&owned).message().index)
    });
    g.bench_function("decode again", |b| {
        b.iter(|| {
            RequestHeader::decode(black_box(&owned).bytes())
                .unwrap()
                .index
        })
    });
    g.finish();
}

criterion_group!(benches, request, response, stream, owned);
criterion_main!(benches);
