//! A partition's replicas over HTTP/2: one listener each on 127.0.0.1, the leader
//! applying, followers answering NOT_LEADER.

use crate::state::{Header, Outcome, Partition, Service};
use crate::wire::{frame, message_field, varint_field, Fields};
use atomix_headers::{Message, RequestHeader};
use bytes::{Bytes, BytesMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};

/// One partition's Raft group.
pub struct Group {
    /// The replicas' `host:port`, as NOT_LEADER names them.
    pub addrs: Vec<String>,
    leader: AtomicUsize,
    /// The replicated state, applied by whichever replica leads.
    pub state: Mutex<Partition>,
    /// Woken after every change, for calls that wait.
    changed: Notify,
    /// Per replica: true once it is killed (its connections drop, it accepts no more).
    killed: Vec<watch::Sender<bool>>,
    /// Calls received by any replica, followers' included.
    pub calls: AtomicUsize,
}

impl Group {
    /// Starts `replicas` replicas, the first leading.
    pub async fn start(replicas: usize) -> Arc<Group> {
        let mut listeners = Vec::new();
        for _ in 0..replicas {
            listeners.push(TcpListener::bind("127.0.0.1:0").await.expect("a port"));
        }
        let group = Arc::new(Group {
            addrs: listeners
                .iter()
                .map(|l| l.local_addr().expect("bound").to_string())
                .collect(),
            leader: AtomicUsize::new(0),
            state: Mutex::new(Partition::default()),
            changed: Notify::new(),
            killed: (0..replicas).map(|_| watch::Sender::new(false)).collect(),
            calls: AtomicUsize::new(0),
        });
        for (me, listener) in listeners.into_iter().enumerate() {
            tokio::spawn(accept(group.clone(), me, listener));
        }
        group
    }

    /// The replica that leads.
    pub fn leader(&self) -> usize {
        self.leader.load(Ordering::SeqCst)
    }

    /// Makes `replica` the leader: the state goes with it, as Raft's log does.
    pub fn set_leader(&self, replica: usize) {
        self.leader.store(replica, Ordering::SeqCst);
    }

    /// Kills `replica`: its connections drop and it accepts no more.
    pub fn kill(&self, replica: usize) {
        self.killed[replica].send_replace(true);
    }

    /// How many (session, sequence number) pairs were applied more than once.
    pub fn applied_twice(&self) -> usize {
        let state = self.state.lock().expect("not poisoned");
        state
            .applied
            .iter()
            .filter(|(k, &n)| k.1 != 0 && n > 1)
            .count()
    }
}

async fn accept(group: Arc<Group>, me: usize, listener: TcpListener) {
    let mut killed = group.killed[me].subscribe();
    loop {
        let socket = tokio::select! {
            _ = killed.wait_for(|k| *k) => return,
            s = listener.accept() => match s { Ok((s, _)) => s, Err(_) => return },
        };
        let group = group.clone();
        let mut killed = group.killed[me].subscribe();
        tokio::spawn(async move {
            let Ok(mut conn) = h2::server::handshake(socket).await else {
                return;
            };
            loop {
                tokio::select! {
                    _ = killed.wait_for(|k| *k) => return,
                    next = conn.accept() => match next {
                        Some(Ok((request, respond))) => {
                            let group = group.clone();
                            let mut killed = group.killed[me].subscribe();
                            tokio::spawn(async move {
                                tokio::select! {
                                    _ = killed.wait_for(|k| *k) => {}
                                    _ = answer(&group, me, request, respond) => {}
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

async fn answer(
    group: &Group,
    me: usize,
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    group.calls.fetch_add(1, Ordering::SeqCst);
    let (parts, mut body) = request.into_parts();
    let mut data = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return };
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
    }
    let Some((service, method)) = route(parts.uri.path()) else {
        return status(&mut respond, 12, "no such method");
    };
    let Some(message) = data.get(5..) else {
        return status(&mut respond, 13, "no request message");
    };
    let Some(op) = Fields::read(message) else {
        return status(&mut respond, 13, "not protobuf");
    };
    let header = match RequestHeader::decode(op.bytes(1)) {
        Ok(h) => Header {
            name: {
                let n = h.name.unwrap_or_default();
                format!("{}/{}", n.namespace, n.name)
            },
            session_id: h.session_id,
            request_id: h.request_id,
            index: h.index,
            streams: h
                .streams
                .iter()
                .map(|s| (s.stream_id, s.response_id))
                .collect(),
        },
        Err(e) => return status(&mut respond, 13, &e.to_string()),
    };
    let leader = group.leader();
    if leader != me {
        let mut h = Vec::new();
        message_field(5, group.addrs[leader].as_bytes(), &mut h);
        varint_field(6, 2, &mut h); // NOT_LEADER
        let mut m = Vec::new();
        message_field(1, &h, &mut m);
        return messages(&mut respond, vec![m], None).await;
    }
    let outcome = loop {
        // Registered before the state is read: a change between the two wakes it.
        let changed = group.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        let outcome = {
            let mut state = group.state.lock().expect("not poisoned");
            state.handle(service, method, &header, &op, Instant::now())
        };
        match outcome {
            Outcome::Wait => changed.await,
            other => break other,
        }
    };
    group.changed.notify_waiters();
    match outcome {
        Outcome::Reply(m) => messages(&mut respond, vec![m], None).await,
        Outcome::Stream { now, live } => messages(&mut respond, now, live).await,
        Outcome::Status(code, message) => status(&mut respond, code, &message),
        Outcome::Wait => unreachable!("waited above"),
    }
}

/// The service and method of a path.
fn route(path: &str) -> Option<(Service, &str)> {
    let (service, method) = path.strip_prefix('/')?.split_once('/')?;
    let service = match service {
        "atomix.map.MapService" => Service::Map,
        "atomix.set.SetService" => Service::Set,
        "atomix.counter.CounterService" => Service::Counter,
        _ => return None,
    };
    Some((service, method))
}

fn head() -> http::Response<()> {
    let mut head = http::Response::new(());
    head.headers_mut()
        .insert("content-type", "application/grpc".parse().expect("static"));
    head
}

fn status(respond: &mut h2::server::SendResponse<Bytes>, code: u32, message: &str) {
    let mut h = head();
    h.headers_mut().insert("grpc-status", code.into());
    if let Ok(v) = message.parse() {
        h.headers_mut().insert("grpc-message", v);
    }
    let _ = respond.send_response(h, true);
}

/// Sends `now`, then what arrives on `live` until it closes or the client goes, then
/// OK.
async fn messages(
    respond: &mut h2::server::SendResponse<Bytes>,
    now: Vec<Vec<u8>>,
    live: Option<tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>>,
) {
    let Ok(mut out) = respond.send_response(head(), false) else {
        return;
    };
    for m in now {
        if out.send_data(Bytes::from(frame(&m)), false).is_err() {
            return;
        }
    }
    if let Some(mut live) = live {
        loop {
            tokio::select! {
                m = live.recv() => match m {
                    Some(m) => if out.send_data(Bytes::from(frame(&m)), false).is_err() { return },
                    None => break,
                },
                _ = std::future::poll_fn(|cx| out.poll_reset(cx)) => return,
            }
        }
    }
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", 0.into());
    let _ = out.send_trailers(trailers);
}
