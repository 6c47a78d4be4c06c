//! Forwarding a call to its partition: attempts at one replica after another, the
//! leader each partition is believed to have, and when a request may go again.
//!
//! Safety of retries: the proxy sends a request a second time only when the first
//! replica cannot have applied it: it was never sent (the connection could not be made,
//! or the stream was refused), or the replica answered NOT_LEADER, which a follower
//! says without applying anything. Any other failure after the request left is
//! UNAVAILABLE to the client, which retries with the same (session_id, request_id): the
//! Atomix server's session recognizes that pair and does not apply the command twice.

use crate::body::{read_first, ReadError};
use crate::leaders::{count_retry, follow, settle};
use crate::peer_settings::header_list_size;
use crate::proxy::{Proxy, Snapshot};
use crate::relay::{relay, Answer};
use crate::respond::{cancelled, reply, reset_of, response_with, Outcome};
use crate::status::{format_timeout, Code, Status, GRPC_STATUS, GRPC_TIMEOUT};
use crate::upstream::{Partition, StreamSlot, Streams};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use http::header::HeaderMap;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant, Sleep};

/// What forwarding may add to a client's header list besides the replica's authority:
/// `:authority`'s own 42 (name and 32), `te: trailers` (42) and `grpc-timeout` (at most
/// 53), with room to spare.
const FORWARD_SLACK: usize = 256;

/// What is forwarded of a call: the same for every attempt.
pub struct Forward {
    pub path: Option<http::uri::PathAndQuery>,
    /// The client's headers less the hop-by-hop ones.
    pub headers: HeaderMap,
    /// The request's one gRPC message, prefix included.
    pub message: Bytes,
    pub deadline: Option<Instant>,
    /// Whether the client sent grpc-timeout, to be passed on. (Without one the proxy's
    /// --timeout bounds the call here; the upstream need not know it.)
    pub pass_timeout: bool,
}

/// Sends `request` to partition `p`'s leader, following NOT_LEADER and passing over
/// replicas it cannot reach, and relays the answer to `respond`.
pub async fn forward(
    proxy: &Proxy,
    respond: &mut SendResponse<Bytes>,
    p: usize,
    request: &Forward,
) -> Outcome {
    // One timer for the whole call. Every wait polls its work first (`biased`), so a
    // call that never waits never registers the timer.
    let timer = call_timer(request.deadline);
    tokio::pin!(timer);
    let reached = exchange(proxy, Some(&mut *respond), p, request, timer.as_mut()).await;
    let reached = match reached {
        Ok(reached) => reached,
        Err(status) => return reply(respond, status),
    };
    let Reached {
        live,
        partition,
        replica,
        headers,
        buffered,
        body,
        // The stream on the replica's connection stays taken until the relay ends.
        slot: _slot,
    } = reached;
    let Some(body) = body else {
        // Trailers-only: the status is in the headers.
        let code = Code::from_header(headers.get(GRPC_STATUS));
        let _ = respond.send_response(response_with(headers), true);
        return Outcome::Upstream(code);
    };
    let answer = Answer {
        partition: proxy.labels[p],
        upstream: &live.partitions[partition].replicas[replica].addr,
        headers,
        buffered,
        body,
    };
    relay(proxy, respond, answer, timer).await
}

/// The timer of a call with `deadline` (or none).
pub fn call_timer(deadline: Option<Instant>) -> Sleep {
    sleep_until(deadline.unwrap_or_else(|| Instant::now() + NO_DEADLINE))
}

/// An upstream's answer that is the call's: from a leader, or from a replica whose
/// NOT_LEADER cannot be followed.
pub struct Reached {
    /// The configuration the call was sent by, and the replica of it that answered.
    live: Arc<Snapshot>,
    partition: usize,
    replica: usize,
    pub headers: HeaderMap,
    /// What was read of the body: the first message whole when it is at most
    /// `body::FIRST_MESSAGE_HOLD` long; its capacity is still to be released.
    pub buffered: Bytes,
    /// The rest of the body; `None` for a trailers-only answer.
    pub body: Option<RecvStream>,
    /// The stream on the replica's connection, held until the answer is dropped.
    pub slot: StreamSlot,
}

/// Sends `request` to partition `p`'s leader, following NOT_LEADER and passing over
/// replicas it cannot reach, until `timer` fires: the answer, or the proxy's status.
/// `client`, when given, is watched for a reset, which ends the exchange.
pub async fn exchange(
    proxy: &Proxy,
    client: Option<&mut SendResponse<Bytes>>,
    p: usize,
    request: &Forward,
    timer: Pin<&mut Sleep>,
) -> Result<Reached, Status> {
    Upstream { proxy, client }.exchange(p, request, timer).await
}

