//! Test fixtures: fake Atomix partitions (Raft groups of replicas, with a leader that
//! applies and followers that answer NOT_LEADER), the proxy as a child process, and a
//! raw HTTP/2 gRPC client that shows everything the proxy sends back.
#![allow(dead_code)]

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

// ---------------------------------------------------------------- fake partitions

/// One Raft group: its replicas' addresses, its leader, and what it applied.
pub struct Group {
    pub addrs: Vec<String>,
    pub leader: AtomicUsize,
    /// (session_id, request_id) -> times applied.
    pub applied: Mutex<HashMap<(u64, u64), u32>>,
    /// Every request any replica saw: (replica, path, name).
    pub seen: Mutex<Vec<(usize, String, String)>>,
    pub index: AtomicU64,
    pub kills: Vec<CancellationToken>,
    /// What the NOT_LEADER of a follower names instead of the leader, when set.
    pub hint: Mutex<Option<String>>,
    /// Requests whose headers reached any replica, counted before their bodies.
    pub arrived: AtomicUsize,
    /// Connections still to be answered, on their first HEADERS, with a GOAWAY whose
    /// last stream id is 0: none of their streams was processed.
    pub goaway_first: AtomicUsize,
    /// Requests still to be refused with REFUSED_STREAM.
    pub refuse: AtomicUsize,
    pub options: ReplicaOptions,
}

/// HTTP/2 settings of a group's replicas, when not h2's defaults.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplicaOptions {
    pub max_header_list_size: Option<u32>,
    pub max_concurrent_streams: Option<u32>,
}

impl Group {
    pub fn applied_total(&self) -> u32 {
        self.applied.lock().unwrap().values().sum()
    }
    pub fn kill(&self, replica: usize) {
        self.kills[replica].cancel();
    }
    pub fn replicas_seen(&self) -> Vec<usize> {
        self.seen.lock().unwrap().iter().map(|s| s.0).collect()
    }
}

/// Starts a group of `n` replicas on 127.0.0.1, `leader` leading.
pub async fn group(n: usize, leader: usize) -> Arc<Group> {
    group_with(n, leader, ReplicaOptions::default()).await
}

