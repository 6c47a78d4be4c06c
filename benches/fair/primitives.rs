//! Envelopes in the fair suite: real, varied atomix-api requests and responses (counter,
//! map, lock, value, list), read where a proxy reads them.
//!
//! Inputs (seeded, drawn once): 256 requests and 256 responses, and 1,000 other requests
//! in gRPC frames. Each message is one operation drawn uniformly from the list in
//! [`request`] or [`response`], its fields written in number order and left out when
//! they hold their default, as every protobuf runtime writes them. Headers carry ids
//! absent 5% or 20% of the time and otherwise of a varint length uniform over 1 to 9
//! bytes (1 to 10 in responses), a name and namespace of 3 to 60 bytes, 0 to 3 streams,
//! in responses a leader of 0 to 60 bytes and every status and type; keys are 3 to 60 bytes;
//! values (bytes, or strings for a list) are empty one time in eight and otherwise of a
//! length uniform below a power of two itself uniform from 2 to 4,096, so every size
//! class up to 4 KiB is as common; int64 fields are negative half the time (a 10-byte
//! varint).
//!
//! Groups:
//! - `envelope/primitives/route`: decode the request, find its partition among
//!   [`PARTITIONS`] by the Go client's rule ([`partition::route`]: FNV-1a 32 of the name,
//!   or of the key for a map entry), read the session and request ids;
//! - `envelope/primitives_frames/route`: the same behind a gRPC frame prefix each;
//! - `envelope/primitives/stamp`: decode the request, set `header.index`, re-encode it
//!   whole into a reused buffer (the checksum is the bytes written);
//! - `envelope/responses/read`: decode the response and read every header field.
//!
//! The peers read each request as the smallest message of their generated code that
//! holds what routing needs: a header-only message (`counter.GetRequest` for
//! quick-protobuf and buffa, `RequestEnvelope` for prost), or, for a map entry, the
//! header and key (`map.GetRequest`, prost's `KeyedRequest`). So they skip the operation
//! fields without building them, their best case. Only a peer that keeps unknown fields
//! can stamp and re-encode a message it reads through such a type: buffa's owned
//! messages do; prost and quick-protobuf drop them, so they take no part in `stamp`.
//! For responses, prost reads `ResponseEnvelope` and quick-protobuf `counter.GetResponse`,
//! which also reads a varint field 2 when there is one; buffa takes no part.
//!
//! Every group has `floor`: every tag of the message walked, into the header, its name
//! and its streams, other payloads skipped by wire type, nothing built or checked, and
//! for `route` the FNV-1a 32 hash of the same key, for `stamp` the same output bytes
//! (the header with its `index` field replaced, then the other fields copied).

use crate::suite::{mix, push_varint, response_sum, walk_fields, Bench, Rng, FRAMES, OUT, VARIED};
use atomix_headers::grpc::GrpcDecoder;
use atomix_headers::partition::{self, Method, Scope};
use atomix_headers::{
    Message, Name, Progress, RequestEnvelope, RequestHeader, ResponseEnvelope, ResponseHeader,
    ResponseStatus, ResponseType, StreamHeader, Streams,
};
use std::hint::black_box;

use buffa::{Message as _, MessageView as _};
use quick_protobuf::{BytesReader, MessageRead};
use testkit::peers::buffa_types::atomix::{counter as bfc, map as bfm};
use testkit::peers::prost_types as pr;
use testkit::peers::quick::atomix::{counter as qpc, map as qpm};

/// The partitions requests are routed among.
pub const PARTITIONS: u32 = 7;
/// The index every `stamp` writes into the header.
const STAMP: u64 = 1_000_000_007;

/// A request with the method it was sent to.
#[derive(Clone)]
struct Request {
    method: Method,
    bytes: Vec<u8>,
}

// ---- inputs ----

/// Protobuf fields written in number order, defaults left out.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, value: u64) {
        push_varint(&mut self.0, value);
    }

    fn uint(&mut self, number: u32, value: u64) -> &mut Self {
        if value != 0 {
            self.varint(u64::from(number << 3));
            self.varint(value);
        }
        self
    }

    fn bytes(&mut self, number: u32, value: &[u8]) -> &mut Self {
        if !value.is_empty() {
            self.message(number, value);
        }
        self
    }

    /// A length-delimited field even when empty, as a message field is written.
    fn message(&mut self, number: u32, body: &[u8]) -> &mut Self {
        self.varint(u64::from(number << 3 | 2));
        self.varint(body.len() as u64);
        self.0.extend_from_slice(body);
        self
    }
}

