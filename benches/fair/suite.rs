//! The fair suite: every contender does the same work on the same inputs, and the work is
//! one `#[inline(never)]` loop function per contender and operation, which criterion
//! times (benches/fair/main.rs) and callgrind counts (benches/fair_report.py) in the same
//! binary, which `cargo test` also runs once, to check that every contender of a group
//! returns the same checksum.
//!
//! It is compiled in the benchmark's crate, not in testkit: compiled in another crate,
//! the same loop functions inline the encoders differently, and the counts would no
//! longer compare with those of the earlier tables in benches/README.md.
//!
//! Inputs, per message type: `typical` and `worst` (`testkit::inputs`, each one message),
//! `varied` (256 messages, seeded: ids absent or of 1 to 9 varint bytes, strings of 3 to
//! 60 bytes, 0 to 6 streams), `long` (256 messages whose ids are absent 5% or 20% of the
//! time and otherwise of a varint length uniform over 1 to 9 bytes) and, for decoding,
//! `frames` and `long_frames` (1,000 other varied or long messages, each behind a varint
//! length prefix). Decoding reads every field into the checksum: ids, enums, string
//! lengths and first bytes, and for a RequestHeader the name, the namespace and every
//! stream. Every decode group also has `floor`, a bare tag walk (see [`walk`]).
#![allow(dead_code)]

use atomix_headers::framing::FrameDecoder;
use atomix_headers::{
    Message, Name, Progress, RequestHeader, ResponseHeader, ResponseStatus, ResponseType,
    StreamHeader, Streams,
};
use std::hint::black_box;

use testkit::inputs;
use testkit::peers::buffa_types as bf;
use testkit::peers::prost_types as pr;
use testkit::peers::quick;

use bf::atomix::headers as bfh;
use buffa::{Message as _, MessageView as _};
use quick::atomix::headers as qp;
use quick_protobuf::{BytesReader, MessageRead, MessageWrite, Writer};

pub const VARIED: usize = 256;
pub const FRAMES: usize = 1_000;

/// One benchmark: its group (`type/shape/operation`), its contender, how many messages
/// one run handles, and the run, which returns a checksum.
pub struct Bench {
    pub group: String,
    pub contender: &'static str,
    pub messages: usize,
    pub run: Box<dyn Fn() -> u64>,
}

// ---- inputs ----

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An id: absent (0), or a value whose varint takes 1 to 9 bytes.
    pub fn id(&mut self) -> u64 {
        match self.below(10) {
            0 => 0,
            bytes => self.of_length(bytes),
        }
    }

    /// A value whose varint takes `bytes` bytes, 1 to 9.
    pub fn of_length(&mut self, bytes: u64) -> u64 {
        let low = if bytes == 1 {
            1
        } else {
            1u64 << (7 * (bytes - 1))
        };
        low + self.below((1u64 << (7 * bytes)) - low)
    }

    /// An id absent `percent` times in 100, else of a varint length uniform over 1 to 9
    /// bytes (not of a uniform value): the `long` shape.
    pub fn long_id(&mut self, percent: u64) -> u64 {
        if self.below(100) < percent {
            return 0;
        }
        let bytes = 1 + self.below(9);
        self.of_length(bytes)
    }

    /// A string of 3 to 60 printable ASCII bytes.
    pub fn string(&mut self) -> String {
        let len = 3 + self.below(58);
        (0..len)
            .map(|_| (b'a' + self.below(26) as u8) as char)
            .collect()
    }
}

/// The values of a varied message, kept so that built headers can borrow them.
struct RequestValues {
    name: Option<(String, String)>,
    ids: [u64; 3],
    streams: Vec<StreamHeader<'static>>,
}

fn varied_request(rng: &mut Rng) -> RequestValues {
    RequestValues {
        name: (rng.below(8) != 0).then(|| (rng.string(), rng.string())),
        ids: [rng.id(), rng.id(), rng.id()],
        streams: (0..rng.below(7))
            .map(|_| StreamHeader {
                stream_id: rng.id(),
                response_id: rng.id(),
                ..Default::default()
            })
            .collect(),
    }
}