/// The same, with these HTTP/2 settings.
pub async fn group_with(n: usize, leader: usize, options: ReplicaOptions) -> Arc<Group> {
    let mut listeners = Vec::new();
    for _ in 0..n {
        listeners.push(TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let group = Arc::new(Group {
        addrs: listeners
            .iter()
            .map(|l| l.local_addr().unwrap().to_string())
            .collect(),
        leader: AtomicUsize::new(leader),
        applied: Mutex::default(),
        seen: Mutex::default(),
        index: AtomicU64::new(0),
        kills: (0..n).map(|_| CancellationToken::new()).collect(),
        hint: Mutex::new(None),
        arrived: AtomicUsize::new(0),
        goaway_first: AtomicUsize::new(0),
        refuse: AtomicUsize::new(0),
        options,
    });
    for (i, listener) in listeners.into_iter().enumerate() {
        tokio::spawn(serve_replica(group.clone(), i, listener));
    }
    group
}

/// An address that accepts connections and never says a word.
pub async fn silent() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (addr, task)
}

async fn serve_replica(group: Arc<Group>, me: usize, listener: TcpListener) {
    let kill = group.kills[me].clone();
    loop {
        let socket = tokio::select! {
            _ = kill.cancelled() => return,
            s = listener.accept() => match s { Ok((s, _)) => s, Err(_) => return },
        };
        let group = group.clone();
        let kill = kill.clone();
        if take_one(&group.goaway_first) {
            tokio::spawn(goaway_on_first_headers(socket));
            continue;
        }
        tokio::spawn(async move {
            let mut builder = h2::server::Builder::new();
            if let Some(max) = group.options.max_header_list_size {
                builder.max_header_list_size(max);
            }
            if let Some(max) = group.options.max_concurrent_streams {
                builder.max_concurrent_streams(max);
            }
            let Ok(mut conn) = builder.handshake(socket).await else {
                return;
            };
            loop {
                tokio::select! {
                    _ = kill.cancelled() => return, // drops the connection: the replica died
                    next = conn.accept() => match next {
                        Some(Ok((request, respond))) => {
                            let group = group.clone();
                            let kill = kill.clone();
                            tokio::spawn(async move {
                                tokio::select! {
                                    _ = kill.cancelled() => {}
                                    _ = answer(group, me, request, respond) => {}
                                }
                            });
                        }
                        _ => return,
                    }
                }
            }
        });
    }
}

/// Takes one from `count` if it is above 0.
fn take_one(count: &AtomicUsize) -> bool {
    count
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A server that, once the client's first HEADERS arrives, says GOAWAY with last
/// stream id 0 (nothing processed) and closes: HTTP/2 by hand, as h2's server counts
/// an accepted stream as processed.
async fn goaway_on_first_headers(mut socket: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const PREFACE: usize = 24;
    if socket
        .write_all(&[0, 0, 0, 4, 0, 0, 0, 0, 0])
        .await
        .is_err()
    {
        return; // SETTINGS, empty
    }
    let mut data = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    'read: loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        data.extend_from_slice(&buf[..n]);
        let mut at = PREFACE;
        while data.len() >= at + 9 {
            let len = u32::from_be_bytes([0, data[at], data[at + 1], data[at + 2]]) as usize;
            if data[at + 3] == 1 {
                break 'read; // HEADERS
            }
            at += 9 + len;
        }
    }
    let goaway = [0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let _ = socket.write_all(&goaway).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn answer(
    group: Arc<Group>,
    me: usize,
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    group.arrived.fetch_add(1, Ordering::SeqCst);
    if take_one(&group.refuse) {
        respond.send_reset(h2::Reason::REFUSED_STREAM);
        return;
    }
    let (parts, mut body) = request.into_parts();
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else {
            return; // reset by the proxy
        };
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let message = messages(&data).pop().unwrap_or_default();
    let envelope = RequestEnvelope::decode(&message).expect("the proxy forwards what upb accepts");
    let header = envelope.header.unwrap_or_default();
    let name = header.name.unwrap_or_default().name.to_owned();
    let path = parts.uri.path().to_owned();
    group
        .seen
        .lock()
        .unwrap()
        .push((me, path.clone(), name.clone()));

    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "application/grpc".parse().unwrap());
    head.headers_mut()
        .insert("x-replica", group.addrs[me].parse().unwrap());
    if let Some(v) = parts.headers.get("x-client") {
        head.headers_mut().insert("x-echo", v.clone());
    }
    if let Some(v) = parts.headers.get("grpc-timeout") {
        head.headers_mut().insert("x-seen-timeout", v.clone());
    }
    if let Some(v) = parts.headers.get("grpc-accept-encoding") {
        head.headers_mut()
            .insert("x-seen-accept-encoding", v.clone());
    }
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    trailers.insert("x-trailer", "kept".parse().unwrap());

    let leader = group.leader.load(Ordering::SeqCst);
    let send =
        |respond: &mut h2::server::SendResponse<Bytes>, msgs: Vec<Vec<u8>>, trailers: HeaderMap| {
            let mut out = respond.send_response(head.clone(), false).unwrap();
            for m in msgs {
                out.send_data(frame(&m), false).unwrap();
            }
            let _ = out.send_trailers(trailers);
        };
    if name == "outsider" || leader != me {
        let named = if name == "outsider" {
            "10.255.255.1:5678".to_owned()
        } else {
            group
                .hint
                .lock()
                .unwrap()
                .clone()
                .unwrap_or_else(|| group.addrs[leader].clone())
        };
        let h = ResponseHeader {
            status: ResponseStatus::NOT_LEADER,
            leader: &named,
            ..Default::default()
        };
        send(&mut respond, vec![response(&h, &[])], trailers);
        return;
    }
    // The leader: apply once per (session, request id).
    *group
        .applied
        .lock()
        .unwrap()
        .entry((header.session_id, header.request_id))
        .or_default() += 1;
    let index = group.index.fetch_add(1, Ordering::SeqCst) + 1;
    let ok = |n: u64, t: ResponseType| ResponseHeader {
        index,
        response_id: n,
        r#type: t,
        ..Default::default()
    };
    if let Some(size) = name
        .strip_prefix("big-")
        .and_then(|n| n.parse::<usize>().ok())
    {
        // A response whose first message carries `size` bytes in field 2 (a stream's
        // also a second, small message).
        let mut msgs = vec![response(&ok(0, ResponseType::RESPONSE), &big_field(size))];
        if path.ends_with("/Entries") {
            msgs.push(response(&ok(1, ResponseType::RESPONSE), b"\x10\x01"));
        }
        send(&mut respond, msgs, trailers);
        return;
    }
    match name.as_str() {
        "slow" => {
            tokio::time::sleep(Duration::from_millis(700)).await;
            send(
                &mut respond,
                vec![response(&ok(0, ResponseType::RESPONSE), b"\x10\x01")],
                trailers,
            );
        }
        "malformed" => {
            // field 1 claims 5 bytes, 1 follows
            send(&mut respond, vec![vec![0x0a, 0x05, 0x08]], trailers);
        }
        "error" => {
            // Trailers-only, with a status of the upstream's own.
            let mut h = head.clone();
            h.headers_mut().insert("grpc-status", "5".parse().unwrap());
            h.headers_mut()
                .insert("grpc-message", "no such thing".parse().unwrap());
            respond.send_response(h, true).unwrap();
        }
        "die" => {
            let mut out = respond.send_response(head, false).unwrap();
            out.send_data(
                frame(&response(&ok(0, ResponseType::OPEN_STREAM), &[])),
                false,
            )
            .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            out.send_reset(h2::Reason::INTERNAL_ERROR);
        }
        "endless" => {
            let mut out = respond.send_response(head, false).unwrap();
            for n in 0.. {
                let m = response(&ok(n, ResponseType::RESPONSE), &[]);
                if out.send_data(frame(&m), false).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
                if std::future::poll_fn(|cx| std::task::Poll::Ready(out.poll_reset(cx)))
                    .await
                    .is_ready()
                {
                    return;
                }
            }
        }
        "flood" => {
            // As fast as the proxy's window lets: 64 KiB messages.
            let mut out = respond.send_response(head, false).unwrap();
            let pad = vec![b'x'; 64 * 1024];
            let mut rest = Vec::new();
            len_field(3, &pad, &mut rest);
            for n in 0..FLOOD_MESSAGES {
                let mut data = frame(&response(&ok(n, ResponseType::RESPONSE), &rest));
                while !data.is_empty() {
                    out.reserve_capacity(data.len());
                    let cap = match std::future::poll_fn(|cx| out.poll_capacity(cx)).await {
                        Some(Ok(c)) => c,
                        _ => return,
                    };
                    let part = data.split_to(cap.min(data.len()));
                    if out.send_data(part, false).is_err() {
                        return;
                    }
                }
            }
            let _ = out.send_trailers(trailers);
        }
        "events" => {
            let msgs = (0..5)
                .map(|n| response(&ok(n, ResponseType::RESPONSE), &[]))
                .collect();
            send(&mut respond, msgs, trailers);
        }
        _ => send(
            &mut respond,
            vec![response(&ok(0, ResponseType::RESPONSE), b"\x10\x01")],
            trailers,
        ),
    }
}

pub const FLOOD_MESSAGES: u64 = 1500;

/// Field 2 with `size` bytes of a pattern that shows a lost or moved byte.
pub fn big_field(size: usize) -> Vec<u8> {
    let value: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::with_capacity(size + 12);
    len_field(2, &value, &mut out);
    out
}

// ---------------------------------------------------------------- the proxy process

pub struct Proxy {
    pub child: Child,
    pub addr: String,
    pub partition_addrs: Vec<String>,
    pub metrics: Option<String>,
    pub logs: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Proxy {
    /// Starts the proxy with `args` (plus --listen 127.0.0.1:0 and JSON logs), and waits
    /// until it listens on its main address and `pinned` partition listeners.
    pub fn start(args: &[String], pinned: usize) -> Proxy {
        Self::start_with(Command::new(BIN), args, pinned)
    }

    pub fn start_with(mut command: Command, args: &[String], pinned: usize) -> Proxy {
        if !command.get_envs().any(|(k, _)| k == "RUST_LOG") {
            command.env("RUST_LOG", "info");
        }
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "message": line, "raw": true }));
                sink.lock().unwrap().push(value);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let lines = logs.lock().unwrap();
                let addr_of = |msg: &str| -> Vec<String> {
                    lines
                        .iter()
                        .filter(|l| l["message"] == msg)
                        .map(|l| l["address"].as_str().unwrap().to_owned())
                        .collect()
                };
                let main = addr_of("listening");
                let parts = addr_of("listening for one partition");
                if main.len() == 1 && parts.len() == pinned {
                    let metrics = addr_of("metrics at /metrics").pop();
                    drop(lines);
                    return Proxy {
                        child,
                        addr: main[0].clone(),
                        partition_addrs: parts,
                        metrics,
                        logs,
                    };
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the proxy exited at start: {status}: {:?}",
                    logs.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the proxy did not start: {:?}",
                logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    pub fn logged(&self, message: &str) -> Vec<serde_json::Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l["message"].as_str().is_some_and(|m| m.contains(message)))
            .cloned()
            .collect()
    }

    /// The log lines containing `message`, once there are `count` (or after 5 s).
    pub fn wait_logged(&self, message: &str, count: usize) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.logged(message);
            if lines.len() >= count || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The process's resident set, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// CPU time the process has used (user + system).
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
    }

    /// Waits until the proxy says every partition has a reachable replica.
    pub fn wait_ready(&self) {
        let ready = self.wait_logged("ready: every partition", 1);
        assert!(!ready.is_empty(), "{:?}", self.logs.lock().unwrap());
    }

    /// GET `path` from the metrics listener: the status line and body.
    pub async fn http_get(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.metrics.as_ref().unwrap())
            .await
            .unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    pub async fn metrics_text(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.metrics.as_ref().unwrap())
            .await
            .unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        out
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--partition` arguments for these groups.
pub fn partition_args(groups: &[&Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| ["--partition".to_owned(), g.addrs.join(",")])
        .collect()
}

// ---------------------------------------------------------------- a raw gRPC client

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