impl Rng {
    /// An int64 of a varint length uniform over 1 to 9 bytes, negative (10 bytes) half
    /// the time, 0 one time in twenty.
    fn int64(&mut self) -> u64 {
        let value = self.long_id(5);
        if self.below(2) == 0 {
            value.wrapping_neg()
        } else {
            value
        }
    }

    /// A value's length: 0 one time in eight, else uniform below 2^k, k uniform over 1
    /// to 12.
    fn value_len(&mut self) -> usize {
        if self.below(8) == 0 {
            return 0;
        }
        let k = 1 + self.below(12);
        self.below(1 << k) as usize
    }

    /// An id absent `percent` times in 100, else of a varint length uniform over 1 to
    /// 10 bytes (10 bytes: 2^63 and above).
    fn any_id(&mut self, percent: u64) -> u64 {
        if self.below(100) < percent {
            return 0;
        }
        match 1 + self.below(10) {
            10 => 1 << 63 | self.next(),
            bytes => self.of_length(bytes),
        }
    }

    /// A leader's address: 0 to 60 printable bytes, uniformly.
    fn leader(&mut self) -> String {
        let len = self.below(61);
        (0..len)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }

    fn value(&mut self) -> Vec<u8> {
        let len = self.value_len();
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn text(&mut self) -> String {
        let len = self.value_len();
        (0..len)
            .map(|_| (b' ' + self.below(95) as u8) as char)
            .collect()
    }
}

fn header(rng: &mut Rng) -> Vec<u8> {
    let (name, namespace) = (rng.string(), rng.string());
    let streams: Vec<StreamHeader<'static>> = (0..rng.below(4))
        .map(|_| StreamHeader {
            stream_id: rng.long_id(5),
            response_id: rng.long_id(20),
            ..Default::default()
        })
        .collect();
    RequestHeader {
        name: Some(Name {
            name: &name,
            namespace: &namespace,
            ..Default::default()
        }),
        session_id: rng.long_id(5),
        request_id: rng.long_id(5),
        index: rng.long_id(20),
        streams: Streams::from_slice(&streams),
        ..Default::default()
    }
    .encode_to_vec()
    .unwrap()
}

/// One request: a method of the five primitives, drawn uniformly, and its fields.
fn request(rng: &mut Rng) -> Request {
    const OPERATIONS: [&str; 18] = [
        "counter.CounterService/Get",
        "counter.CounterService/Increment",
        "counter.CounterService/Set",
        "counter.CounterService/CheckAndSet",
        "map.MapService/Put",
        "map.MapService/Get",
        "map.MapService/Remove",
        "map.MapService/Exists",
        "lock.LockService/Lock",
        "lock.LockService/Unlock",
        "lock.LockService/IsLocked",
        "value.ValueService/Set",
        "value.ValueService/Get",
        "list.ListService/Append",
        "list.ListService/Get",
        "list.ListService/Insert",
        "list.ListService/Set",
        "list.ListService/Remove",
    ];
    let path = OPERATIONS[rng.below(OPERATIONS.len() as u64) as usize];
    let method = partition::method(&format!("/atomix.{path}")).unwrap();
    let mut w = Writer::default();
    w.message(1, &header(rng));
    match path {
        "counter.CounterService/Get" | "value.ValueService/Get" => &mut w,
        "counter.CounterService/Increment" | "counter.CounterService/Set" => w.uint(2, rng.int64()),
        "counter.CounterService/CheckAndSet" => w.uint(2, rng.int64()).uint(3, rng.int64()),
        "map.MapService/Put" => w
            .bytes(2, rng.string().as_bytes())
            .bytes(3, &rng.value())
            .uint(4, rng.int64()),
        "map.MapService/Remove" => w.bytes(2, rng.string().as_bytes()).uint(4, rng.int64()),
        "map.MapService/Get" | "map.MapService/Exists" => w.bytes(2, rng.string().as_bytes()),
        // google.protobuf.Duration { seconds = 1, nanos = 2 }
        "lock.LockService/Lock" => {
            let mut timeout = Writer::default();
            timeout.uint(1, rng.below(60)).uint(2, rng.below(1 << 30));
            w.message(2, &timeout.0)
        }
        "lock.LockService/Unlock" | "lock.LockService/IsLocked" => w.uint(2, rng.long_id(5)),
        "value.ValueService/Set" => w
            .uint(2, rng.long_id(20))
            .bytes(3, &rng.value())
            .bytes(4, &rng.value()),
        "list.ListService/Append" => w.bytes(2, rng.text().as_bytes()),
        "list.ListService/Get" | "list.ListService/Remove" => w.uint(2, rng.below(1 << 20)),
        _ => w
            .uint(2, rng.below(1 << 20))
            .bytes(3, rng.text().as_bytes()),
    };
    Request { method, bytes: w.0 }
}

/// One response: an operation of the five primitives, drawn uniformly, and its fields.
/// Its header has every status and type, a leader of 0 to 60 bytes (0 is absent), and
/// ids absent 5% or 20% of the time and otherwise of every varint length, 1 to 10 bytes.
fn response(rng: &mut Rng) -> Vec<u8> {
    let leader = rng.leader();
    let header = ResponseHeader {
        session_id: rng.any_id(5),
        stream_id: rng.any_id(20),
        response_id: rng.any_id(20),
        index: rng.any_id(5),
        leader: &leader,
        status: ResponseStatus::from_value(rng.below(3) as i32),
        r#type: ResponseType::from_value(rng.below(3) as i32),
        ..Default::default()
    }
    .encode_to_vec()
    .unwrap();
    let mut w = Writer::default();
    w.message(1, &header);
    match rng.below(8) {
        // counter.GetResponse
        0 => w.uint(2, rng.int64()),
        // counter.IncrementResponse
        1 => w.uint(2, rng.int64()).uint(3, rng.int64()),
        // map.PutResponse
        2 => w
            .uint(2, rng.below(4))
            .bytes(5, &rng.value())
            .uint(6, rng.int64()),
        // map.GetResponse, value.GetResponse
        3 | 4 => w.bytes(2, &rng.value()).uint(3, rng.long_id(5)),
        // lock.LockResponse
        5 => w.uint(2, rng.long_id(5)),
        // list.GetResponse
        6 => w.uint(2, rng.below(4)).bytes(3, rng.text().as_bytes()),
        // list.AppendResponse
        _ => w.uint(2, rng.below(4)),
    };
    w.0
}

/// `requests`, each behind a gRPC prefix: uncompressed, its length in 4 bytes.
fn grpc_frames(requests: &[Request]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in requests {
        out.push(0);
        out.extend_from_slice(&(r.bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&r.bytes);
    }
    out
}

// ---- route ----

fn route_sum(acc: u64, partition: u32, session_id: u64, request_id: u64) -> u64 {
    mix(mix(mix(acc, u64::from(partition)), session_id), request_id)
}

fn ours_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let request = RequestEnvelope::decode(bytes).unwrap();
    let partition = partition::route(method, &request, PARTITIONS).unwrap();
    let h = request.header.unwrap_or_default();
    route_sum(acc, partition, h.session_id, h.request_id)
}

/// A peer's route: FNV-1a 32 of the name or the key, as [`partition::route`] has it.
fn peer_partition(key: &[u8]) -> u32 {
    partition::fnv1a_32(key) % PARTITIONS
}

fn prost_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let (header, key) = match method.scope {
        Scope::Entry => {
            let r = <pr::KeyedRequest as prost::Message>::decode(bytes).unwrap();
            (r.header.unwrap_or_default(), Some(r.key))
        }
        _ => {
            let r = <pr::RequestEnvelope as prost::Message>::decode(bytes).unwrap();
            (r.header.unwrap_or_default(), None)
        }
    };
    let name = header.name.unwrap_or_default().name;
    let partition = peer_partition(key.as_deref().unwrap_or(&name).as_bytes());
    route_sum(acc, partition, header.session_id, header.request_id)
}

