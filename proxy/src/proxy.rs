//! Serving: client connections, one call at a time from headers to trailers, routed to
//! its partition's leader and relayed back.
//!
//! Safety of retries: the proxy sends a request a second time only when the first
//! replica cannot have applied it: it was never sent (the connection could not be made,
//! or the stream was refused), or the replica answered NOT_LEADER, which a follower
//! says without applying anything. Any other failure after the request left is
//! UNAVAILABLE to the client, which retries with the same (session_id, request_id): the
//! Atomix server's session recognizes that pair and does not apply the command twice.

use crate::config::Config;
use crate::metrics::{CallLabels, Metrics, PartitionLabels, RetryLabels};
use crate::status::{format_timeout, parse_timeout, Code, Status, GRPC_STATUS, GRPC_TIMEOUT};
use crate::upstream::{ConnectOptions, Partition};
use atomix_headers::grpc::{self, PREFIX_LEN};
use atomix_headers::partition::{self, Method};
use atomix_headers::{Message, Progress, RequestEnvelope, ResponseEnvelope, ResponseStatus};
use bytes::{Bytes, BytesMut};
use futures_util::stream::{FuturesUnordered, StreamExt};
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::header::{HeaderMap, HeaderName, HeaderValue};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep_until, Instant, Sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a client gets to finish its HTTP/2 preface and settings.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The proxy's state, shared by every connection and call.
pub struct Proxy {
    pub config: Config,
    pub partitions: Vec<Partition>,
    pub metrics: Arc<Metrics>,
    /// Every Atomix method by its path, with its metrics label.
    routes: HashMap<String, (Method, &'static str)>,
    /// Service names the health service reports on.
    pub services: Vec<&'static str>,
    /// Cancelled on SIGTERM or SIGINT: stop accepting, GOAWAY every connection.
    pub shutdown: CancellationToken,
    /// Cancelled when the drain time is up: open streams end UNAVAILABLE.
    pub streams_end: CancellationToken,
    /// False from the shutdown on: health answers NOT_SERVING.
    pub serving: Arc<AtomicBool>,
    /// Every connection and call, for the drain to wait on.
    pub tracker: TaskTracker,
    connect: ConnectOptions,
}

impl Proxy {
    pub fn new(config: Config, metrics: Arc<Metrics>) -> Result<Self, String> {
        let partitions = config
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| Partition::new(i + 1, &p.replicas))
            .collect::<Result<Vec<_>, _>>()?;
        let mut routes = HashMap::new();
        let mut services = vec![""];
        for m in partition::methods() {
            let path = format!("/{}/{}", m.service, m.name);
            // Leaked once per method at start-up: labels live as long as the process.
            let label: &'static str = Box::leak(path[1..].to_owned().into_boxed_str());
            routes.insert(path, (m, label));
            if !services.contains(&m.service) {
                services.push(m.service);
            }
        }
        // Every partition's series exist from the start, at 0, so that a rate over
        // them is defined before the first leader change.
        for p in &partitions {
            let partition = p.label;
            metrics
                .leader_changes
                .get_or_create(&PartitionLabels { partition })
                .get();
            for reason in ["not_leader", "connect"] {
                metrics
                    .retries
                    .get_or_create(&RetryLabels { partition, reason })
                    .get();
            }
        }
        Ok(Proxy {
            connect: ConnectOptions {
                connect_timeout: config.connect_timeout,
                keepalive: config.keepalive,
            },
            config,
            partitions,
            metrics,
            routes,
            services,
            shutdown: CancellationToken::new(),
            streams_end: CancellationToken::new(),
            serving: Arc::new(AtomicBool::new(true)),
            tracker: TaskTracker::new(),
        })
    }
}

