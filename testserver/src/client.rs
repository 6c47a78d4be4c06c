//! A raw gRPC client for tests, and the request messages it sends: what a client of
//! any language puts on the wire, with nothing of the proxy's.

use crate::wire::{frame, message_field, varint_field, Fields};
use bytes::{Bytes, BytesMut};
use std::time::Duration;

/// A request header's fields, as a client sets them.
#[derive(Clone, Debug, Default)]
pub struct Head<'a> {
    pub name: &'a str,
    pub session_id: u64,
    pub request_id: u64,
    pub index: u64,
    /// `(stream_id, response_id)` acknowledged.
    pub streams: &'a [(u64, u64)],
    /// Header field 6 of later schema revisions, the partition (from 1); 0 for none.
    pub partition: u64,
}

/// A request: the header (namespace "test"), then `body`.
pub fn request(head: &Head<'_>, body: &[u8]) -> Vec<u8> {
    let mut name = Vec::new();
    message_field(1, head.name.as_bytes(), &mut name);
    message_field(2, b"test", &mut name);
    let mut h = Vec::new();
    message_field(1, &name, &mut h);
    varint_field(2, head.session_id, &mut h);
    varint_field(3, head.request_id, &mut h);
    varint_field(4, head.index, &mut h);
    for &(stream_id, response_id) in head.streams {
        let mut s = Vec::new();
        varint_field(1, stream_id, &mut s);
        varint_field(2, response_id, &mut s);
        message_field(5, &s, &mut h);
    }
    varint_field(6, head.partition, &mut h);
    let mut out = Vec::new();
    message_field(1, &h, &mut out);
    out.extend_from_slice(body);
    out
}

/// A response message's header fields that tests read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResponseHead {
    pub session_id: u64,
    pub stream_id: u64,
    pub response_id: u64,
    pub index: u64,
    pub status: u64,
    pub kind: u64,
}

/// Everything a call got back.
#[derive(Debug, Default)]
pub struct Reply {
    pub code: u32,
    pub message: String,
    pub messages: Vec<Bytes>,
}

impl Reply {
    /// The header of message `i`.
    pub fn head(&self, i: usize) -> ResponseHead {
        let f = Fields::read(&self.messages[i]).expect("protobuf");
        let h = Fields::read(f.bytes(1)).expect("a header");
        ResponseHead {
            session_id: h.varint(1),
            stream_id: h.varint(2),
            response_id: h.varint(3),
            index: h.varint(4),
            status: h.varint(6),
            kind: h.varint(7),
        }
    }

    /// The operation's fields of message `i`.
    pub fn fields(&self, i: usize) -> Fields<'_> {
        Fields::read(&self.messages[i]).expect("protobuf")
    }
}

/// One HTTP/2 connection.
#[derive(Clone)]
pub struct Client {
    send: h2::client::SendRequest<Bytes>,
    authority: String,
}

impl Client {
    pub async fn connect(addr: &str) -> Client {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let (send, conn) = h2::client::handshake(tcp).await.expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Client {
            send,
            authority: addr.to_owned(),
        }
    }

    /// Starts a call: the response's head and body, read by the caller.
    pub async fn start(&self, path: &str, message: &[u8]) -> (u32, String, h2::RecvStream) {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.authority))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .expect("a request");
        let mut send = self.send.clone().ready().await.expect("ready");
        let (response, mut stream) = send.send_request(request, false).expect("sent");
        stream
            .send_data(Bytes::from(frame(message)), true)
            .expect("sent");
        let (head, body) = response.await.expect("a response").into_parts();
        let code = head
            .headers
            .get("grpc-status")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(u32::MAX);
        let message = head
            .headers
            .get("grpc-message")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default();
        (code, message, body)
    }

    /// A call, read to its end (within 10 s).
    pub async fn call(&self, path: &str, message: &[u8]) -> Reply {
        let read = async {
            let (code, message, body) = self.start(path, message).await;
            if body.is_end_stream() {
                return Reply {
                    code,
                    message,
                    messages: Vec::new(),
                };
            }
            read_rest(body).await
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer in 10 s"))
    }
}

/// Reads a body's messages and trailers.
pub async fn read_rest(mut body: h2::RecvStream) -> Reply {
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                return Reply {
                    code: u32::MAX,
                    message: format!("the stream failed: {e}"),
                    messages: split(&data),
                }
            }
        };
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let trailers = match body.trailers().await {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            return Reply {
                code: u32::MAX,
                message: format!("the trailers failed: {e}"),
                messages: split(&data),
            }
        }
    };
    Reply {
        code: trailers
            .get("grpc-status")
            .and_then(|v| v.to_str().ok()?.parse().ok())
            .unwrap_or(u32::MAX),
        message: trailers
            .get("grpc-message")
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .unwrap_or_default(),
        messages: split(&data),
    }
}

/// The next message of a stream, within `limit`.
pub async fn next_message(
    body: &mut h2::RecvStream,
    held: &mut BytesMut,
    limit: Duration,
) -> Option<Bytes> {
    loop {
        if held.len() >= 5 {
            let len = u32::from_be_bytes([held[1], held[2], held[3], held[4]]) as usize;
            if held.len() >= 5 + len {
                let m = held.split_to(5 + len).freeze().slice(5..);
                return Some(m);
            }
        }
        let chunk = tokio::time::timeout(limit, body.data()).await.ok()??.ok()?;
        let _ = body.flow_control().release_capacity(chunk.len());
        held.extend_from_slice(&chunk);
    }
}

/// Splits gRPC frames into messages.
pub fn split(mut data: &[u8]) -> Vec<Bytes> {
    let mut out = Vec::new();
    while data.len() >= 5 {
        let len = u32::from_be_bytes([data[1], data[2], data[3], data[4]]) as usize;
        out.push(Bytes::copy_from_slice(&data[5..5 + len]));
        data = &data[5 + len..];
    }
    out
}

/// Paths of the services served.
pub fn map(method: &str) -> String {
    format!("/atomix.map.MapService/{method}")
}
pub fn set(method: &str) -> String {
    format!("/atomix.set.SetService/{method}")
}
pub fn counter(method: &str) -> String {
    format!("/atomix.counter.CounterService/{method}")
}