fn quick_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let mut reader = BytesReader::from_bytes(bytes);
    let (header, key) = match method.scope {
        Scope::Entry => {
            let r = qpm::GetRequest::from_reader(&mut reader, bytes).unwrap();
            (r.header.unwrap_or_default(), Some(r.key))
        }
        _ => {
            let r = qpc::GetRequest::from_reader(&mut reader, bytes).unwrap();
            (r.header.unwrap_or_default(), None)
        }
    };
    let name = header.name.unwrap_or_default().name;
    let partition = peer_partition(key.as_deref().unwrap_or(&name).as_bytes());
    route_sum(acc, partition, header.session_id, header.request_id)
}

fn buffa_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let (header, key) = match method.scope {
        Scope::Entry => {
            let r = bfm::GetRequest::decode_from_slice(bytes).unwrap();
            (
                r.header.as_option().cloned().unwrap_or_default(),
                Some(r.key),
            )
        }
        _ => {
            let r = bfc::GetRequest::decode_from_slice(bytes).unwrap();
            (r.header.as_option().cloned().unwrap_or_default(), None)
        }
    };
    let name = header
        .name
        .as_option()
        .map(|n| n.name.clone())
        .unwrap_or_default();
    let partition = peer_partition(key.as_deref().unwrap_or(&name).as_bytes());
    route_sum(acc, partition, header.session_id, header.request_id)
}