/// Accepts clients on `listener` until the shutdown. `pinned` is the partition a
/// partition's own listener serves. An accept error (out of file descriptors, say)
/// backs off, doubling up to a second, instead of spinning.
pub async fn accept_loop(proxy: Arc<Proxy>, listener: TcpListener, pinned: Option<usize>) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(5);
    let mut backoff = FIRST_BACKOFF;
    loop {
        tokio::select! {
            _ = proxy.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => {
                    backoff = FIRST_BACKOFF;
                    let _ = socket.set_nodelay(true);
                    proxy.tracker.spawn(serve_connection(proxy.clone(), socket, pinned));
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "accepting a connection failed");
                    tokio::select! {
                        _ = proxy.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// One client connection: its calls, each a task of its own on this thread; GOAWAY on
/// shutdown or after the idle time with no call open.
async fn serve_connection(proxy: Arc<Proxy>, socket: TcpStream, pinned: Option<usize>) {
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(1024)
        .handshake::<_, Bytes>(socket);
    let mut conn = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "client handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("client sent no HTTP/2 preface in time");
            return;
        }
    };
    // The connection's calls are driven here, in its own task, rather than spawned:
    // a call's progress and the connection's reads and writes then take turns on one
    // task, without a wake-up between them.
    let mut calls = FuturesUnordered::new();
    let idle_timeout = proxy.config.idle_timeout;
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    // Calls accepted since the idle timer last fired: a connection is idle when the
    // timer fires with none accepted and none open (so it closes after one to two
    // idle times), which costs a call nothing.
    let mut accepted = 0u64;
    let mut closing = false;
    let shutdown = proxy.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        // Completed calls are collected first, then the connection is polled once:
        // one pass over its socket for any number of calls that made progress.
        let event = poll_fn(|cx| {
            while let Poll::Ready(Some(())) = calls.poll_next_unpin(cx) {}
            if !closing {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Shutdown);
                }
                if idle.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Idle);
                }
            }
            conn.poll_accept(cx).map(|next| match next {
                Some(Ok((request, respond))) => Event::Call(request, respond),
                Some(Err(e)) => Event::End(Some(e)),
                None => Event::End(None),
            })
        })
        .await;
        match event {
            Event::Call(request, respond) => {
                accepted += 1;
                // Boxed before it is pushed: the set moves a pointer, not the
                // call's whole state.
                calls.push(Box::pin(serve_call(&proxy, request, respond, pinned)));
            }
            Event::End(error) => {
                if let Some(e) = error {
                    tracing::debug!(error = %e, "client connection failed");
                }
                break;
            }
            Event::Shutdown => {
                closing = true;
                conn.graceful_shutdown();
            }
            Event::Idle if accepted == 0 && calls.is_empty() => {
                tracing::debug!(after = ?idle_timeout, "closing an idle client connection");
                closing = true;
                conn.graceful_shutdown();
            }
            Event::Idle => {
                accepted = 0;
                idle.as_mut().reset(Instant::now() + idle_timeout);
            }
        }
    }
    // The connection is gone; what its calls still hold ends with it.
    while calls.next().await.is_some() {}
}

/// What a client connection's task wakes up for. (Built and matched at once, never
/// stored: its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Event {
    Call(http::Request<RecvStream>, SendResponse<Bytes>),
    End(Option<h2::Error>),
    Shutdown,
    Idle,
}

