//! One call from its headers to its trailers: the request read and checked, its
//! header decoded and routed, then forwarded (`attempt`) and recorded. A session layer
//! goes between the routing and the forwarding.

use crate::attempt::{forward, Forward};
use crate::body::read_request;
use crate::metrics::CallLabels;
use crate::peer_settings::header_list_size;
use crate::proxy::Proxy;
use crate::respond::{refuse_http, reply, strip_hop_by_hop, Outcome};
use crate::sessions;
use crate::status::{parse_timeout, Code, Status, GRPC_TIMEOUT};
use atomix_headers::grpc::PREFIX_LEN;
use atomix_headers::partition::{self, Method};
use atomix_headers::{Message, RequestEnvelope};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use http::header::HeaderValue;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::time::{sleep_until, Instant};

/// Serves one call and records it.
pub async fn serve_call(
    proxy: &Proxy,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    pinned: Option<usize>,
) {
    let start = Instant::now();
    // h2 bounds one call's header list; this bounds all of them together, held from
    // the headers to the call's end (a call may wait up to --timeout for its body).
    let mut content_type = None;
    let size = header_list_size(&request, |name, value| {
        if name == http::header::CONTENT_TYPE {
            content_type = Some(value.as_bytes());
        }
    });
    let limits = Limits::now(proxy);
    let Some(_held) = HeldHeaders::charge(proxy, size, limits.headers_held) else {
        let status = Status::new(
            Code::RESOURCE_EXHAUSTED,
            "the proxy holds as many request headers as --max-headers-held allows; try again",
        );
        let outcome = reply(&mut respond, status);
        record(proxy, start, None, "other", outcome);
        return;
    };
    if let Some(outcome) = refuse_non_grpc(&request, content_type, &mut respond) {
        record(proxy, start, None, "other", outcome);
        return;
    }
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
                limits,
            };
            let outcome = call.run(request, pinned).await;
            (call.partition, label, outcome)
        }
        None => {
            let status = Status::new(Code::UNIMPLEMENTED, format!("no Atomix method at {path}"));
            (None, "other", reply(&mut respond, status))
        }
    };
    record(proxy, start, partition, method, outcome);
}

/// Refuses, as grpc-go does, what is not a gRPC call: a method other than POST (405,
/// INTERNAL) or a content-type other than `application/grpc` and its `+format` and
/// `;parameter` forms (415, INVALID_ARGUMENT).
fn refuse_non_grpc(
    request: &http::Request<RecvStream>,
    content_type: Option<&[u8]>,
    respond: &mut SendResponse<Bytes>,
) -> Option<Outcome> {
    if request.method() != http::Method::POST {
        let status = Status::new(
            Code::INTERNAL,
            format!("gRPC calls are POST, not {}", request.method()),
        );
        return Some(refuse_http(
            respond,
            http::StatusCode::METHOD_NOT_ALLOWED,
            status,
        ));
    }
    let content_type = content_type.unwrap_or_default();
    let grpc = content_type
        .strip_prefix(b"application/grpc")
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'+' || rest[0] == b';');
    if !grpc {
        let status = Status::new(
            Code::INVALID_ARGUMENT,
            format!(
                "content-type {:?} is not application/grpc",
                String::from_utf8_lossy(content_type)
            ),
        );
        return Some(refuse_http(
            respond,
            http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            status,
        ));
    }
    None
}

/// Logs a call that failed, and counts every call.
fn record(
    proxy: &Proxy,
    start: Instant,
    partition: Option<usize>,
    method: &'static str,
    outcome: Outcome,
) {
    let partition_label = partition.map_or("", |p| proxy.labels[p]);
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
    let labels = CallLabels {
        partition: partition_label,
        method,
        code: code.name(),
    };
    proxy.metrics.calls.record(labels, elapsed.as_secs_f64());
}

/// A call's share of its worker's `headers_held`, given back when the call ends.
struct HeldHeaders<'p> {
    held: &'p AtomicUsize,
    size: usize,
}

/// What a call reads of the configuration, taken once when it starts.
#[derive(Clone, Copy)]
struct Limits {
    timeout: std::time::Duration,
    max_message_size: usize,
    /// This worker's share of `--max-headers-held` (and at least one largest header
    /// list), so that no count is shared between workers.
    headers_held: usize,
}

impl Limits {
    fn now(proxy: &Proxy) -> Self {
        let now = proxy.now();
        let c = &now.config;
        Limits {
            timeout: c.timeout,
            max_message_size: c.max_message_size,
            headers_held: (c.max_headers_held / proxy.workers())
                .max(c.max_header_list_size as usize),
        }
    }
}

impl<'p> HeldHeaders<'p> {
    fn charge(proxy: &'p Proxy, size: usize, max: usize) -> Option<Self> {
        let held = &proxy.here().headers_held;
        held.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
            held.checked_add(size).filter(|&total| total <= max)
        })
        .ok()?;
        Some(HeldHeaders { held, size })
    }
}

impl Drop for HeldHeaders<'_> {
    fn drop(&mut self) {
        self.held.fetch_sub(self.size, Ordering::Relaxed);
    }
}

/// One routed call.
struct Call<'p, 'r> {
    proxy: &'p Proxy,
    method: Method,
    label: &'static str,
    start: Instant,
    partition: Option<usize>,
    respond: &'r mut SendResponse<Bytes>,
    limits: Limits,
}

impl Call<'_, '_> {
    async fn run(&mut self, request: http::Request<RecvStream>, pinned: Option<usize>) -> Outcome {
        let proxy = self.proxy;
        let (parts, mut body) = request.into_parts();
        let timeout = parts.headers.get(GRPC_TIMEOUT).and_then(parse_timeout);
        let Limits {
            timeout: limit,
            max_message_size,
            ..
        } = self.limits;
        // The client's deadline, or --timeout for a unary call without one; a stream
        // without one lasts as long as the client and the upstream want it.
        let deadline = match timeout {
            Some(t) => Some(self.start + t),
            None if !self.method.server_streaming => Some(self.start + limit),
            None => None,
        };
        // The request itself must arrive within --timeout, deadline or not.
        let read_by = deadline.map_or(self.start + limit, |d| d.min(self.start + limit));
        let message = tokio::select! {
            biased;
            m = read_request(&mut body, max_message_size) => m,
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
        let count = proxy.labels.len() as u32;
        if pinned.is_none() && count > 1 {
            if let Some(kind) = sessions::claim(self.method, &envelope) {
                let mut headers = parts.headers;
                strip_hop_by_hop(&mut headers);
                headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
                let mut ctx = sessions::Ctx {
                    proxy,
                    method: self.method,
                    path: parts.uri.path_and_query().cloned(),
                    headers,
                    deadline,
                    pass_timeout: timeout.is_some(),
                };
                return sessions::serve(&mut ctx, self.respond, kind, &envelope, &message).await;
            }
        }
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
                worker = crate::worker::current(),
                "call"
            );
        }
        let mut headers = parts.headers;
        strip_hop_by_hop(&mut headers);
        headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
        let path = parts.uri.path_and_query().cloned();
        let pass_timeout = timeout.is_some();
        let request = Forward {
            path,
            headers,
            message,
            deadline,
            pass_timeout,
        };
        forward(proxy, self.respond, p, &request).await
    }
}
