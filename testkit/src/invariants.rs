//! The codec's invariants on one input, shared by the fuzz targets (fuzz/) and by the
//! regression tests that replay the conformance corpus (tests/invariants.rs).
//!
//! On any input, decode returns Ok or Err and never panics. On Ok: every borrowed slice
//! lies inside the input; `encoded_len` equals what `encode` writes; the encoding decodes
//! to an equal value and encodes again to the same bytes (a fixed point); text
//! formatting, stream and unknown-field iteration all work.

use atomix_headers::{
    Envelope, Message, RequestEnvelope, RequestHeader, ResponseEnvelope, ResponseHeader,
    StreamHeader, Streams, UnknownFields,
};
use std::fmt::{Debug, Display};

/// A message whose borrowed slices can be listed.
pub trait Inspect<'a>: Message<'a> + Display + Debug + PartialEq {
    fn borrowed(&self, out: &mut Vec<&'a [u8]>);
}

fn unknown<'a>(fields: &UnknownFields<'a>, out: &mut Vec<&'a [u8]>) {
    let mut total = 0;
    for field in fields {
        total += field.as_bytes().len();
        out.push(field.as_bytes());
    }
    assert_eq!(
        total,
        fields.encoded_len(),
        "unknown fields iterate to their length"
    );
    moved_elsewhere(fields);
}

/// Unknown fields put into other message types, at the top and two levels down, encode
/// only when they decode back equal: otherwise encoding refuses them.
fn moved_elsewhere(fields: &UnknownFields<'_>) {
    let stream = StreamHeader {
        stream_id: 1,
        unknown_fields: *fields,
        ..Default::default()
    };
    faithful::<Stream>(&stream);
    let streams = [stream];
    let request = RequestHeader {
        streams: Streams::from_slice(&streams),
        unknown_fields: *fields,
        ..Default::default()
    };
    faithful::<Request>(&request);
    faithful::<RequestEnv>(&RequestEnvelope {
        header: Some(request),
        operation: *fields,
    });
    faithful::<Response>(&ResponseHeader {
        unknown_fields: *fields,
        ..Default::default()
    });
}

fn faithful<K: Kind>(message: &K::Of<'_>) {
    if let Ok(bytes) = message.encode_to_vec() {
        let back = K::Of::decode(&bytes).expect("what encodes decodes");
        assert_eq!(
            format!("{back:?}"),
            format!("{message:?}"),
            "what encodes decodes back equal"
        );
    }
}

impl<'a> Inspect<'a> for StreamHeader<'a> {
    fn borrowed(&self, out: &mut Vec<&'a [u8]>) {
        unknown(&self.unknown_fields, out);
    }
}

impl<'a> Inspect<'a> for ResponseHeader<'a> {
    fn borrowed(&self, out: &mut Vec<&'a [u8]>) {
        out.push(self.leader.as_bytes());
        unknown(&self.unknown_fields, out);
    }
}

impl<'a> Inspect<'a> for RequestHeader<'a> {
    fn borrowed(&self, out: &mut Vec<&'a [u8]>) {
        if let Some(name) = &self.name {
            out.push(name.name.as_bytes());
            out.push(name.namespace.as_bytes());
            unknown(&name.unknown_fields, out);
        }
        let mut count = 0;
        for stream in &self.streams {
            stream.borrowed(out);
            count += 1;
        }
        assert_eq!(count, self.streams.len(), "streams iterate to their count");
        unknown(&self.unknown_fields, out);
    }
}

impl<'a, H: Inspect<'a>> Inspect<'a> for Envelope<'a, H>
where
    Envelope<'a, H>: Message<'a> + Display,
{
    fn borrowed(&self, out: &mut Vec<&'a [u8]>) {
        if let Some(header) = &self.header {
            header.borrowed(out);
        }
        unknown(&self.operation, out);
    }
}

/// Names a message type for any lifetime, so a value decoded from the input and one
/// decoded from a local re-encoding can both be had.
pub trait Kind {
    type Of<'a>: Inspect<'a>;
}

pub struct Request;
pub struct Response;
pub struct Stream;
pub struct RequestEnv;
pub struct ResponseEnv;

impl Kind for Request {
    type Of<'a> = RequestHeader<'a>;
}
impl Kind for Response {
    type Of<'a> = ResponseHeader<'a>;
}
impl Kind for Stream {
    type Of<'a> = StreamHeader<'a>;
}
impl Kind for RequestEnv {
    type Of<'a> = RequestEnvelope<'a>;
}
impl Kind for ResponseEnv {
    type Of<'a> = ResponseEnvelope<'a>;
}

/// Checks every invariant of decoding `input` as `K`; returns whether it was accepted.
pub fn check_decode<K: Kind>(input: &[u8]) -> bool {
    let Ok(message) = K::Of::decode(input) else {
        return false;
    };
    let mut spans = Vec::new();
    message.borrowed(&mut spans);
    let bounds = input.as_ptr_range();
    for span in spans.iter().filter(|s| !s.is_empty()) {
        let range = span.as_ptr_range();
        assert!(
            bounds.start <= range.start && range.end <= bounds.end,
            "a borrowed slice points outside the input"
        );
    }
    let _ = message.to_string();

    let len = message.encoded_len();
    let encoded = message.encode_to_vec().unwrap();
    assert_eq!(encoded.len(), len, "encoded_len is exact");
    let mut slice = vec![0u8; len];
    assert_eq!(message.encode_to_slice(&mut slice), Ok(len));
    assert_eq!(slice, encoded, "slice and BufMut encodings agree");
    // `encode_to_vec` and `encode_to_slice` write through `put_u8`/`put_slice` (their
    // buffers hold the exact length); a Vec with ample room takes the other way, into
    // its spare capacity in one go. Every field takes at least 2 bytes and is bounded
    // by at most 11, so 6 times the length always holds the bound.
    let mut roomy = Vec::with_capacity(6 * len + 64);
    message.encode(&mut roomy).expect("a Vec has room");
    assert_eq!(roomy, encoded, "both ways of writing agree");
    // Spare capacity of exactly the length: the last varint fields are written near
    // the end of the chunk, each byte checked (under the fuzzers' AddressSanitizer, a
    // write past it would be caught).
    let mut tight = Vec::with_capacity(len);
    message.encode(&mut tight).expect("a Vec has room");
    assert_eq!(tight, encoded, "a chunk of the exact length");

    let again = K::Of::decode(&encoded).expect("the encoding decodes");
    // Values of two lifetimes: compared through their full Debug rendering, which lists
    // every field, every stream and every unknown field's bytes.
    assert_eq!(
        format!("{again:?}"),
        format!("{message:?}"),
        "the encoding decodes to an equal value"
    );
    assert_eq!(
        again.encode_to_vec().unwrap(),
        encoded,
        "encoding is a fixed point"
    );
    true
}