/// Serves one call and records it.
async fn serve_call(
    proxy: &Proxy,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    pinned: Option<usize>,
) {
    let start = Instant::now();
    let path = request.uri().path();
    if let Some(method) = path.strip_prefix("/grpc.health.v1.Health/") {
        let method = method.to_owned();
        crate::health::serve(proxy, &method, request, respond).await;
        return;
    }
    let (partition, method, outcome) = match proxy.routes.get(path) {
        Some(&(method, label)) => {
            let mut call = Call {
                proxy,
                method,
                label,
                start,
                partition: None,
                respond: &mut respond,
            };
            let outcome = call.run(request, pinned).await;
            (call.partition, label, outcome)
        }
        None => {
            let status = Status::new(Code::UNIMPLEMENTED, format!("no Atomix method at {path}"));
            (None, "other", reply(&mut respond, status))
        }
    };
    let partition_label = partition.map_or("", |p| proxy.partitions[p].label);
    let elapsed = start.elapsed();
    match &outcome {
        Outcome::Upstream(Code::OK) => {}
        Outcome::Upstream(code) => tracing::info!(
            method,
            partition = partition_label,
            code = code.name(),
            elapsed = ?elapsed,
            "call failed upstream"
        ),
        Outcome::Proxy(status) => tracing::warn!(
            method,
            partition = partition_label,
            code = status.code.name(),
            reason = %status.message,
            elapsed = ?elapsed,
            "call failed"
        ),
    }
    let code = match &outcome {
        Outcome::Upstream(code) => *code,
        Outcome::Proxy(status) => status.code,
    };
    proxy
        .metrics
        .requests
        .get_or_create(&CallLabels {
            partition: partition_label,
            method,
            code: code.name(),
        })
        .inc();
    proxy.metrics.duration.observe(elapsed.as_secs_f64());
}

/// How a call ended: with the upstream's status, or with one of the proxy's.
enum Outcome {
    Upstream(Code),
    Proxy(Status),
}

/// Answers with `status` alone (trailers-only), as the proxy's own.
fn reply(respond: &mut SendResponse<Bytes>, status: Status) -> Outcome {
    let _ = respond.send_response(status.trailers_only(), true);
    Outcome::Proxy(status)
}

/// Ends a call whose headers went out: trailers with `status`.
fn end(stream: &mut SendStream<Bytes>, status: Status) -> Outcome {
    let _ = stream.send_trailers(status.trailers());
    Outcome::Proxy(status)
}

/// Headers that belong to one HTTP/2 hop, or that the proxy sets itself.
/// `grpc-accept-encoding` is the proxy's to say: it reads every message, so it accepts
/// no compression, and an upstream that is told none compresses none.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "te"
            | "host"
            | "content-length"
            | "grpc-timeout"
            | "grpc-accept-encoding"
    )
}

/// Removes the hop-by-hop headers in place: the map itself goes on to the next hop,
/// so that forwarding copies no header.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    while let Some(name) = headers.keys().find(|n| hop_by_hop(n)).cloned() {
        headers.remove(&name);
    }
}

/// `headers` as the headers of a response.
fn response_with(mut headers: HeaderMap) -> http::Response<()> {
    strip_hop_by_hop(&mut headers);
    let mut response = http::Response::new(());
    *response.headers_mut() = headers;
    response
}

/// Waits until the client resets its stream.
async fn client_reset(respond: &mut SendResponse<Bytes>) {
    let _ = poll_fn(|cx| respond.poll_reset(cx)).await;
}

/// Waits without a deadline are bounded by this instead, so that one timer type
/// serves every call.
const NO_DEADLINE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One try of a call at one replica.
struct Attempt<'a> {
    partition: &'a Partition,
    replica: usize,
    path: &'a Option<http::uri::PathAndQuery>,
    headers: &'a HeaderMap,
    message: &'a Bytes,
    deadline: Option<Instant>,
    /// Whether the client sent grpc-timeout, to be passed on. (Without one the proxy's
    /// --timeout bounds the call here; the upstream need not know it.)
    pass_timeout: bool,
    /// Whether a NOT_LEADER may still be followed.
    hops_left: bool,
}

/// What one try came to.
enum Tried {
    /// The call is over: relayed, or ended with the proxy's status.
    Answered(Outcome),
    /// NOT_LEADER naming this configured replica; nothing was applied.
    NotLeader(usize),
    /// The request never reached the replica (connect or stream refused).
    NotSent(String),
}

/// One routed call.
struct Call<'p, 'r> {
    proxy: &'p Proxy,
    method: Method,
    label: &'static str,
    start: Instant,
    partition: Option<usize>,
    respond: &'r mut SendResponse<Bytes>,
}