fn view_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let (header, key) = match method.scope {
        Scope::Entry => {
            let r = bfm::GetRequestView::decode_view(bytes).unwrap();
            (r.header.as_option().cloned(), Some(r.key))
        }
        _ => {
            let r = bfc::GetRequestView::decode_view(bytes).unwrap();
            (r.header.as_option().cloned(), None)
        }
    };
    let (name, session_id, request_id) = header.map_or(("", 0, 0), |h| {
        (
            h.name.as_option().map_or("", |n| n.name),
            h.session_id,
            h.request_id,
        )
    });
    let partition = peer_partition(key.unwrap_or(name).as_bytes());
    route_sum(acc, partition, session_id, request_id)
}

// ---- the floor ----

/// What the floor finds in a request: its header's payload, the name, the last key
/// (field 2, length-delimited), the tags walked, and where the header's `index` field
/// lies in the header.
#[derive(Default)]
struct Walked<'a> {
    header: &'a [u8],
    name: &'a [u8],
    key: &'a [u8],
    tags: u64,
    index: Option<(usize, usize)>,
}

#[inline(always)]
fn walk_request(bytes: &[u8]) -> Walked<'_> {
    let (mut header, mut name, mut key, mut index) = (&[][..], &[][..], &[][..], None);
    // Tags of the header, and of its name and streams.
    let (mut header_tags, mut deep) = (0, 0);
    let tags = walk_fields(bytes, |tag, _, payload| match tag {
        0x0a => {
            header = payload;
            let mut index_start = None;
            header_tags += walk_fields(payload, |tag, at, body| {
                // `at` is where the value starts, past the field's one-byte tag.
                if let Some(start) = index_start.take() {
                    index = Some((start, at - 1));
                }
                match tag {
                    0x0a => {
                        deep += walk_fields(body, |tag, _, s| {
                            if tag == 0x0a {
                                name = s;
                            }
                        })
                    }
                    0x20 => index_start = Some(at - 1),
                    0x2a => deep += walk_fields(body, |_, _, _| {}),
                    _ => {}
                }
            });
            if let Some(start) = index_start {
                index = Some((start, payload.len()));
            }
        }
        0x12 => key = payload,
        _ => {}
    });
    Walked {
        header,
        name,
        key,
        tags: tags + header_tags + deep,
        index,
    }
}

fn floor_route(acc: u64, method: Method, bytes: &[u8]) -> u64 {
    let w = walk_request(bytes);
    let key = if method.scope == Scope::Entry {
        w.key
    } else {
        w.name
    };
    mix(acc, u64::from(peer_partition(key)) ^ w.tags)
}

/// Splits gRPC frames and hands each body to `one`, for the peers and the floor; ours
/// goes through `GrpcDecoder`, as a proxy does.
#[inline(always)]
fn grpc_frames_with(
    frames: &[u8],
    methods: &[Method],
    mut one: impl FnMut(u64, Method, &[u8]) -> u64,
) -> u64 {
    let mut rest = frames;
    let mut acc = 0;
    for &method in methods {
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        acc = one(acc, method, &rest[5..5 + len]);
        rest = &rest[5 + len..];
    }
    acc
}

