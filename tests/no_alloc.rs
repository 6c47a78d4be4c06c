//! Decoding allocates nothing, whatever the input; encoding allocates nothing when the
//! destination has room. A counting global allocator watches every fixture and every
//! conformance case (accepted or rejected) go through decode, stream and unknown-field
//! iteration, text formatting, `encoded_len` and encode.

mod common;
use atomix_headers::{
    Message, RequestEnvelope, RequestHeader, ResponseEnvelope, ResponseHeader, StreamHeader,
};
use common::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// Formats into nothing, counting bytes, so text formatting can be checked too.
struct Discard(usize);

impl Write for Discard {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Runs everything a proxy would do with one input; returns a checksum so nothing is
/// optimised away.
fn exercise<'a, M: Message<'a> + std::fmt::Display>(
    input: &'a [u8],
    out: &mut [u8],
    vec: &mut Vec<u8>,
) -> usize {
    let Ok(message) = M::decode(input) else {
        return 1;
    };
    let mut text = Discard(0);
    write!(text, "{message}").unwrap();
    let len = message.encoded_len();
    let written = message.encode_to_slice(out).unwrap();
    vec.clear();
    message.encode(vec).unwrap();
    message.encode_length_delimited(vec).unwrap();
    assert_eq!((written, vec.len() >= 2 * len), (len, true));
    text.0 + len
}

fn exercise_request(input: &[u8], out: &mut [u8], vec: &mut Vec<u8>) -> usize {
    let mut sum = exercise::<RequestHeader>(input, out, vec);
    if let Ok(request) = RequestHeader::decode(input) {
        sum += request
            .streams
            .iter()
            .map(|s| (s.stream_id as usize & 1) + s.unknown_fields.iter().count())
            .sum::<usize>();
        sum += request
            .unknown_fields
            .iter()
            .map(|f| f.as_bytes().len())
            .sum::<usize>();
        if let Some(name) = request.name {
            sum += name.unknown_fields.iter().count() + name.name.len();
        }
    }
    sum
}

fn exercise_request_envelope(input: &[u8], out: &mut [u8], vec: &mut Vec<u8>) -> usize {
    let mut sum = exercise::<RequestEnvelope>(input, out, vec);
    if let Ok(envelope) = RequestEnvelope::decode(input) {
        sum += envelope.operation.iter().count();
        sum += envelope.last_field(2).map_or(0, |f| f.as_bytes().len());
        if let Some(header) = envelope.header {
            sum += header
                .streams
                .iter()
                .map(|s| s.unknown_fields.iter().count() + 1)
                .sum::<usize>();
            sum += header.unknown_fields.iter().count();
            if let Some(name) = header.name {
                sum += name.unknown_fields.iter().count() + name.name.len();
            }
        }
    }
    sum
}

#[test]
fn decoding_and_encoding_allocate_nothing() {
    let mut inputs: Vec<(String, &'static [u8])> = Vec::new();
    for row in rows("fixtures/cases.tsv") {
        inputs.push((row[1].clone(), read(&format!("fixtures/{}.bin", row[0]))));
    }
    for kind in KINDS {
        for row in rows(&format!("conformance/{kind}.tsv")) {
            inputs.push((
                kind.to_owned(),
                Box::leak(unhex(&row[0]).into_boxed_slice()),
            ));
        }
    }
    assert!(inputs.len() > 20_000);
    let mut out = vec![0u8; 1 << 16];
    let mut vec = Vec::with_capacity(1 << 17);
    let mut bytes_mut = bytes::BytesMut::with_capacity(1 << 16);

    let before = allocations();
    let mut checksum = 0usize;
    for (kind, input) in &inputs {
        checksum += match kind.as_str() {
            "request" => exercise_request(input, &mut out, &mut vec),
            "response" => exercise::<ResponseHeader>(input, &mut out, &mut vec),
            "request_envelope" => exercise_request_envelope(input, &mut out, &mut vec),
            "response_envelope" => exercise::<ResponseEnvelope>(input, &mut out, &mut vec),
            _ => exercise::<StreamHeader>(input, &mut out, &mut vec),
        };
        if let Ok(response) = ResponseHeader::decode(input) {
            bytes_mut.clear();
            response.encode(&mut bytes_mut).unwrap();
        }
    }
    let during = allocations() - before;
    assert!(checksum > 0);
    assert_eq!(
        during,
        0,
        "{during} allocations while handling {} inputs",
        inputs.len()
    );
}

#[test]
fn decoding_many_frames_from_one_buffer_allocates_nothing() {
    use atomix_headers::framing::FrameDecoder;
    use atomix_headers::Progress;
    let mut wire = Vec::new();
    for row in rows("fixtures/cases.tsv")
        .iter()
        .filter(|r| r[1] == "request")
    {
        let body = read(&format!("fixtures/{}.bin", row[0]));
        RequestHeader::decode(body)
            .unwrap()
            .encode_length_delimited(&mut wire)
            .unwrap();
    }
    let frames = FrameDecoder::new();
    let before = allocations();
    let mut count = 0;
    for _ in 0..100 {
        let mut rest = &wire[..];
        while let Ok(Progress::Complete((request, used))) = frames.decode::<RequestHeader>(rest) {
            count += 1 + request.streams.iter().count();
            rest = &rest[used..];
        }
        assert!(rest.is_empty());
    }
    assert_eq!(allocations() - before, 0);
    assert!(count > 1_000);
}

#[test]
fn the_counter_sees_allocations() {
    // The allocator above must be able to fail the test.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 10]);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn an_empty_message_encodes_to_an_empty_vector_without_allocating() {
    let before = allocations();
    let encoded = ResponseHeader::default().encode_to_vec().unwrap();
    let stream = StreamHeader::default().encode_to_vec().unwrap();
    assert_eq!(allocations() - before, 0);
    assert!(encoded.is_empty() && stream.is_empty());
    assert_eq!(encoded.capacity(), 0);
}