/// The first message of an upstream response, and everything read with it.
struct First {
    /// The bytes read so far, the whole first message among them (or fewer, when the
    /// stream ended before one).
    buffered: Bytes,
    /// NOT_LEADER's `leader`, when the first message says so.
    not_leader: Option<String>,
}

impl Call<'_, '_> {
    async fn run(&mut self, request: http::Request<RecvStream>, pinned: Option<usize>) -> Outcome {
        let proxy = self.proxy;
        let (parts, mut body) = request.into_parts();
        let timeout = parts.headers.get(GRPC_TIMEOUT).and_then(parse_timeout);
        // The client's deadline, or --timeout for a unary call without one; a stream
        // without one lasts as long as the client and the upstream want it.
        let deadline = match timeout {
            Some(t) => Some(self.start + t),
            None if !self.method.server_streaming => Some(self.start + proxy.config.timeout),
            None => None,
        };
        // The request itself must arrive within --timeout, deadline or not.
        let read_by = deadline.map_or(self.start + proxy.config.timeout, |d| {
            d.min(self.start + proxy.config.timeout)
        });
        let message = tokio::select! {
            biased;
            m = read_request(&mut body, proxy.config.max_message_size) => m,
            _ = sleep_until(read_by) => Err(Status::new(
                Code::DEADLINE_EXCEEDED,
                "the request message did not arrive in time",
            )),
        };
        let message = match message {
            Ok(m) => m,
            Err(status) => return reply(self.respond, status),
        };
        let envelope = match RequestEnvelope::decode(&message[PREFIX_LEN..]) {
            Ok(e) => e,
            Err(e) => {
                let status =
                    Status::new(Code::INVALID_ARGUMENT, format!("the request message: {e}"));
                return reply(self.respond, status);
            }
        };
        let count = proxy.partitions.len() as u32;
        let routed = match pinned {
            Some(p) => Ok(p as u32),
            None => partition::route(self.method, &envelope, count),
        };
        let p = match routed {
            Ok(p) => p as usize,
            Err(e) => {
                return reply(
                    self.respond,
                    Status::new(Code::FAILED_PRECONDITION, e.to_string()),
                )
            }
        };
        self.partition = Some(p);
        if tracing::enabled!(tracing::Level::DEBUG) {
            let header = envelope.header.unwrap_or_default();
            tracing::debug!(
                method = self.label,
                partition = p + 1,
                name = header.name.unwrap_or_default().name,
                namespace = header.name.unwrap_or_default().namespace,
                session_id = header.session_id,
                request_id = header.request_id,
                index = header.index,
                header_partition = header.unknown_fields.last_varint(6),
                "call"
            );
        }
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        let path = parts.uri.path_and_query().cloned();
        let pass_timeout = timeout.is_some();
        self.forward(p, path, headers, message, deadline, pass_timeout)
            .await
    }

    async fn forward(
        &mut self,
        p: usize,
        path: Option<http::uri::PathAndQuery>,
        headers: HeaderMap,
        message: Bytes,
        deadline: Option<Instant>,
        pass_timeout: bool,
    ) -> Outcome {
        let proxy = self.proxy;
        let partition = &proxy.partitions[p];
        let n = partition.replicas.len();
        // One timer for the whole call. Every wait below polls its work first
        // (`biased`), so a call that never waits never registers the timer.
        let timer = sleep_until(deadline.unwrap_or_else(|| Instant::now() + NO_DEADLINE));
        tokio::pin!(timer);
        let mut current = partition.leader();
        let mut redirects = 0;
        let mut unreachable: Vec<String> = Vec::new();
        loop {
            let attempt = Attempt {
                partition,
                replica: current,
                path: &path,
                headers: &headers,
                message: &message,
                deadline,
                pass_timeout,
                // Redirects are bounded by --max-redirects.
                hops_left: redirects < proxy.config.max_redirects,
            };
            match self.attempt(attempt, timer.as_mut()).await {
                Tried::Answered(outcome) => return outcome,
                Tried::NotLeader(next) => {
                    redirects += 1;
                    self.follow(partition, current, next);
                    current = next;
                }
                Tried::NotSent(e) => {
                    // Nothing reached the replica: the next one may have it.
                    unreachable.push(e);
                    if unreachable.len() >= n {
                        let status = Status::new(
                            Code::UNAVAILABLE,
                            format!(
                                "partition {}: no replica reachable ({})",
                                partition.label,
                                unreachable.join("; ")
                            ),
                        );
                        return reply(self.respond, status);
                    }
                    let partition_label = partition.label;
                    proxy
                        .metrics
                        .retries
                        .get_or_create(&RetryLabels {
                            partition: partition_label,
                            reason: "connect",
                        })
                        .inc();
                    current = (current + 1) % n;
                }
            }
        }
    }