fn build_request(v: &RequestValues) -> RequestHeader<'_> {
    RequestHeader {
        name: v.name.as_ref().map(|(name, namespace)| Name {
            name,
            namespace,
            ..Default::default()
        }),
        session_id: v.ids[0],
        request_id: v.ids[1],
        index: v.ids[2],
        streams: Streams::from_slice(&v.streams),
        ..Default::default()
    }
}

fn varied_response(rng: &mut Rng) -> Vec<u8> {
    response_with(rng, |rng| [rng.id(), rng.id(), rng.id(), rng.id()])
}

/// A response with a leader half of the time, the ids `ids` draws (session, stream,
/// response, index), and any known status and type; drawn in that order, which the
/// varied inputs were always drawn in.
fn response_with(rng: &mut Rng, ids: impl FnOnce(&mut Rng) -> [u64; 4]) -> Vec<u8> {
    let leader = (rng.below(2) == 0).then(|| rng.string());
    let ids = ids(rng);
    ResponseHeader {
        session_id: ids[0],
        stream_id: ids[1],
        response_id: ids[2],
        index: ids[3],
        leader: leader.as_deref().unwrap_or_default(),
        status: ResponseStatus::from_value(rng.below(3) as i32),
        r#type: ResponseType::from_value(rng.below(3) as i32),
        ..Default::default()
    }
    .encode_to_vec()
    .unwrap()
}

fn varied_stream(rng: &mut Rng) -> Vec<u8> {
    StreamHeader {
        stream_id: rng.id(),
        response_id: rng.id(),
        ..Default::default()
    }
    .encode_to_vec()
    .unwrap()
}

fn long_stream(rng: &mut Rng) -> Vec<u8> {
    StreamHeader {
        stream_id: rng.long_id(5),
        response_id: rng.long_id(20),
        ..Default::default()
    }
    .encode_to_vec()
    .unwrap()
}

fn long_response(rng: &mut Rng) -> Vec<u8> {
    response_with(rng, |rng| {
        [
            rng.long_id(5),
            rng.long_id(20),
            rng.long_id(20),
            rng.long_id(5),
        ]
    })
}

