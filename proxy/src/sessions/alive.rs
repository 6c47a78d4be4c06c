//! The proxy keeps each partition session alive itself, and ends a client session
//! whose client stopped keeping it alive.

use super::wire::{self, Fields};
use super::Held;
use super::{end, streams, Ctx};
use crate::proxy::Proxy;
use crate::status::Code;
use atomix_headers::{Message, RequestEnvelope, StreamHeader};
use bytes::Bytes;
use futures_util::future::join_all;
use http::HeaderMap;
use std::sync::Arc;
use tokio::time::Instant;

/// Closes partition sessions `(partition, id)` with a CloseRequest built from
/// `create`'s header (best effort: a session not closed expires).
pub(super) async fn close_partitions(
    ctx: &Ctx<'_>,
    service: &str,
    create: &Bytes,
    opened: &[(usize, u64)],
) {
    let Ok(envelope) = RequestEnvelope::decode(&create[atomix_headers::grpc::PREFIX_LEN..]) else {
        return;
    };
    let only_header = RequestEnvelope {
        header: envelope.header,
        ..Default::default()
    };
    let path: http::uri::PathAndQuery = match format!("{service}Close").parse() {
        Ok(p) => p,
        Err(_) => return,
    };
    join_all(opened.iter().map(|&(p, id)| {
        let request = wire::request(
            &only_header,
            Fields {
                session_id: id,
                ..Default::default()
            },
        );
        let path = &path;
        async move {
            if let Ok(r) = request {
                let _ = wire::unary(ctx, p, Some(path), r, None).await;
            }
        }
    }))
    .await;
}

/// Keeps every partition session of `held` alive at half its timeout, acknowledging
/// what the proxy received; ends the client's session when the client stops keeping
/// it alive or a partition lost its session.
pub(super) async fn keep_partitions_alive(proxy: Arc<Proxy>, held: Arc<Held>) {
    let Ok(envelope) = RequestEnvelope::decode(&held.create[atomix_headers::grpc::PREFIX_LEN..])
    else {
        return;
    };
    let only_header = RequestEnvelope {
        header: envelope.header,
        ..Default::default()
    };
    let path: http::uri::PathAndQuery = format!("{}KeepAlive", held.service)
        .parse()
        .expect("a path");
    let ctx = Ctx {
        proxy: &proxy,
        method: atomix_headers::partition::method(path.as_str()).expect("an Atomix method"),
        path: Some(path.clone()),
        headers: HeaderMap::new(),
        deadline: None,
        pass_timeout: false,
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(held.timeout / 2) => {}
            _ = proxy.shutdown.cancelled() => return,
        }
        let (ended, expired, alive) = {
            let state = held.state.lock().expect("not poisoned");
            let alive: Vec<(usize, u64, u64)> = state.keep_alives().collect();
            (
                state.is_ended(),
                state.expired(std::time::Instant::now()),
                alive,
            )
        };
        if ended {
            return;
        }
        if expired {
            tracing::debug!(
                session = held.id,
                "session expired: its client stopped keeping it alive"
            );
            end(&proxy, &held);
            let opened: Vec<(usize, u64)> = alive.iter().map(|&(p, id, _)| (p, id)).collect();
            close_partitions(&ctx, held.service, &held.create, &opened).await;
            return;
        }
        let streams = streams::acknowledgeable(&held);
        let half = held.timeout / 2;
        let answers = join_all(alive.iter().map(|&(p, id, acked)| {
            let ids: Vec<StreamHeader<'static>> = streams
                .iter()
                .filter(|s| s.0 == p)
                .map(|s| StreamHeader {
                    stream_id: s.1,
                    response_id: s.2,
                    ..Default::default()
                })
                .collect();
            let ctx = &ctx;
            let only_header = &only_header;
            async move {
                let request = wire::request(
                    only_header,
                    Fields {
                        session_id: id,
                        request_id: acked,
                        index: 0,
                        streams: &ids,
                    },
                );
                let deadline = Instant::now() + half;
                let ctx = Ctx {
                    deadline: Some(deadline),
                    ..ctx.clone_for_keepalive()
                };
                match request {
                    Ok(r) => wire::unary(&ctx, p, None, r, None).await,
                    Err(s) => Err(s),
                }
            }
        }))
        .await;
        for a in answers.into_iter().flatten() {
            if a.code == Code::UNKNOWN && a.message.starts_with("unknown session") {
                tracing::info!(session = held.id, reason = %a.message, "a partition lost its session; ending the client's");
                end(&proxy, &held);
                return;
            }
        }
    }
}

impl Ctx<'_> {
    fn clone_for_keepalive(&self) -> Ctx<'_> {
        Ctx {
            proxy: self.proxy,
            method: self.method,
            path: self.path.clone(),
            headers: self.headers.clone(),
            deadline: self.deadline,
            pass_timeout: true,
        }
    }
}