    /// Sends the request to one replica and, unless it must go elsewhere, relays the
    /// answer.
    async fn attempt(&mut self, a: Attempt<'_>, mut timer: Pin<&mut Sleep>) -> Tried {
        let partition = a.partition;
        let replica = &partition.replicas[a.replica];
        let late = |what: &str| {
            Status::new(
                Code::DEADLINE_EXCEEDED,
                format!(
                    "partition {}: upstream {} {what}",
                    partition.label, replica.addr
                ),
            )
        };
        let send = tokio::select! {
            biased;
            r = replica.ready(self.proxy.connect) => r,
            _ = &mut timer => return self.answered_with(late("could not be reached in time")),
        };
        let mut send = match send {
            Ok(send) => send,
            Err(e) => return Tried::NotSent(e.0),
        };
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::POST;
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(http::uri::Scheme::HTTP);
        uri.authority = Some(replica.authority.clone());
        uri.path_and_query = a.path.clone();
        *request.uri_mut() = http::Uri::from_parts(uri).expect("scheme, authority and path");
        *request.headers_mut() = a.headers.clone();
        if let (true, Some(d)) = (a.pass_timeout, a.deadline) {
            // The client's deadline, less the time spent so far. A value that differs on every call: sensitive, so that HPACK never
            // indexes it (each insertion would evict the entries that let the other
            // headers go as one byte each).
            let mut timeout = format_timeout(d.saturating_duration_since(Instant::now()));
            timeout.set_sensitive(true);
            request.headers_mut().insert(GRPC_TIMEOUT, timeout);
        }
        let (response, mut upstream) = match send.send_request(request, false) {
            Ok(opened) => opened,
            Err(e) => return Tried::NotSent(format!("{}: {e}", replica.addr)),
        };
        if let Err(e) = upstream.send_data(a.message.clone(), true) {
            // The stream was gone before the body was queued.
            return Tried::NotSent(format!("{}: {e}", replica.addr));
        }
        let response = tokio::select! {
            biased;
            r = response => r,
            _ = &mut timer => {
                upstream.send_reset(h2::Reason::CANCEL);
                return self.answered_with(late("did not answer in time"));
            }
            _ = client_reset(self.respond) => {
                upstream.send_reset(h2::Reason::CANCEL);
                return Tried::Answered(Outcome::Proxy(Status::new(Code::CANCELLED, "the client cancelled")));
            }
        };
        let unavailable = |what: String| {
            Status::new(
                Code::UNAVAILABLE,
                format!(
                    "partition {}: upstream {} {what}",
                    partition.label, replica.addr
                ),
            )
        };
        let response = match response {
            Ok(response) => response,
            // A refused stream was not processed (RFC 9113, 8.7).
            Err(e) if e.reason() == Some(h2::Reason::REFUSED_STREAM) => {
                return Tried::NotSent(format!("{}: {e}", replica.addr));
            }
            Err(e) => return self.answered_with(unavailable(format!("failed: {e}"))),
        };
        let (head, mut body) = response.into_parts();
        if head.status != http::StatusCode::OK {
            let status = Status::new(
                Code::from_http(head.status),
                format!(
                    "partition {}: upstream {} answered HTTP {}",
                    partition.label, replica.addr, head.status
                ),
            );
            return self.answered_with(status);
        }
        if body.is_end_stream() {
            // Trailers-only: the status is in the headers.
            let code = Code::from_header(head.headers.get(GRPC_STATUS));
            let _ = self
                .respond
                .send_response(response_with(head.headers), true);
            self.settle(a.partition, a.replica);
            return Tried::Answered(Outcome::Upstream(code));
        }
        let first = tokio::select! {
            biased;
            f = read_first(&mut body) => f,
            _ = &mut timer => return self.answered_with(late("did not answer in time")),
            _ = client_reset(self.respond) => {
                return Tried::Answered(Outcome::Proxy(Status::new(Code::CANCELLED, "the client cancelled")));
            }
        };
        let first = match first {
            Ok(first) => first,
            Err(ReadError::Lost(e)) => {
                return self.answered_with(unavailable(format!("was lost: {e}")))
            }
            Err(ReadError::Malformed(e)) => {
                let status = Status::new(
                    Code::INTERNAL,
                    format!(
                        "partition {}: upstream {} sent a malformed response: {e}",
                        partition.label, replica.addr
                    ),
                );
                return self.answered_with(status);
            }
        };
        match &first.not_leader {
            None => self.settle(a.partition, a.replica),
            Some(leader) => match partition.find(leader) {
                Some(next) if next != a.replica && a.hops_left => return Tried::NotLeader(next),
                Some(_) => {}
                None if leader.is_empty() => {}
                None => tracing::warn!(
                    partition = partition.label,
                    upstream = %replica.addr,
                    leader = %leader,
                    "NOT_LEADER names a leader that is not a configured replica; passing the response on"
                ),
            },
        }
        let outcome = self
            .relay(
                partition,
                &replica.addr,
                head.headers,
                first.buffered,
                body,
                timer,
            )
            .await;
        Tried::Answered(outcome)
    }

