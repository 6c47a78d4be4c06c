//! Fake Atomix partitions: Raft groups of replicas, with a leader that applies and
//! followers that answer NOT_LEADER, and replicas that misbehave on request.

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
    /// Each replica's HTTP/2 connections now open.
    pub open: Vec<AtomicUsize>,
    /// Requests whose `:scheme` was `https`.
    pub https: AtomicUsize,
}

/// HTTP/2 settings of a group's replicas, when not h2's defaults, and their TLS.
#[derive(Clone, Default)]
pub struct ReplicaOptions {
    pub max_header_list_size: Option<u32>,
    pub max_concurrent_streams: Option<u32>,
    /// Replicas speak TLS with this configuration.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
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
        open: (0..n).map(|_| AtomicUsize::new(0)).collect(),
        https: AtomicUsize::new(0),
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
            match group.options.tls.clone() {
                None => serve_connection(group, me, kill, socket).await,
                Some(tls) => {
                    let accept = tokio_rustls::TlsAcceptor::from(tls).accept(socket);
                    if let Ok(stream) = accept.await {
                        serve_connection(group, me, kill, stream).await;
                    }
                }
            }
        });
    }
}

/// One replica connection, counted in `Group::open` while it is.
async fn serve_connection<T>(group: Arc<Group>, me: usize, kill: CancellationToken, io: T)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    struct Open<'a>(&'a AtomicUsize);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::SeqCst);
        }
    }
    group.open[me].fetch_add(1, Ordering::SeqCst);
    let _open = Open(&group.open[me]);
    {
        let mut builder = h2::server::Builder::new();
        if let Some(max) = group.options.max_header_list_size {
            builder.max_header_list_size(max);
        }
        if let Some(max) = group.options.max_concurrent_streams {
            builder.max_concurrent_streams(max);
        }
        let Ok(mut conn) = builder.handshake(io).await else {
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
    if request.uri().scheme_str() == Some("https") {
        group.https.fetch_add(1, Ordering::SeqCst);
    }
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