macro_rules! route_loops {
    ($($fn:ident: $one:path;)+) => {
        $(
            #[inline(never)]
            fn $fn(requests: &[Request], frames: Option<(&[u8], &[Method])>) -> u64 {
                match frames {
                    Some((frames, methods)) => grpc_frames_with(black_box(frames), methods, $one),
                    None => requests
                        .iter()
                        .fold(0, |acc, r| $one(acc, r.method, black_box(&r.bytes))),
                }
            }
        )+
    };
}

route_loops! {
    prost_route_loop: prost_route;
    quick_route_loop: quick_route;
    buffa_route_loop: buffa_route;
    view_route_loop: view_route;
    floor_route_loop: floor_route;
}

#[inline(never)]
fn ours_route_loop(requests: &[Request], frames: Option<(&[u8], &[Method])>) -> u64 {
    let Some((frames, methods)) = frames else {
        return requests
            .iter()
            .fold(0, |acc, r| ours_route(acc, r.method, black_box(&r.bytes)));
    };
    let decoder = GrpcDecoder::new();
    let mut rest = black_box(frames);
    let mut acc = 0;
    for &method in methods {
        let Ok(Progress::Complete((request, used))) = decoder.decode::<RequestEnvelope<'_>>(rest)
        else {
            break;
        };
        let partition = partition::route(method, &request, PARTITIONS).unwrap();
        let h = request.header.unwrap_or_default();
        acc = route_sum(acc, partition, h.session_id, h.request_id);
        rest = &rest[used..];
    }
    acc
}

// ---- stamp ----

#[inline(never)]
fn ours_stamp(requests: &[Request]) -> u64 {
    OUT.with_borrow_mut(|buf| {
        let mut total = 0;
        for r in requests {
            let mut request = RequestEnvelope::decode(black_box(&r.bytes)).unwrap();
            request.header.get_or_insert_default().index = STAMP;
            buf.clear();
            request.encode(buf).unwrap();
            total += buf.len() as u64;
        }
        total
    })
}

/// Ours again, writing with `splice`: the header's other fields and the operation are
/// copied from the input instead of encoded.
#[cfg(fair_splice)]
#[inline(never)]
fn ours_splice(requests: &[Request]) -> u64 {
    let stamp = atomix_headers::RequestStamp {
        index: Some(STAMP),
        ..Default::default()
    };
    OUT.with_borrow_mut(|buf| {
        let mut total = 0;
        for r in requests {
            let bytes = black_box(&r.bytes[..]);
            let request = RequestEnvelope::decode(bytes).unwrap();
            buf.clear();
            request.splice(bytes, &stamp, buf).unwrap();
            total += buf.len() as u64;
        }
        total
    })
}

#[inline(never)]
fn buffa_stamp(requests: &[Request]) -> u64 {
    OUT.with_borrow_mut(|buf| {
        let mut total = 0;
        for r in requests {
            let mut request = bfc::GetRequest::decode_from_slice(black_box(&r.bytes)).unwrap();
            request.header.get_or_insert_default().index = STAMP;
            buf.clear();
            request.encode(buf);
            total += buf.len() as u64;
        }
        total
    })
}

/// The floor's stamp: the walk, then the header written again with `index` replaced,
/// then the other fields copied (every input carries its header first and once). The
/// new `index` field is the same for every request: encoded once, before the loop.
#[inline(never)]
fn floor_stamp(requests: &[Request]) -> u64 {
    let mut index = vec![0x20];
    push_varint(&mut index, STAMP);
    OUT.with_borrow_mut(|buf| {
        let mut total = 0;
        for r in requests {
            let bytes = black_box(&r.bytes[..]);
            let w = walk_request(bytes);
            let (before, after) = match w.index {
                Some((start, end)) => (&w.header[..start], &w.header[end..]),
                None => (w.header, &[][..]),
            };
            buf.clear();
            buf.push(0x0a);
            push_varint(buf, (before.len() + index.len() + after.len()) as u64);
            buf.extend_from_slice(before);
            buf.extend_from_slice(&index);
            buf.extend_from_slice(after);
            // The header's payload ends inside `bytes`: the rest follows it.
            let header_end = w.header.as_ptr() as usize - bytes.as_ptr() as usize + w.header.len();
            buf.extend_from_slice(&bytes[header_end..]);
            total += buf.len() as u64 ^ w.tags << 32;
        }
        total
    })
}

// ---- responses ----

fn ours_response(acc: u64, bytes: &[u8]) -> u64 {
    let r = ResponseEnvelope::decode(bytes)
        .unwrap()
        .header
        .unwrap_or_default();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, r.leader, r.status.value(), r.r#type.value())
}