    fn answered_with(&mut self, status: Status) -> Tried {
        Tried::Answered(reply(self.respond, status))
    }

    /// A NOT_LEADER named `next`: make it the leader and count the redirect.
    fn follow(&self, partition: &Partition, from: usize, next: usize) {
        let proxy = self.proxy;
        proxy
            .metrics
            .retries
            .get_or_create(&RetryLabels {
                partition: partition.label,
                reason: "not_leader",
            })
            .inc();
        if partition.set_leader(next) {
            self.leader_changed(partition, from, next, "NOT_LEADER named it");
        }
    }

    /// `current` answered as a leader: if the proxy had another in mind (it reached
    /// this one past unreachable ones), this one leads now.
    fn settle(&self, partition: &Partition, current: usize) {
        let from = partition.leader();
        if from != current && partition.set_leader(current) {
            self.leader_changed(
                partition,
                from,
                current,
                "the believed leader was unreachable",
            );
        }
    }

    /// Counts and logs a new leader of `partition`.
    fn leader_changed(&self, partition: &Partition, from: usize, to: usize, why: &'static str) {
        self.proxy
            .metrics
            .leader_changes
            .get_or_create(&PartitionLabels {
                partition: partition.label,
            })
            .inc();
        tracing::info!(
            partition = partition.label,
            from = %partition.replicas[from].addr,
            to = %partition.replicas[to].addr,
            why,
            "leader changed"
        );
    }