/// Waits without a deadline are bounded by this instead, so that one timer type
/// serves every call.
const NO_DEADLINE: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// One try of a call at one replica.
struct Attempt<'a> {
    partition: &'a Partition,
    replica: usize,
    request: &'a Forward,
    /// Whether a NOT_LEADER may still be followed.
    hops_left: bool,
    /// The configuration of the call, and the partition's number in it.
    live: &'a Arc<Snapshot>,
    p: usize,
}

/// What one try came to.
enum Tried {
    /// The answer that is the call's.
    Reached(Reached),
    /// The call is over, with the proxy's status.
    Failed(Status),
    /// NOT_LEADER naming this configured replica; nothing was applied.
    NotLeader(usize),
    /// The request never reached the replica: it could not be connected to.
    NotSent(String),
    /// The replica did not process the request, and said so: REFUSED_STREAM, or a
    /// GOAWAY whose last stream id is below the request's (RFC 9113, 8.7 and 6.8).
    /// The same replica may take it on another stream or connection.
    NotProcessed(String),
}

/// A call's way upstream: the proxy, and the client whose reset ends it.
struct Upstream<'p, 'r> {
    proxy: &'p Proxy,
    client: Option<&'r mut SendResponse<Bytes>>,
}

impl Upstream<'_, '_> {
    async fn exchange(
        &mut self,
        p: usize,
        request: &Forward,
        mut timer: Pin<&mut Sleep>,
    ) -> Result<Reached, Status> {
        let proxy = self.proxy;
        // The partition as configured when the call began: a reload meanwhile does
        // not move it to other replicas halfway.
        let live = proxy.live();
        let partition = &live.partitions[p];
        let n = partition.replicas.len();
        let mut current = partition.leader();
        let mut redirects = 0;
        let mut unreachable: Vec<String> = Vec::new();
        // Whether `current` was given the request a second time already.
        let mut retried_here = false;
        loop {
            let attempt = Attempt {
                partition,
                replica: current,
                request,
                // Redirects are bounded by --max-redirects.
                hops_left: redirects < live.config.max_redirects,
                live: &live,
                p,
            };
            match self.attempt(attempt, timer.as_mut()).await {
                Tried::Reached(reached) => return Ok(reached),
                Tried::Failed(status) => return Err(status),
                Tried::NotLeader(next) => {
                    redirects += 1;
                    retried_here = false;
                    follow(proxy, partition, current, next);
                    current = next;
                }
                // As gRPC clients retry transparently and Envoy's `refused-stream`
                // retry does: once on the same replica (a GOAWAY's new connection
                // reaches the same server), then as an unreachable one.
                Tried::NotProcessed(e) if !retried_here => {
                    retried_here = true;
                    tracing::debug!(partition = partition.label, error = %e, "not processed; sending again");
                    count_retry(self.proxy, partition, "not_processed");
                }
                Tried::NotSent(e) | Tried::NotProcessed(e) => {
                    // Nothing reached the replica: the next one may have it.
                    retried_here = false;
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
                        return Err(status);
                    }
                    count_retry(self.proxy, partition, "connect");
                    current = (current + 1) % n;
                }
            }
        }
    }

    /// Sends the request to one replica and reads its answer up to the first message.
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
            r = replica.ready(&a.live.connect) => r,
            _ = &mut timer => return Tried::Failed(late("could not be reached in time")),
        };
        let pooled = match send {
            Ok(pooled) => pooled,
            Err(e) => return Tried::NotSent(e.0),
        };
        // Wait for a stream here, not in h2's queue (`upstream::Streams`).
        let slot = tokio::select! {
            biased;
            slot = Streams::slot(&pooled.streams, &pooled.send) => slot,
            _ = &mut timer => return Tried::Failed(late("had no stream free in time")),
            _ = reset_of(&mut self.client) => return Tried::Failed(cancelled()),
        };
        let pooled_generation = pooled.generation();
        let mut send = pooled.send;
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::POST;
        let mut uri = http::uri::Parts::default();
        // The request's scheme says how it travels to the replica (RFC 9113, 8.3.1).
        uri.scheme = Some(if a.live.connect.tls.is_some() {
            http::uri::Scheme::HTTPS
        } else {
            http::uri::Scheme::HTTP
        });
        uri.authority = Some(replica.authority.clone());
        uri.path_and_query = a.request.path.clone();
        *request.uri_mut() = http::Uri::from_parts(uri).expect("scheme, authority and path");
        *request.headers_mut() = a.request.headers.clone();
        if let (true, Some(d)) = (a.request.pass_timeout, a.request.deadline) {
            // The client's deadline, less the time spent so far. A value that differs on every call: sensitive, so that HPACK never
            // indexes it (each insertion would evict the entries that let the other
            // headers go as one byte each).
            let mut timeout = format_timeout(d.saturating_duration_since(Instant::now()));
            timeout.set_sensitive(true);
            request.headers_mut().insert(GRPC_TIMEOUT, timeout);
        }
        // The client's list is at most --max-header-list-size (h2 refuses a larger
        // one); forwarded, it changes only by the authority, `te` and `grpc-timeout`.
        // Under a limit above that bound (most replicas', whose default is 16 MiB or
        // unlimited) no call is counted.
        let limit = pooled.header_limit.get() as usize;
        let bound = a.live.config.max_header_list_size as usize
            + replica.authority.as_str().len()
            + FORWARD_SLACK;
        let size = if limit < bound {
            header_list_size(&request, |_, _| {})
        } else {
            0
        };
        if size > limit {
            // Sent, it could make the replica close the connection and fail every
            // other call on it. Every replica of a partition runs alike, so no other
            // is tried. gRPC C-core answers metadata over its limit so.
            let status = Status::new(
                Code::RESOURCE_EXHAUSTED,
                format!(
                    "partition {}: upstream {} takes header lists up to {limit} bytes; this call's is {size}",
                    partition.label, replica.addr
                ),
            );
            return Tried::Failed(status);
        }
        let (response, mut upstream) = match send.send_request(request, false) {
            Ok(opened) => opened,
            Err(e) => {
                // The connection is going away (a GOAWAY came): another one may take it.
                replica.forget(pooled_generation);
                return Tried::NotProcessed(format!("{}: {e}", replica.addr));
            }
        };
        if let Err(e) = upstream.send_data(a.request.message.clone(), true) {
            // The stream was gone before the body was queued.
            return Tried::NotSent(format!("{}: {e}", replica.addr));
        }
        let response = tokio::select! {
            biased;
            r = response => r,
            _ = &mut timer => {
                upstream.send_reset(h2::Reason::CANCEL);
                return Tried::Failed(late("did not answer in time"));
            }
            _ = reset_of(&mut self.client) => {
                upstream.send_reset(h2::Reason::CANCEL);
                return Tried::Failed(cancelled());
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
                return Tried::NotProcessed(format!("{}: {e}", replica.addr));
            }
            // h2 fails with the peer's GOAWAY only the streams above its last stream
            // id, which the peer did not process (RFC 9113, 6.8); streams at or below
            // it that are lost later fail otherwise.
            Err(e) if e.is_go_away() && e.is_remote() => {
                replica.forget(pooled_generation);
                return Tried::NotProcessed(format!("{}: {e}", replica.addr));
            }
            Err(e) => return Tried::Failed(unavailable(format!("failed: {e}"))),
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
            return Tried::Failed(status);
        }
        if body.is_end_stream() {
            settle(self.proxy, a.partition, a.replica);
            return Tried::Reached(Reached {
                live: a.live.clone(),
                partition: a.p,
                replica: a.replica,
                headers: head.headers,
                buffered: Bytes::new(),
                body: None,
                slot,
            });
        }
        let first = tokio::select! {
            biased;
            f = read_first(&mut body) => f,
            _ = &mut timer => return Tried::Failed(late("did not answer in time")),
            _ = reset_of(&mut self.client) => return Tried::Failed(cancelled()),
        };
        let first = match first {
            Ok(first) => first,
            Err(ReadError::Lost(e)) => return Tried::Failed(unavailable(format!("was lost: {e}"))),
            Err(ReadError::Malformed(e)) => {
                let status = Status::new(
                    Code::INTERNAL,
                    format!(
                        "partition {}: upstream {} sent a malformed response: {e}",
                        partition.label, replica.addr
                    ),
                );
                return Tried::Failed(status);
            }
        };
        match &first.not_leader {
            None => settle(self.proxy, a.partition, a.replica),
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
        Tried::Reached(Reached {
            live: a.live.clone(),
            partition: a.p,
            replica: a.replica,
            headers: head.headers,
            buffered: first.buffered,
            body: Some(body),
            slot,
        })
    }
}
