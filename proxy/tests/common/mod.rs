//! Test fixtures: fake Atomix partitions (`replica`), the proxy as a child process
//! (`process`), a raw HTTP/2 gRPC client (`client`), certificates (`pki`), and the
//! counter service's generated tonic client (`generated`).
#![allow(dead_code, unused_imports)]

mod client;
pub mod generated;
mod pki;
mod process;
mod replica;

pub use client::*;
pub use pki::*;
pub use process::*;
pub use replica::*;

use atomix_headers::partition::fnv1a_32;
use atomix_headers::{Message, RequestEnvelope, ResponseHeader, ResponseStatus, ResponseType};
use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub const BIN: &str = env!("CARGO_BIN_EXE_atomix-proxy");

/// Waits, polling, until `done`, for at most `limit`; fails with `what` past it.
pub async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------- protobuf by hand

pub fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn len_field(number: u64, body: &[u8], out: &mut Vec<u8>) {
    varint(number << 3 | 2, out);
    varint(body.len() as u64, out);
    out.extend_from_slice(body);
}

pub fn varint_field(number: u64, value: u64, out: &mut Vec<u8>) {
    varint(number << 3, out);
    varint(value, out);
}

/// A request: header { name { name } session_id request_id [partition = 6] }, then
/// `rest` (the operation's own fields).
pub fn request(
    name: &str,
    session: u64,
    request_id: u64,
    partition: Option<u64>,
    rest: &[u8],
) -> Vec<u8> {
    let mut n = Vec::new();
    len_field(1, name.as_bytes(), &mut n);
    let mut h = Vec::new();
    len_field(1, &n, &mut h);
    varint_field(2, session, &mut h);
    varint_field(3, request_id, &mut h);
    if let Some(p) = partition {
        varint_field(6, p, &mut h);
    }
    let mut out = Vec::new();
    len_field(1, &h, &mut out);
    out.extend_from_slice(rest);
    out
}

/// One gRPC frame.
pub fn frame(message: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(0);
    out.put_u32(message.len() as u32);
    out.put_slice(message);
    out.freeze()
}

/// Splits a stream of gRPC frames into messages.
pub fn messages(mut data: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    while data.len() >= 5 {
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        out.push(Bytes::copy_from_slice(&data[5..5 + len]));
        data = &data[5 + len..];
    }
    assert!(data.is_empty(), "a partial frame");
    out
}

fn response(header: &ResponseHeader<'_>, rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    len_field(1, &header.encode_to_vec().unwrap(), &mut out);
    out.extend_from_slice(rest);
    out
}

pub fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Names that the Go client's rule puts on each of `partitions`.
pub fn names_for(partitions: u32, per_partition: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut counts = vec![0; partitions as usize];
    for i in 0.. {
        let name = format!("counter-{i}");
        let p = (fnv1a_32(name.as_bytes()) % partitions) as usize;
        if counts[p] < per_partition {
            counts[p] += 1;
            out.push((name, p));
        }
        if counts.iter().all(|&c| c == per_partition) {
            return out;
        }
    }
    unreachable!()
}

pub fn request_bytes(name: &str, id: u64) -> Vec<u8> {
    request(name, 1, id, None, &[])
}