    /// Sends the upstream's headers and what was read, then relays the rest of the
    /// stream and its trailers. Reads from the upstream only as fast as the client
    /// takes: its window, not the proxy's memory, holds a slow reader's backlog.
    async fn relay(
        &mut self,
        partition: &Partition,
        upstream: &str,
        headers: HeaderMap,
        buffered: Bytes,
        mut body: RecvStream,
        mut timer: Pin<&mut Sleep>,
    ) -> Outcome {
        let proxy = self.proxy;
        let label = partition.label;
        let mut out = match self.respond.send_response(response_with(headers), false) {
            Ok(out) => out,
            Err(_) => return Outcome::Proxy(Status::new(Code::CANCELLED, "the client went away")),
        };
        let read = buffered.len();
        if send_bounded(&mut out, buffered).await.is_err() {
            return Outcome::Proxy(Status::new(Code::CANCELLED, "the client went away"));
        }
        let _ = body.flow_control().release_capacity(read);
        loop {
            tokio::select! {
                biased;
                _ = proxy.streams_end.cancelled() => {
                    return end(&mut out, Status::new(Code::UNAVAILABLE, "the proxy is shutting down"));
                }
                _ = &mut timer => {
                    return end(&mut out, Status::new(Code::DEADLINE_EXCEEDED, format!("partition {label}: upstream {upstream} did not finish in time")));
                }
                chunk = body.data() => match chunk {
                    Some(Ok(data)) => {
                        let n = data.len();
                        if send_bounded(&mut out, data).await.is_err() {
                            return Outcome::Proxy(Status::new(Code::CANCELLED, "the client went away"));
                        }
                        let _ = body.flow_control().release_capacity(n);
                    }
                    Some(Err(e)) => {
                        return end(&mut out, Status::new(Code::UNAVAILABLE, format!("partition {label}: upstream {upstream} lost mid-stream: {e}")));
                    }
                    None => break,
                },
                _ = poll_fn(|cx| out.poll_reset(cx)) => {
                    return Outcome::Proxy(Status::new(Code::CANCELLED, "the client cancelled"));
                }
            }
        }
        let trailers = tokio::select! {
            biased;
            t = body.trailers() => t,
            _ = &mut timer => {
                return end(&mut out, Status::new(Code::DEADLINE_EXCEEDED, format!("partition {label}: upstream {upstream} did not finish in time")));
            }
        };
        match trailers {
            Ok(Some(trailers)) => {
                let code = Code::from_header(trailers.get(GRPC_STATUS));
                let _ = out.send_trailers(trailers);
                Outcome::Upstream(code)
            }
            Ok(None) => end(
                &mut out,
                Status::new(
                    Code::INTERNAL,
                    format!("partition {label}: upstream {upstream} ended without a status"),
                ),
            ),
            Err(e) => end(
                &mut out,
                Status::new(
                    Code::UNAVAILABLE,
                    format!("partition {label}: upstream {upstream} lost mid-stream: {e}"),
                ),
            ),
        }
    }
}

/// Sends `data` no faster than the client's window opens: never more than its
/// capacity at a time, so h2 buffers nothing past the window.
async fn send_bounded(out: &mut SendStream<Bytes>, mut data: Bytes) -> Result<(), ()> {
    while !data.is_empty() {
        out.reserve_capacity(data.len());
        let mut capacity = out.capacity();
        while capacity == 0 {
            match poll_fn(|cx| out.poll_capacity(cx)).await {
                Some(Ok(c)) => capacity = c,
                Some(Err(_)) | None => return Err(()),
            }
        }
        let part = data.split_to(capacity.min(data.len()));
        out.send_data(part, false).map_err(|_| ())?;
    }
    Ok(())
}

/// Chunks of a body gathered until a whole message is in: the first chunk kept as it
/// came (no copy in the common case, a message in one chunk), later ones appended to a
/// copy.
#[derive(Default)]
struct Gathered {
    first: Option<Bytes>,
    more: BytesMut,
}

impl Gathered {
    fn push(&mut self, chunk: Bytes) {
        match &self.first {
            None => self.first = Some(chunk),
            Some(first) => {
                if self.more.is_empty() {
                    self.more.extend_from_slice(first);
                }
                self.more.extend_from_slice(&chunk);
            }
        }
    }

    fn bytes(&self) -> &[u8] {
        if self.more.is_empty() {
            self.first.as_deref().unwrap_or_default()
        } else {
            &self.more
        }
    }

    fn freeze(self) -> Bytes {
        if self.more.is_empty() {
            self.first.unwrap_or_default()
        } else {
            self.more.freeze()
        }
    }
}