fn prost_response(acc: u64, bytes: &[u8]) -> u64 {
    let e = <pr::ResponseEnvelope as prost::Message>::decode(bytes).unwrap();
    let r = e.header.unwrap_or_default();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, &r.leader, r.status, r.r#type)
}

fn quick_response(acc: u64, bytes: &[u8]) -> u64 {
    let e = qpc::GetResponse::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap();
    let r = e.header.unwrap_or_default();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, &r.leader, r.status as i32, r.type_pb as i32)
}

fn floor_response(acc: u64, bytes: &[u8]) -> u64 {
    let mut nested = 0;
    let tags = walk_fields(bytes, |tag, _, payload| {
        if tag == 0x0a {
            nested += walk_fields(payload, |_, _, _| {});
        }
    });
    acc + tags + nested
}

macro_rules! response_loops {
    ($($fn:ident: $one:path;)+) => {
        $(
            #[inline(never)]
            fn $fn(responses: &[Vec<u8>]) -> u64 {
                responses.iter().fold(0, |acc, m| $one(acc, black_box(m)))
            }
        )+
    };
}

response_loops! {
    ours_response_loop: ours_response;
    prost_response_loop: prost_response;
    quick_response_loop: quick_response;
    floor_response_loop: floor_response;
}

// ---- registry ----

type RouteLoop = fn(&[Request], Option<(&[u8], &[Method])>) -> u64;
type StampLoop = fn(&[Request]) -> u64;
type ReadLoop = fn(&[Vec<u8>]) -> u64;

/// The envelope groups.
pub fn benches() -> Vec<Bench> {
    let mut out = Vec::new();
    let mut rng = Rng(0x5eed_0005);
    let requests: Vec<Request> = (0..VARIED).map(|_| request(&mut rng)).collect();
    let framed: Vec<Request> = (0..FRAMES).map(|_| request(&mut rng)).collect();
    let responses: Vec<Vec<u8>> = (0..VARIED).map(|_| response(&mut rng)).collect();
    let frames = grpc_frames(&framed);
    let methods: Vec<Method> = framed.iter().map(|r| r.method).collect();

    let routes: [(&'static str, RouteLoop); 6] = [
        ("atomix-headers", ours_route_loop),
        ("prost", prost_route_loop),
        ("quick-protobuf", quick_route_loop),
        ("buffa", buffa_route_loop),
        ("buffa-view", view_route_loop),
        ("floor", floor_route_loop),
    ];
    for (contender, run) in routes {
        let requests = requests.clone();
        out.push(Bench {
            group: "envelope/primitives/route".into(),
            contender,
            messages: requests.len(),
            run: Box::new(move || run(&requests, None)),
        });
    }
    for (contender, run) in routes {
        let (frames, methods) = (frames.clone(), methods.clone());
        out.push(Bench {
            group: "envelope/primitives_frames/route".into(),
            contender,
            messages: methods.len(),
            run: Box::new(move || run(&[], Some((&frames, &methods)))),
        });
    }
    #[allow(unused_mut)]
    let mut stamps: Vec<(&'static str, StampLoop)> = vec![
        ("atomix-headers", ours_stamp),
        ("buffa", buffa_stamp),
        ("floor", floor_stamp),
    ];
    // Built only with `--cfg fair_splice`: a second caller of the envelope's decode in
    // this binary changes how the compiler inlines it into `ours_stamp` (+2.7%).
    #[cfg(fair_splice)]
    stamps.insert(1, ("atomix-headers splice", ours_splice));
    for (contender, run) in stamps {
        let requests = requests.clone();
        out.push(Bench {
            group: "envelope/primitives/stamp".into(),
            contender,
            messages: requests.len(),
            run: Box::new(move || run(&requests)),
        });
    }
    let reads: [(&'static str, ReadLoop); 4] = [
        ("atomix-headers", ours_response_loop),
        ("prost", prost_response_loop),
        ("quick-protobuf", quick_response_loop),
        ("floor", floor_response_loop),
    ];
    for (contender, run) in reads {
        let responses = responses.clone();
        out.push(Bench {
            group: "envelope/responses/read".into(),
            contender,
            messages: responses.len(),
            run: Box::new(move || run(&responses)),
        });
    }
    out
}
