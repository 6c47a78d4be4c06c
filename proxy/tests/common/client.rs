//! A raw HTTP/2 gRPC client that shows everything the proxy sends back.

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

use super::*;

/// Everything a call got back.
#[derive(Debug)]
pub struct Reply {
    pub http: u16,
    pub headers: HeaderMap,
    pub messages: Vec<Bytes>,
    pub trailers: HeaderMap,
}

impl Reply {
    /// grpc-status, from the trailers or (trailers-only) the headers.
    pub fn code(&self) -> u32 {
        let v = self
            .trailers
            .get("grpc-status")
            .or(self.headers.get("grpc-status"));
        v.expect("a grpc-status").to_str().unwrap().parse().unwrap()
    }
    pub fn message(&self) -> String {
        let v = self
            .trailers
            .get("grpc-message")
            .or(self.headers.get("grpc-message"));
        v.map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }
    /// The first message, a response envelope.
    pub fn envelope(&self) -> atomix_headers::OwnedResponseEnvelope {
        atomix_headers::OwnedResponseEnvelope::decode(self.messages[0].clone()).unwrap()
    }
}

pub struct Client {
    send: h2::client::SendRequest<Bytes>,
    authority: String,
}

impl Client {
    pub async fn connect(addr: &str) -> Client {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Client {
            send,
            authority: addr.to_owned(),
        }
    }

    /// Starts a call; the caller reads the response.
    pub async fn start(
        &mut self,
        path: &str,
        message: &[u8],
        headers: &[(&str, &str)],
    ) -> http::Response<h2::RecvStream> {
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.authority))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let send = self.send.clone().ready().await.unwrap();
        self.send = send;
        let (response, mut stream) = self
            .send
            .send_request(request.body(()).unwrap(), false)
            .unwrap();
        stream.send_data(frame(message), true).unwrap();
        response.await.unwrap()
    }

    pub async fn call(&mut self, path: &str, message: &[u8], headers: &[(&str, &str)]) -> Reply {
        let response = self.start(path, message, headers).await;
        read_reply(response).await
    }
}

pub async fn read_reply(response: http::Response<h2::RecvStream>) -> Reply {
    let (head, mut body) = response.into_parts();
    let mut data = BytesMut::new();
    let mut trailers = HeaderMap::new();
    if !body.is_end_stream() {
        while let Some(chunk) = body.data().await {
            let chunk = chunk.unwrap();
            let _ = body.flow_control().release_capacity(chunk.len());
            data.extend_from_slice(&chunk);
        }
        trailers = body.trailers().await.unwrap().unwrap_or_default();
    }
    Reply {
        http: head.status.as_u16(),
        headers: head.headers,
        messages: messages(&data),
        trailers,
    }
}

/// One call on a new connection.
pub async fn call(addr: &str, path: &str, message: &[u8]) -> Reply {
    Client::connect(addr).await.call(path, message, &[]).await
}

pub const INCREMENT: &str = "/atomix.counter.CounterService/Increment";
pub const MAP_SIZE: &str = "/atomix.map.MapService/Size";
pub const MAP_PUT: &str = "/atomix.map.MapService/Put";
pub const MAP_EVENTS: &str = "/atomix.map.MapService/Events";
pub const MAP_ENTRIES: &str = "/atomix.map.MapService/Entries";
pub const MAP_GET: &str = "/atomix.map.MapService/Get";
pub const COUNTER_EVENTS_LIKE: &str = "/atomix.value.ValueService/Events";

/// A raw HTTP/2 connection to `addr`, its task running: for requests `Client` does not
/// make (no body, an odd method or content-type, a reset).
pub async fn h2_connection(addr: &str) -> h2::client::SendRequest<Bytes> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    send
}

/// A gRPC call's head: POST `path` on `addr`, `application/grpc`.
pub fn grpc_head(addr: &str, path: &str) -> http::Request<()> {
    http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .body(())
        .unwrap()
}