/// The request's one gRPC message, prefix included, exactly as it arrived.
async fn read_request(body: &mut RecvStream, max: usize) -> Result<Bytes, Status> {
    let mut gathered = Gathered::default();
    while let Some(chunk) = body.data().await {
        let chunk = chunk
            .map_err(|e| Status::new(Code::CANCELLED, format!("the request stream failed: {e}")))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        gathered.push(chunk);
        let seen = gathered.bytes();
        // Refuse an oversized message from its prefix, before its body arrives.
        if let Err(e) = grpc::split(seen, max) {
            return Err(frame_error(e));
        }
        if seen.len() > max + PREFIX_LEN {
            return Err(Status::new(
                Code::UNIMPLEMENTED,
                "one request message per call: client streaming is not supported",
            ));
        }
    }
    let whole = gathered.freeze();
    match grpc::split(&whole, max) {
        Ok(Progress::Complete(frame)) if frame.compressed => Err(Status::new(
            Code::UNIMPLEMENTED,
            "compressed messages are not supported (send grpc-encoding identity)",
        )),
        Ok(Progress::Complete(frame)) if frame.body.end == whole.len() => Ok(whole),
        Ok(Progress::Complete(_)) => Err(Status::new(
            Code::UNIMPLEMENTED,
            "one request message per call: client streaming is not supported",
        )),
        Ok(Progress::Partial(_)) if whole.is_empty() => Err(Status::new(
            Code::INVALID_ARGUMENT,
            "the call carried no request message",
        )),
        Ok(Progress::Partial(_)) => Err(Status::new(
            Code::INVALID_ARGUMENT,
            "the request ended inside a message",
        )),
        Err(e) => Err(frame_error(e)),
    }
}

fn frame_error(e: atomix_headers::DecodeError) -> Status {
    match e.kind() {
        atomix_headers::DecodeErrorKind::FrameTooLarge => Status::new(
            // As gRPC servers refuse an oversized message.
            Code::RESOURCE_EXHAUSTED,
            "the request message is larger than --max-message-size",
        ),
        _ => Status::new(
            Code::INVALID_ARGUMENT,
            format!("the request's gRPC frame: {e}"),
        ),
    }
}

enum ReadError {
    Lost(h2::Error),
    Malformed(String),
}

/// Reads the upstream response up to the end of its first message (or of the stream)
/// and reads that message's header.
async fn read_first(body: &mut RecvStream) -> Result<First, ReadError> {
    let mut gathered = Gathered::default();
    loop {
        let seen = gathered.bytes();
        // Upstream messages are bounded only by the prefix's 4 GiB: the proxy holds one
        // message here, and an Atomix response is small.
        match grpc::split(seen, u32::MAX as usize) {
            Ok(Progress::Complete(frame)) => {
                if frame.compressed {
                    return Err(ReadError::Malformed(
                        "a compressed message (the proxy asks for none)".into(),
                    ));
                }
                let not_leader = match ResponseEnvelope::decode(&seen[frame.body.clone()]) {
                    Ok(envelope) => envelope
                        .header
                        .filter(|h| h.status == ResponseStatus::NOT_LEADER)
                        .map(|h| h.leader.to_owned()),
                    Err(e) => return Err(ReadError::Malformed(e.to_string())),
                };
                return Ok(First {
                    buffered: gathered.freeze(),
                    not_leader,
                });
            }
            Ok(Progress::Partial(_)) => {}
            Err(e) => return Err(ReadError::Malformed(e.to_string())),
        }
        let ended_inside = !seen.is_empty();
        match body.data().await {
            Some(Ok(chunk)) => gathered.push(chunk),
            Some(Err(e)) => return Err(ReadError::Lost(e)),
            None if ended_inside => {
                return Err(ReadError::Malformed(
                    "the stream ended inside a message".into(),
                ));
            }
            None => {
                return Ok(First {
                    buffered: Bytes::new(),
                    not_leader: None,
                })
            }
        }
    }
}