fn long_request(rng: &mut Rng) -> Vec<u8> {
    let name = (rng.below(8) != 0).then(|| (rng.string(), rng.string()));
    let streams: Vec<StreamHeader<'static>> = (0..rng.below(7))
        .map(|_| StreamHeader {
            stream_id: rng.long_id(5),
            response_id: rng.long_id(20),
            ..Default::default()
        })
        .collect();
    RequestHeader {
        name: name.as_ref().map(|(name, namespace)| Name {
            name,
            namespace,
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

/// The messages of each shape, encoded, and the frame groups.
struct Shapes {
    shapes: Vec<(&'static str, Vec<Vec<u8>>)>,
    frames: Vec<(&'static str, Vec<u8>)>,
}

/// `FRAMES` messages from `generate`, each behind a varint length prefix.
fn frames_of(rng: &mut Rng, generate: &impl Fn(&mut Rng) -> Vec<u8>) -> Vec<u8> {
    let mut frames = Vec::new();
    for _ in 0..FRAMES {
        frames.extend(inputs::frames(&generate(rng), 1));
    }
    frames
}

fn shapes(
    fixed: Vec<inputs::Input>,
    varied: impl Fn(&mut Rng) -> Vec<u8>,
    long: impl Fn(&mut Rng) -> Vec<u8>,
    seed: u64,
) -> Shapes {
    let mut rng = Rng(seed);
    let mut shapes: Vec<(&'static str, Vec<Vec<u8>>)> =
        fixed.into_iter().map(|i| (i.name, vec![i.bytes])).collect();
    shapes.push(("varied", (0..VARIED).map(|_| varied(&mut rng)).collect()));
    let frames = frames_of(&mut rng, &varied);
    // Drawn after the others, so that adding them changed none of the earlier inputs.
    shapes.push(("long", (0..VARIED).map(|_| long(&mut rng)).collect()));
    let long_frames = frames_of(&mut rng, &long);
    Shapes {
        shapes,
        frames: vec![("frames", frames), ("long_frames", long_frames)],
    }
}

// ---- checksums: the same fold for every contender ----

pub fn mix(acc: u64, value: u64) -> u64 {
    (acc ^ value)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(7)
}

fn text(acc: u64, s: &str) -> u64 {
    mix(
        acc,
        s.len() as u64 | u64::from(s.as_bytes().first().copied().unwrap_or(0)) << 32,
    )
}

fn request_sum(
    acc: u64,
    name: Option<(&str, &str)>,
    ids: [u64; 3],
    streams: impl Iterator<Item = (u64, u64)>,
) -> u64 {
    let mut acc = match name {
        Some((name, namespace)) => text(text(mix(acc, 1), name), namespace),
        None => mix(acc, 0),
    };
    for id in ids {
        acc = mix(acc, id);
    }
    for (stream_id, response_id) in streams {
        acc = mix(mix(acc, stream_id), response_id);
    }
    acc
}

pub fn response_sum(acc: u64, ids: [u64; 4], leader: &str, status: i32, r#type: i32) -> u64 {
    let mut acc = text(acc, leader);
    for id in ids {
        acc = mix(acc, id);
    }
    mix(mix(acc, status as u64), r#type as u64)
}

// ---- decoding, one message: every contender reads every field ----

fn prost_request(acc: u64, bytes: &[u8]) -> u64 {
    let r = <pr::RequestHeader as prost::Message>::decode(bytes).unwrap();
    let name = r.name.as_ref().map(|n| (&n.name[..], &n.namespace[..]));
    let streams = r.streams.iter().map(|s| (s.stream_id, s.response_id));
    request_sum(acc, name, [r.session_id, r.request_id, r.index], streams)
}

fn quick_request(acc: u64, bytes: &[u8]) -> u64 {
    let r = qp::RequestHeader::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap();
    let name = r.name.as_ref().map(|n| (&n.name[..], &n.namespace[..]));
    let streams = r.streams.iter().map(|s| (s.stream_id, s.response_id));
    request_sum(acc, name, [r.session_id, r.request_id, r.index], streams)
}

fn buffa_request(acc: u64, bytes: &[u8]) -> u64 {
    let r = bfh::RequestHeader::decode_from_slice(bytes).unwrap();
    let name = r.name.as_option().map(|n| (&n.name[..], &n.namespace[..]));
    let streams = r.streams.iter().map(|s| (s.stream_id, s.response_id));
    request_sum(acc, name, [r.session_id, r.request_id, r.index], streams)
}

fn view_request(acc: u64, bytes: &[u8]) -> u64 {
    let r = bfh::RequestHeaderView::decode_view(bytes).unwrap();
    let name = r.name.as_option().map(|n| (n.name, n.namespace));
    let streams = r.streams.iter().map(|s| (s.stream_id, s.response_id));
    request_sum(acc, name, [r.session_id, r.request_id, r.index], streams)
}

fn prost_response(acc: u64, bytes: &[u8]) -> u64 {
    let r = <pr::ResponseHeader as prost::Message>::decode(bytes).unwrap();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, &r.leader, r.status, r.r#type)
}

fn quick_response(acc: u64, bytes: &[u8]) -> u64 {
    let r = qp::ResponseHeader::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, &r.leader, r.status as i32, r.type_pb as i32)
}

fn buffa_response(acc: u64, bytes: &[u8]) -> u64 {
    let r = bfh::ResponseHeader::decode_from_slice(bytes).unwrap();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, &r.leader, r.status.to_i32(), r.r#type.to_i32())
}

fn view_response(acc: u64, bytes: &[u8]) -> u64 {
    let r = bfh::ResponseHeaderView::decode_view(bytes).unwrap();
    let ids = [r.session_id, r.stream_id, r.response_id, r.index];
    response_sum(acc, ids, r.leader, r.status.to_i32(), r.r#type.to_i32())
}

fn prost_stream(acc: u64, bytes: &[u8]) -> u64 {
    let s = <pr::StreamHeader as prost::Message>::decode(bytes).unwrap();
    mix(mix(acc, s.stream_id), s.response_id)
}

fn quick_stream(acc: u64, bytes: &[u8]) -> u64 {
    let s = qp::StreamHeader::from_reader(&mut BytesReader::from_bytes(bytes), bytes).unwrap();
    mix(mix(acc, s.stream_id), s.response_id)
}

fn buffa_stream(acc: u64, bytes: &[u8]) -> u64 {
    let s = bfh::StreamHeader::decode_from_slice(bytes).unwrap();
    mix(mix(acc, s.stream_id), s.response_id)
}

fn view_stream(acc: u64, bytes: &[u8]) -> u64 {
    let s = bfh::StreamHeaderView::decode_view(bytes).unwrap();
    mix(mix(acc, s.stream_id), s.response_id)
}

// ---- the loop functions that are timed and counted ----

// ---- the floor: a bare tag walk ----

/// Reads a varint at `pos`, without the checks a decoder makes (overflow, canonical
/// form): `None` at the end of the input. A one-byte varint (every tag here, most
/// lengths) is read alone; a longer one, with 8 bytes of input left, from one word:
/// its end is the first byte whose top bit is clear, and its 7-bit groups are
/// gathered in three steps. As fast as any decoder reads a varint without `pdep`.
#[inline(always)]
pub fn walk_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let first = *bytes.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    if let Some(chunk) = bytes.get(*pos..*pos + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap());
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() / 8 + 1;
            *pos += len as usize;
            let x = word & (u64::MAX >> (64 - 8 * len)) & 0x7f7f_7f7f_7f7f_7f7f;
            let x = (x & 0x007f_007f_007f_007f) | (x & 0x7f00_7f00_7f00_7f00) >> 1;
            let x = (x & 0x0000_3fff_0000_3fff) | (x & 0x3fff_0000_3fff_0000) >> 2;
            return Some((x & 0x0fff_ffff) | (x & 0x0fff_ffff_0000_0000) >> 4);
        }
    }
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << (shift & 63);
        if byte < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
}

/// Appends the varint encoding of `value`: how the suite writes its inputs, and the
/// floor its output.
pub fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Steps over a varint whose value is not needed: its end found in one word when 8
/// bytes of input are left.
#[inline(always)]
pub fn skip_varint(bytes: &[u8], pos: &mut usize) {
    if let Some(chunk) = bytes.get(*pos..*pos + 8) {
        let ends = !u64::from_le_bytes(chunk.try_into().unwrap()) & 0x8080_8080_8080_8080;
        if ends != 0 {
            *pos += (ends.trailing_zeros() / 8 + 1) as usize;
            return;
        }
    }
    walk_varint(bytes, pos);
}

/// Walks the fields of `bytes`, calling `field` with each tag, where its value starts,
/// and, for a length-delimited field, its payload (empty otherwise); returns the tags
/// walked. Payloads are skipped by wire type, nothing is checked.
#[inline(always)]
pub fn walk_fields<'a>(bytes: &'a [u8], mut field: impl FnMut(u64, usize, &'a [u8])) -> u64 {
    let mut pos = 0;
    let mut tags = 0;
    while let Some(tag) = walk_varint(bytes, &mut pos) {
        tags += 1;
        let start = pos;
        match tag & 7 {
            0 => skip_varint(bytes, &mut pos),
            1 => pos += 8,
            2 => {
                let len = walk_varint(bytes, &mut pos).unwrap_or(0) as usize;
                let end = (pos + len).min(bytes.len());
                field(tag, start, &bytes[pos..end]);
                pos = end;
                continue;
            }
            5 => pos += 4,
            _ => {}
        }
        field(tag, start, &[]);
    }
    tags
}

/// The floor, what no decoder can go below: every tag of the message walked, into the
/// fields numbered in `nested` (embedded messages, whose own tags are walked too), every
/// other payload skipped by its wire type. Nothing is built and nothing checked beyond
/// finding the next tag: no UTF-8, no field values, no bounds of nested messages. Its
/// checksum is the number of tags, so it is left out of the contenders' agreement.
///
/// Not built on [`walk_fields`]: a call back for every field, varints included, would
/// raise the floor this is meant to be.
#[inline(always)]
fn walk(bytes: &[u8], nested: &[u32]) -> u64 {
    let mut pos = 0;
    let mut tags = 0;
    while let Some(tag) = walk_varint(bytes, &mut pos) {
        tags += 1;
        match tag & 7 {
            0 => skip_varint(bytes, &mut pos),
            1 => pos += 8,
            2 => {
                let len = walk_varint(bytes, &mut pos).unwrap_or(0) as usize;
                let end = (pos + len).min(bytes.len());
                if nested.contains(&((tag >> 3) as u32)) {
                    tags += walk(&bytes[pos..end], &[]);
                }
                pos = end;
            }
            5 => pos += 4,
            _ => {}
        }
    }
    tags
}

fn floor_request(acc: u64, bytes: &[u8]) -> u64 {
    acc + walk(bytes, &[1, 5])
}

/// A response or a StreamHeader: no embedded messages.
fn floor_flat(acc: u64, bytes: &[u8]) -> u64 {
    acc + walk(bytes, &[])
}

/// Splits `frames` at its varint length prefixes and decodes each body with `one`: the
/// peers' own delimited readers would each frame differently, so all share this split,
/// except ours, which goes through `FrameDecoder` as a proxy does.
#[inline(always)]
fn frames_with(frames: &[u8], mut one: impl FnMut(u64, &[u8]) -> u64) -> u64 {
    let mut rest = frames;
    let mut acc = 0;
    while let Some((&first, body)) = rest.split_first() {
        // Varied messages are shorter than 16 KiB: a prefix of one or two bytes.
        let (len, body) = if first < 0x80 {
            (usize::from(first), body)
        } else {
            (
                usize::from(first & 0x7f) | usize::from(body[0]) << 7,
                &body[1..],
            )
        };
        acc = one(acc, &body[..len]);
        rest = &body[len..];
    }
    acc
}

macro_rules! loops {
    ($($fn:ident: $one:path;)+) => {
        $(
            #[inline(never)]
            fn $fn(messages: &[Vec<u8>], frames: Option<&[u8]>) -> u64 {
                match frames {
                    Some(frames) => frames_with(black_box(frames), $one),
                    None => messages.iter().fold(0, |acc, m| $one(acc, black_box(m))),
                }
            }
        )+
    };
}

loops! {
    prost_request_loop: prost_request;
    quick_request_loop: quick_request;
    buffa_request_loop: buffa_request;
    view_request_loop: view_request;
    prost_response_loop: prost_response;
    quick_response_loop: quick_response;
    buffa_response_loop: buffa_response;
    view_response_loop: view_response;
    prost_stream_loop: prost_stream;
    quick_stream_loop: quick_stream;
    buffa_stream_loop: buffa_stream;
    view_stream_loop: view_stream;
    floor_request_loop: floor_request;
    floor_flat_loop: floor_flat;
}

/// Ours: plain messages one by one, frames through `FrameDecoder::decode`.
macro_rules! ours_loops {
    ($($fn:ident: $t:ident, $sum:expr;)+) => {
        $(
            #[inline(never)]
            fn $fn(messages: &[Vec<u8>], frames: Option<&[u8]>) -> u64 {
                let sum: fn(u64, &$t<'_>) -> u64 = $sum;
                match frames {
                    Some(frames) => {
                        let decoder = FrameDecoder::new();
                        let mut rest = black_box(frames);
                        let mut acc = 0;
                        while let Ok(Progress::Complete((m, used))) = decoder.decode::<$t<'_>>(rest) {
                            acc = sum(acc, &m);
                            rest = &rest[used..];
                        }
                        acc
                    }
                    None => messages
                        .iter()
                        .fold(0, |acc, m| sum(acc, &$t::decode(black_box(m)).unwrap())),
                }
            }
        )+
    };
}

ours_loops! {
    ours_request_loop: RequestHeader, |acc, r| {
        let name = r.name.map(|n| (n.name, n.namespace));
        let streams = r.streams.iter().map(|s| (s.stream_id, s.response_id));
        request_sum(acc, name, [r.session_id, r.request_id, r.index], streams)
    };
    ours_response_loop: ResponseHeader, |acc, r| {
        let ids = [r.session_id, r.stream_id, r.response_id, r.index];
        response_sum(acc, ids, r.leader, r.status.value(), r.r#type.value())
    };
    ours_stream_loop: StreamHeader, |acc, s| mix(mix(acc, s.stream_id), s.response_id);
}

// ---- registry ----

type DecodeLoop = fn(&[Vec<u8>], Option<&[u8]>) -> u64;

fn decode_benches(
    out: &mut Vec<Bench>,
    label: &str,
    shapes: &Shapes,
    contenders: [(&'static str, DecodeLoop); 6],
) {
    for (shape, messages) in &shapes.shapes {
        for (contender, run) in contenders {
            let messages = messages.clone();
            out.push(Bench {
                group: format!("{label}/{shape}/decode"),
                contender,
                messages: messages.len(),
                run: Box::new(move || run(&messages, None)),
            });
        }
    }
    for (shape, frames) in &shapes.frames {
        for (contender, run) in contenders {
            let frames = frames.clone();
            out.push(Bench {
                group: format!("{label}/{shape}/decode"),
                contender,
                messages: FRAMES,
                run: Box::new(move || run(&[], Some(&frames))),
            });
        }
    }
}

/// Encodes every message of a list into a reused buffer; the checksum is the bytes
/// written.
macro_rules! encode_loop {
    ($items:expr, |$m:ident, $buf:ident| $encode:expr) => {{
        OUT.with_borrow_mut(|$buf| {
            let mut total = 0u64;
            for $m in $items.iter() {
                $buf.clear();
                $encode;
                total += $buf.len() as u64;
            }
            total
        })
    }};
}

thread_local! {
    /// The buffer every encode benchmark reuses, allocated once, so that no run
    /// measures an allocation.
    pub static OUT: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(Vec::with_capacity(1 << 16));
}

/// The encode and `encoded_len` benchmarks of one shape, each contender on its own
/// decoded representation of the same messages.
macro_rules! encode_benches {
    ($out:expr, $label:expr, $shape:expr, $messages:expr, $ours:ty, $prost:ty, $quick:ty, $buffa:ty) => {{
        let messages: Vec<Vec<u8>> = $messages.clone();
        let group = format!("{}/{}/encode", $label, $shape);
        let len_group = format!("{}/{}/encoded_len", $label, $shape);
        let n = messages.len();
        // Ours borrows the input: the messages are leaked, once per benchmark setup.
        let leaked: &'static [Vec<u8>] = Box::leak(messages.clone().into_boxed_slice());
        let ours: Vec<$ours> = leaked.iter().map(|m| <$ours>::decode(m).unwrap()).collect();
        let prost_msgs: Vec<$prost> = messages
            .iter()
            .map(|m| <$prost as prost::Message>::decode(&m[..]).unwrap())
            .collect();
        let quick_msgs: Vec<$quick> = leaked
            .iter()
            .map(|m| <$quick>::from_reader(&mut BytesReader::from_bytes(m), m).unwrap())
            .collect();
        let buffa_msgs: Vec<$buffa> = messages
            .iter()
            .map(|m| <$buffa>::decode_from_slice(m).unwrap())
            .collect();
        {
            #[inline(never)]
            fn ours_encode(items: &[$ours]) -> u64 {
                encode_loop!(items, |m, buf| black_box(m).encode(buf).unwrap())
            }
            #[inline(never)]
            fn prost_encode(items: &[$prost]) -> u64 {
                encode_loop!(items, |m, buf| prost::Message::encode(black_box(m), buf)
                    .unwrap())
            }
            #[inline(never)]
            fn quick_encode(items: &[$quick]) -> u64 {
                encode_loop!(items, |m, buf| black_box(m)
                    .write_message(&mut Writer::new(&mut *buf))
                    .unwrap())
            }
            #[inline(never)]
            fn buffa_encode(items: &[$buffa]) -> u64 {
                encode_loop!(items, |m, buf| black_box(m).encode(buf))
            }
            #[inline(never)]
            fn ours_len(items: &[$ours]) -> u64 {
                items
                    .iter()
                    .map(|m| black_box(m).encoded_len() as u64)
                    .sum()
            }
            #[inline(never)]
            fn prost_len(items: &[$prost]) -> u64 {
                items
                    .iter()
                    .map(|m| prost::Message::encoded_len(black_box(m)) as u64)
                    .sum()
            }
            #[inline(never)]
            fn quick_len(items: &[$quick]) -> u64 {
                items.iter().map(|m| black_box(m).get_size() as u64).sum()
            }
            #[inline(never)]
            fn buffa_len(items: &[$buffa]) -> u64 {
                items
                    .iter()
                    .map(|m| black_box(m).encoded_len() as u64)
                    .sum()
            }
            let (ours2, prost2, quick2, buffa2) = (
                ours.clone(),
                prost_msgs.clone(),
                quick_msgs.clone(),
                buffa_msgs.clone(),
            );
            // Per contender, its encode and its encoded_len; every encode is pushed
            // before every encoded_len, so that each group's benchmarks stay together.
            type Run = Box<dyn Fn() -> u64>;
            let runs: [(&'static str, Run, Run); 4] = [
                (
                    "atomix-headers",
                    Box::new(move || ours_encode(&ours)),
                    Box::new(move || ours_len(&ours2)),
                ),
                (
                    "prost",
                    Box::new(move || prost_encode(&prost_msgs)),
                    Box::new(move || prost_len(&prost2)),
                ),
                (
                    "quick-protobuf",
                    Box::new(move || quick_encode(&quick_msgs)),
                    Box::new(move || quick_len(&quick2)),
                ),
                (
                    "buffa",
                    Box::new(move || buffa_encode(&buffa_msgs)),
                    Box::new(move || buffa_len(&buffa2)),
                ),
            ];
            let (encodes, lens): (Vec<_>, Vec<_>) = runs
                .into_iter()
                .map(|(contender, encode, len)| ((contender, encode), (contender, len)))
                .unzip();
            for (group, list) in [(&group, encodes), (&len_group, lens)] {
                $out.extend(list.into_iter().map(|(contender, run)| Bench {
                    group: group.clone(),
                    contender,
                    messages: n,
                    run,
                }));
            }
        }
    }};
}

/// Every benchmark of the suite.
pub fn benches() -> Vec<Bench> {
    let mut out = Vec::new();
    let mut rng = Rng(0x5eed_0001);
    let request_values: Vec<RequestValues> =
        (0..VARIED).map(|_| varied_request(&mut rng)).collect();
    let varied_requests: Vec<Vec<u8>> = request_values
        .iter()
        .map(|v| build_request(v).encode_to_vec().unwrap())
        .collect();
    let mut requests = shapes(
        inputs::requests(),
        |rng| build_request(&varied_request(rng)).encode_to_vec().unwrap(),
        long_request,
        0x5eed_0002,
    );
    // The varied requests are those whose values are kept for the built encode; the ones
    // `shapes` made are dropped (the frames stay the generator's messages after them).
    requests.shapes.retain(|(shape, _)| *shape != "varied");
    requests.shapes.push(("varied", varied_requests));
    let responses = shapes(
        inputs::responses(),
        varied_response,
        long_response,
        0x5eed_0003,
    );
    let streams = shapes(inputs::streams(), varied_stream, long_stream, 0x5eed_0004);

    decode_benches(
        &mut out,
        "request",
        &requests,
        [
            ("atomix-headers", ours_request_loop),
            ("prost", prost_request_loop),
            ("quick-protobuf", quick_request_loop),
            ("buffa", buffa_request_loop),
            ("buffa-view", view_request_loop),
            ("floor", floor_request_loop),
        ],
    );
    decode_benches(
        &mut out,
        "response",
        &responses,
        [
            ("atomix-headers", ours_response_loop),
            ("prost", prost_response_loop),
            ("quick-protobuf", quick_response_loop),
            ("buffa", buffa_response_loop),
            ("buffa-view", view_response_loop),
            ("floor", floor_flat_loop),
        ],
    );
    decode_benches(
        &mut out,
        "stream",
        &streams,
        [
            ("atomix-headers", ours_stream_loop),
            ("prost", prost_stream_loop),
            ("quick-protobuf", quick_stream_loop),
            ("buffa", buffa_stream_loop),
            ("buffa-view", view_stream_loop),
            ("floor", floor_flat_loop),
        ],
    );

    for (shape, messages) in &requests.shapes {
        encode_benches!(
            out,
            "request",
            shape,
            messages,
            RequestHeader<'static>,
            pr::RequestHeader,
            qp::RequestHeader<'static>,
            bfh::RequestHeader
        );
    }
    for (shape, messages) in &responses.shapes {
        encode_benches!(
            out,
            "response",
            shape,
            messages,
            ResponseHeader<'static>,
            pr::ResponseHeader,
            qp::ResponseHeader<'static>,
            bfh::ResponseHeader
        );
    }
    for (shape, messages) in &streams.shapes {
        encode_benches!(
            out,
            "stream",
            shape,
            messages,
            StreamHeader<'static>,
            pr::StreamHeader,
            qp::StreamHeader,
            bfh::StreamHeader
        );
    }

    // RequestHeader built by a client or proxy: name and streams from its own values,
    // streams from a slice. The peers' messages are always built: theirs are the varied
    // messages decoded, as in `request/varied/encode`.
    let varied = requests
        .shapes
        .iter()
        .find(|(shape, _)| *shape == "varied")
        .unwrap()
        .1
        .clone();
    encode_benches!(
        out,
        "request",
        "built",
        varied,
        RequestHeader<'static>,
        pr::RequestHeader,
        qp::RequestHeader<'static>,
        bfh::RequestHeader
    );
    let values: &'static [RequestValues] = Box::leak(request_values.into_boxed_slice());
    let built: Vec<RequestHeader<'static>> = values.iter().map(build_request).collect();
    #[inline(never)]
    fn ours_built(items: &[RequestHeader<'static>]) -> u64 {
        encode_loop!(items, |m, buf| black_box(m).encode(buf).unwrap())
    }
    #[inline(never)]
    fn ours_built_len(items: &[RequestHeader<'static>]) -> u64 {
        items
            .iter()
            .map(|m| black_box(m).encoded_len() as u64)
            .sum()
    }
    for bench in out.iter_mut().filter(|b| b.contender == "atomix-headers") {
        let run: fn(&[RequestHeader<'static>]) -> u64 = match bench.group.as_str() {
            "request/built/encode" => ours_built,
            "request/built/encoded_len" => ours_built_len,
            _ => continue,
        };
        let built = built.clone();
        bench.run = Box::new(move || run(&built));
    }
    out
}
