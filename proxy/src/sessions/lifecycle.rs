//! A proxy session's life: Create on every partition, the client's KeepAlive, Close.

use super::wire::{self, Fields};
use super::{alive, end, refused, Ctx, Held, DEFAULT_TIMEOUT, SAVED_LIMIT};
use crate::respond::{reply, Outcome};
use crate::status::{Code, Status};
use atomix_headers::{Message, RequestEnvelope};
use atomix_session::{ClientSession, PartitionSession};
use bytes::Bytes;
use futures_util::future::join_all;
use h2::server::SendResponse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(super) async fn create(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    envelope: &RequestEnvelope<'_>,
    message: &Bytes,
) -> Outcome {
    let n = ctx.proxy.labels.len();
    let request = match wire::request(envelope, Fields::default()) {
        Ok(r) => r,
        Err(status) => return reply(respond, status),
    };
    let answers = join_all((0..n).map(|p| wire::unary(ctx, p, None, request.clone(), None))).await;
    let mut partitions = Vec::with_capacity(n);
    let mut failure = None;
    for (p, answer) in answers.into_iter().enumerate() {
        match answer {
            Ok(a) if a.code == Code::OK => {
                let header = a
                    .response
                    .as_ref()
                    .and_then(|r| atomix_headers::ResponseEnvelope::decode(r).ok()?.header);
                let header = header.unwrap_or_default();
                partitions.push(Some(PartitionSession::new(header.session_id, header.index)));
            }
            Ok(a) => {
                partitions.push(None);
                failure.get_or_insert(Status::new(
                    a.code,
                    format!("partition {}: {}", p + 1, a.message),
                ));
            }
            Err(status) => {
                partitions.push(None);
                failure.get_or_insert(status);
            }
        }
    }
    let service = if ctx.method.service == "atomix.map.MapService" {
        "/atomix.map.MapService/"
    } else {
        "/atomix.set.SetService/"
    };
    if let Some(status) = failure {
        // Close what was opened: a partial session serves no one.
        let opened: Vec<(usize, u64)> = partitions
            .iter()
            .enumerate()
            .filter_map(|(p, s)| Some((p, s.as_ref()?.id())))
            .collect();
        alive::close_partitions(ctx, service, message, &opened).await;
        return reply(respond, status);
    }
    let partitions: Vec<PartitionSession> = partitions
        .into_iter()
        .map(|p| p.expect("no failure"))
        .collect();
    // CreateRequest.timeout, a Duration in field 2.
    let timeout = envelope
        .last_bytes(2)
        .and_then(duration)
        .unwrap_or(DEFAULT_TIMEOUT);
    let id = ctx.proxy.sessions.ids.next();
    let now = std::time::Instant::now();
    let held = Arc::new(Held {
        id,
        state: Mutex::new(ClientSession::new(
            id,
            timeout,
            now,
            partitions,
            SAVED_LIMIT,
        )),
        advanced: Default::default(),
        events: Mutex::default(),
        timeout,
        partitions: n,
        service,
        create: message.clone(),
    });
    ctx.proxy
        .sessions
        .open
        .lock()
        .expect("not poisoned")
        .insert(id, held.clone());
    ctx.proxy.sessions.count(&ctx.proxy.metrics);
    tokio::spawn(alive::keep_partitions_alive(ctx.proxy.this(), held));
    tracing::debug!(session = id, partitions = n, "session created");
    wire::reply(respond, &[wire::own_response(id, &[])])
}

/// A `google.protobuf.Duration` message as a duration.
fn duration(mut message: &[u8]) -> Option<Duration> {
    fn varint(buf: &mut &[u8]) -> Option<u64> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = buf.split_first()?;
            *buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    let (mut secs, mut nanos) = (0, 0);
    while !message.is_empty() {
        match varint(&mut message)? {
            0x08 => secs = varint(&mut message)?,
            0x10 => nanos = varint(&mut message)?,
            _ => return None, // a Duration has no other field
        }
    }
    let nanos = (nanos as u32).min(999_999_999);
    (secs != 0 || nanos != 0).then(|| Duration::new(secs, nanos))
}

pub(super) fn keep_alive(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let header = envelope.header.unwrap_or_default();
    let acked = {
        let mut state = held.state.lock().expect("not poisoned");
        state.keep_alive(std::time::Instant::now(), header.request_id)
    };
    if let Err(r) = acked {
        end(ctx.proxy, held);
        return refused(respond, r);
    }
    // Streams the client lists are acknowledged up to their response; Events streams
    // at or below its request id that it does not list are closed, as at the server.
    let listed: HashMap<u64, u64> = header
        .streams
        .iter()
        .map(|s| (s.stream_id, s.response_id))
        .collect();
    let mut events = held.events.lock().expect("not poisoned");
    events.retain(|&id, merge| match listed.get(&id) {
        Some(&acked) => {
            merge.lock().expect("not poisoned").acknowledge(acked);
            true
        }
        None if id <= header.request_id => {
            held.state.lock().expect("not poisoned").close_stream(id);
            false
        }
        None => true,
    });
    wire::reply(respond, &[wire::own_response(held.id, &[])])
}

pub(super) async fn close(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let opened: Vec<(usize, u64)> = {
        let state = held.state.lock().expect("not poisoned");
        state
            .partitions()
            .iter()
            .enumerate()
            .map(|(p, s)| (p, s.id()))
            .collect()
    };
    end(ctx.proxy, held);
    // The client's own CloseRequest (with its `delete`), once per partition session.
    let answers = join_all(opened.iter().map(|&(p, id)| {
        let request = wire::request(
            envelope,
            Fields {
                session_id: id,
                ..Default::default()
            },
        );
        async move { wire::unary(ctx, p, None, request?, None).await }
    }))
    .await;
    for answer in answers {
        match answer {
            Ok(a) if a.code == Code::OK => {}
            Ok(a) => return reply(respond, Status::new(a.code, a.message)),
            Err(status) => return reply(respond, status),
        }
    }
    wire::reply(respond, &[wire::own_response(held.id, &[])])
}
