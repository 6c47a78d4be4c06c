//! Helpers shared by the integration tests: reading testdata/ and dispatching on the
//! message type named there.
#![allow(dead_code)]

use atomix_headers::{
    DecodeError, Message, RequestEnvelope, RequestHeader, ResponseEnvelope, ResponseHeader,
    StreamHeader,
};
use std::path::PathBuf;

pub fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// A file's bytes, kept for the rest of the test run so decoded headers can borrow them.
pub fn read(rel: &str) -> &'static [u8] {
    let path = testdata(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Box::leak(bytes.into_boxed_slice())
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or_else(|_| panic!("bad hex: {s}")))
        .collect()
}

/// Rows of a tab-separated file, comments and blank lines skipped.
pub fn rows(rel: &str) -> Vec<Vec<String>> {
    String::from_utf8(read(rel).to_vec())
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

/// What one decode produced, type-erased: the re-encoding, `encoded_len`, and the text.
pub struct Outcome {
    pub encoded: Vec<u8>,
    pub encoded_len: usize,
    pub text: String,
}

fn outcome<'a, M: Message<'a> + std::fmt::Display>(m: M) -> Outcome {
    let mut encoded = Vec::new();
    m.encode(&mut encoded).unwrap();
    Outcome {
        encoded_len: m.encoded_len(),
        encoded,
        text: m.to_string(),
    }
}

/// Decodes `data` as the message type named `kind` (request, response, stream).
pub fn decode(kind: &str, data: &[u8]) -> Result<Outcome, DecodeError> {
    match kind {
        "request" => RequestHeader::decode(data).map(outcome),
        "response" => ResponseHeader::decode(data).map(outcome),
        "stream" => StreamHeader::decode(data).map(outcome),
        "request_envelope" => RequestEnvelope::decode(data).map(outcome),
        "response_envelope" => ResponseEnvelope::decode(data).map(outcome),
        other => panic!("unknown message type {other}"),
    }
}

pub const KINDS: [&str; 5] = [
    "request",
    "response",
    "stream",
    "request_envelope",
    "response_envelope",
];

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A small seeded generator (xorshift), so that tests need no dependency for it.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Appends `v` as a varint: written here byte by byte, apart from the crate's encoder.
pub fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends a length-delimited field.
pub fn len_field(number: u64, body: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(body.len() as u64, out);
    out.extend_from_slice(body);
}
