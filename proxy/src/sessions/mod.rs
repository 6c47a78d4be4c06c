//! Sessions the proxy holds for its clients, so that any gRPC client can use a
//! partitioned cluster as one endpoint: a map or set session created through the main
//! listener (with several partitions) is the proxy's, one session on every partition
//! beneath it (`atomix_session` keeps their state; this module does the I/O).
//!
//! - Create opens a session on every partition and answers with the proxy's id (top
//!   bit set: never a partition's). Close closes them all. A client's KeepAlive keeps
//!   the proxy's session; the proxy keeps each partition session alive itself, at half
//!   its timeout, acknowledging only what it has received, as a contiguous prefix.
//! - Entry calls go to the key's partition with that partition session's id, sequence
//!   number and index (`calls`); Size sums, Clear runs everywhere, Entries, Iterate and
//!   Events merge the partitions' streams (`streams`).
//! - A partition session that is lost, or a sequence number that could not be brought
//!   to its partition, ends the client's session: its next call is UNKNOWN `unknown
//!   session N`, as from the server, and it creates another.
//!
//! A client's sessions live in this process: a restart ends them, which clients see as
//! an expired session.

mod alive;
mod calls;
mod lifecycle;
mod streams;
mod wire;

use crate::proxy::Proxy;
use crate::respond::{reply, Outcome};
use crate::status::{Code, Status};
use crate::waiters::Waiters;
use atomix_headers::partition::Method;
use atomix_headers::RequestEnvelope;
use atomix_session::{ClientSession, Refusal, SessionIds, StreamMerge};
use bytes::Bytes;
use h2::server::SendResponse;
use http::HeaderMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A session Create asks for no timeout: the server's default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of answers and stream responses one client session may hold unacknowledged.
const SAVED_LIMIT: usize = 16 << 20;

/// Every session the proxy holds.
#[derive(Default)]
pub struct Sessions {
    ids: SessionIds,
    open: Mutex<HashMap<u64, Arc<Held>>>,
}

impl Sessions {
    fn get(&self, id: u64) -> Option<Arc<Held>> {
        self.open.lock().expect("not poisoned").get(&id).cloned()
    }

    /// Keeps the gauges of open sessions up to date.
    fn count(&self, metrics: &crate::metrics::Metrics) {
        let open = self.open.lock().expect("not poisoned");
        let partitions: usize = open.values().map(|h| h.partitions).sum();
        metrics.sessions.set(open.len() as i64);
        metrics.partition_sessions.set(partitions as i64);
    }
}

/// One client session and what the proxy keeps beside its state.
pub struct Held {
    id: u64,
    state: Mutex<ClientSession<Bytes>>,
    /// Woken when a command is given out: a command waiting for a gap asks again.
    advanced: Waiters,
    /// Events streams by the client's request id.
    events: Mutex<HashMap<u64, Arc<Mutex<StreamMerge<Bytes>>>>>,
    timeout: Duration,
    partitions: usize,
    /// The service's path prefix (`/atomix.map.MapService/`) and the request that
    /// created it, whose header names the primitive for the proxy's own requests.
    service: &'static str,
    create: Bytes,
}

/// How a call on a proxy session is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Create,
    KeepAlive,
    Close,
    /// One key's partition: a command (it writes) or a query.
    Entry {
        command: bool,
    },
    Size,
    Clear,
    /// Entries or Iterate.
    Scan,
    Events,
}

/// Whether the session layer serves this call: a map or set call through the main
/// listener that names no partition, on a proxy session (or creating one).
pub fn claim(method: Method, envelope: &RequestEnvelope<'_>) -> Option<Kind> {
    if !matches!(
        method.service,
        "atomix.map.MapService" | "atomix.set.SetService"
    ) {
        return None;
    }
    let header = envelope.header.unwrap_or_default();
    if header.unknown_fields.last_varint(6).is_some() {
        return None; // names its partition: passed through
    }
    let kind = match method.name {
        "Create" => return Some(Kind::Create),
        "KeepAlive" => Kind::KeepAlive,
        "Close" => Kind::Close,
        "Size" => Kind::Size,
        "Clear" => Kind::Clear,
        "Entries" | "Iterate" => Kind::Scan,
        "Events" => Kind::Events,
        "Put" | "Replace" | "Remove" | "Add" => Kind::Entry { command: true },
        "Get" | "Exists" | "Contains" => Kind::Entry { command: false },
        _ => return None,
    };
    // Ids with the top bit are the proxy's; others are a partition's, from a client
    // that partitions itself.
    (header.session_id >> 63 == 1).then_some(kind)
}

/// What a session call needs of its call.
pub struct Ctx<'a> {
    pub proxy: &'a Proxy,
    pub method: Method,
    pub path: Option<http::uri::PathAndQuery>,
    /// The client's headers, less the hop-by-hop ones: its metadata goes upstream.
    pub headers: HeaderMap,
    pub deadline: Option<Instant>,
    pub pass_timeout: bool,
}

/// Serves a call the session layer claimed.
pub async fn serve(
    ctx: &mut Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    kind: Kind,
    envelope: &RequestEnvelope<'_>,
    message: &Bytes,
) -> Outcome {
    ctx.proxy
        .metrics
        .session_calls
        .get_or_create(&crate::metrics::MethodLabels {
            method: ctx.method.name,
        })
        .inc();
    if kind == Kind::Create {
        return lifecycle::create(ctx, respond, envelope, message).await;
    }
    let header = envelope.header.unwrap_or_default();
    let Some(held) = ctx.proxy.sessions.get(header.session_id) else {
        return unknown(respond, header.session_id);
    };
    match kind {
        Kind::KeepAlive => lifecycle::keep_alive(ctx, respond, &held, envelope),
        Kind::Close => lifecycle::close(ctx, respond, &held, envelope).await,
        Kind::Entry { command } => calls::entry(ctx, respond, &held, envelope, command).await,
        Kind::Size => calls::size(ctx, respond, &held, envelope).await,
        Kind::Clear => calls::clear(ctx, respond, &held, envelope).await,
        Kind::Scan => streams::scan(ctx, respond, &held, envelope).await,
        Kind::Events => streams::events(ctx, respond, &held, envelope).await,
        Kind::Create => unreachable!("served above"),
    }
}

impl Held {
    /// The header fields of a query on every partition, in partition order.
    fn queries(&self) -> Result<Vec<atomix_session::Upstream>, Refusal> {
        let state = self.state.lock().expect("not poisoned");
        (0..self.partitions).map(|p| state.query(p)).collect()
    }
}

/// UNKNOWN `unknown session N`, as the server answers.
fn unknown(respond: &mut SendResponse<Bytes>, id: u64) -> Outcome {
    reply(
        respond,
        Status::new(Code::UNKNOWN, Refusal::UnknownSession(id).to_string()),
    )
}

/// The proxy's status for a refusal of the session state.
fn refused(respond: &mut SendResponse<Bytes>, r: Refusal) -> Outcome {
    let code = match r {
        Refusal::TooMuchUnacknowledged { .. } => Code::RESOURCE_EXHAUSTED,
        Refusal::UnknownSession(_) | Refusal::Acknowledged(_) => Code::UNKNOWN,
    };
    reply(respond, Status::new(code, r.to_string()))
}

/// Ends a client session: later calls are UNKNOWN `unknown session N`.
fn end(proxy: &Proxy, held: &Held) {
    held.state.lock().expect("not poisoned").end();
    held.advanced.wake_all();
    proxy
        .sessions
        .open
        .lock()
        .expect("not poisoned")
        .remove(&held.id);
    proxy.sessions.count(&proxy.metrics);
}
