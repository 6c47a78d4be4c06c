//! Streaming calls on a proxy session: the partitions' streams of one call merged into
//! the client's one (`atomix_session::StreamMerge`). Entries and Iterate are queries,
//! read once; Events is a command, whose responses are cached until the client
//! acknowledges them and replayed when it sends the call again.

use super::calls::on_every_partition;
use super::wire::{self, Fields};
use super::{end, refused, Ctx, Held, SAVED_LIMIT};
use crate::attempt::{call_timer, exchange, Forward, Reached};
use crate::respond::{end as end_stream, reply, Outcome};
use crate::status::{Code, Status, GRPC_MESSAGE, GRPC_STATUS};
use atomix_headers::{grpc, Message, Progress, RequestEnvelope, ResponseEnvelope, ResponseType};
use atomix_session::{StreamKind, StreamMerge, Upstream, UpstreamType};
use bytes::{Bytes, BytesMut};
use futures_util::future::join_all;
use h2::server::SendResponse;
use h2::SendStream;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a partition's stream brings.
enum Part {
    Message(Bytes),
    End(Code, String),
}

/// `(partition, partition stream id, response id)` of every open Events stream of
/// `held`: what the proxy's KeepAlive acknowledges upstream.
pub(super) fn acknowledgeable(held: &Held) -> Vec<(usize, u64, u64)> {
    let state = held.state.lock().expect("not poisoned");
    let mut out = Vec::new();
    for (&client_id, merge) in held.events.lock().expect("not poisoned").iter() {
        let ups = match state.stream_numbers(client_id) {
            Some(ups) => ups,
            None => continue,
        };
        let merge = merge.lock().expect("not poisoned");
        for (up, acked) in ups.iter().zip(merge.acknowledgeable()) {
            out.push((up.partition, up.request_id, acked));
        }
    }
    out
}

/// Entries or Iterate: a query on every partition, merged.
pub(super) async fn scan(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let n = ctx.proxy.labels.len();
    let ups = match held.queries() {
        Ok(ups) => ups,
        Err(r) => return refused(respond, r),
    };
    ctx.proxy.metrics.fanout(ctx.method.name);
    let merge = Arc::new(Mutex::new(StreamMerge::new(StreamKind::Query, n, 0)));
    run(ctx, respond, held, envelope, &ups, merge, None).await
}

/// Events: a stream command on every partition, merged, cached and resumable.
pub(super) async fn events(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let request_id = envelope.header.unwrap_or_default().request_id;
    // (A stream command is never saved as done: it resumes with its numbers.)
    let ups = match on_every_partition(ctx, respond, held, request_id).await {
        Ok(ups) => ups,
        Err(done) => return done,
    };
    ctx.proxy.metrics.fanout(ctx.method.name);
    let n = ups.len();
    let merge = held
        .events
        .lock()
        .expect("not poisoned")
        .entry(request_id)
        .or_insert_with(|| {
            Arc::new(Mutex::new(StreamMerge::new(
                StreamKind::Command,
                n,
                SAVED_LIMIT,
            )))
        })
        .clone();
    run(ctx, respond, held, envelope, &ups, merge, Some(request_id)).await
}

/// Opens the partitions' streams and relays their merge; `events` is the client's
/// Events request id (a command stream), `None` for a query stream.
async fn run(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
    ups: &[Upstream],
    merge: Arc<Mutex<StreamMerge<Bytes>>>,
    events: Option<u64>,
) -> Outcome {
    let opened = join_all(ups.iter().map(|up| open(ctx, envelope, up))).await;
    let mut parts = Vec::with_capacity(opened.len());
    for r in opened {
        match r {
            Ok(reached) => parts.push(reached),
            Err(status) => return reply(respond, status),
        }
    }
    let mut head = http::Response::new(());
    head.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    let Ok(mut out) = respond.send_response(head, false) else {
        return Outcome::Proxy(crate::respond::cancelled());
    };
    let stream_id = events.unwrap_or(0);
    // What the client did not acknowledge of an Events stream it sends again.
    let replay: Vec<(u64, UpstreamType, Bytes)> = merge
        .lock()
        .expect("not poisoned")
        .replay()
        .map(|e| (e.response_id, e.kind, e.response.clone()))
        .collect();
    // Messages go out gathered, one DATA frame for as many as are ready: a frame
    // each would be many small frames, which h2 clients count against a budget.
    let mut batch = BytesMut::new();
    for (id, kind, raw) in replay {
        let added = wire::decode(&raw).and_then(|e| add(&mut batch, held, &e, stream_id, id, kind));
        if added.is_err() {
            return finish(
                &mut out,
                &mut batch,
                Status::new(Code::INTERNAL, "a malformed cached response"),
            )
            .await;
        }
    }
    let (tx, mut rx) = mpsc::channel(16);
    for (p, reached) in parts.into_iter().enumerate() {
        tokio::spawn(read_part(ups[p].partition, reached, tx.clone()));
    }
    drop(tx);
    loop {
        let next = match rx.try_recv() {
            Ok(m) => Some(m),
            Err(mpsc::error::TryRecvError::Disconnected) => None,
            Err(mpsc::error::TryRecvError::Empty) => {
                if flush(&mut out, &mut batch).await.is_err() {
                    return Outcome::Proxy(crate::respond::cancelled());
                }
                tokio::select! {
                    m = rx.recv() => m,
                    _ = std::future::poll_fn(|cx| out.poll_reset(cx)) => return Outcome::Proxy(crate::respond::cancelled()),
                    _ = ctx.proxy.streams_end.cancelled() => {
                        return finish(&mut out, &mut batch, Status::new(Code::UNAVAILABLE, "the proxy is shutting down")).await;
                    }
                }
            }
        };
        let Some((p, part)) = next else {
            return finish(
                &mut out,
                &mut batch,
                Status::new(Code::UNAVAILABLE, "the partitions' streams ended unclosed"),
            )
            .await;
        };
        let raw = match part {
            Part::Message(raw) => raw,
            Part::End(code, message)
                if code == Code::UNKNOWN && message.starts_with("unknown session") =>
            {
                end(ctx.proxy, held);
                return finish(
                    &mut out,
                    &mut batch,
                    Status::new(Code::UNKNOWN, format!("unknown session {}", held.id)),
                )
                .await;
            }
            Part::End(Code::OK, _) => continue,
            Part::End(code, message) => {
                return finish(&mut out, &mut batch, Status::new(code, message)).await
            }
        };
        let Ok(envelope) = ResponseEnvelope::decode(&raw) else {
            return finish(
                &mut out,
                &mut batch,
                Status::new(Code::INTERNAL, "a malformed stream response"),
            )
            .await;
        };
        let header = envelope.header.unwrap_or_default();
        let kind = match header.r#type {
            ResponseType::OPEN_STREAM => UpstreamType::Open,
            ResponseType::CLOSE_STREAM => UpstreamType::Close,
            _ => UpstreamType::Response,
        };
        if let (Some(request_id), UpstreamType::Open) = (events, kind) {
            let mut state = held.state.lock().expect("not poisoned");
            if state.part_answered(request_id, p, header.index) {
                state.opened(request_id);
            }
        }
        let size = raw.len();
        let pushed = merge.lock().expect("not poisoned").push(
            p,
            header.response_id,
            kind,
            raw.clone(),
            size,
        );
        let emit = match pushed {
            Ok(Some(e)) => e,
            Ok(None) => continue,
            Err(full) => {
                let status = Status::new(
                    Code::RESOURCE_EXHAUSTED,
                    format!(
                        "{} bytes of events not acknowledged (limit {}); send a KeepAlive",
                        full.held, full.limit
                    ),
                );
                return finish(&mut out, &mut batch, status).await;
            }
        };
        // Decoded once, above: the same envelope is restamped for the client.
        if add(
            &mut batch,
            held,
            &envelope,
            stream_id,
            emit.response_id,
            emit.kind,
        )
        .is_err()
        {
            return finish(
                &mut out,
                &mut batch,
                Status::new(Code::INTERNAL, "a malformed stream response"),
            )
            .await;
        }
        if (batch.len() >= BATCH || emit.kind == UpstreamType::Close)
            && flush(&mut out, &mut batch).await.is_err()
        {
            return Outcome::Proxy(crate::respond::cancelled());
        }
        if emit.kind == UpstreamType::Close {
            let _ = out.send_trailers(Status::new(Code::OK, "").trailers());
            return Outcome::Upstream(Code::OK);
        }
    }
}

/// Opens partition `up.partition`'s stream.
async fn open(
    ctx: &Ctx<'_>,
    envelope: &RequestEnvelope<'_>,
    up: &Upstream,
) -> Result<Reached, Status> {
    let fields = Fields {
        session_id: up.session_id,
        request_id: up.request_id,
        index: up.index,
        streams: &[],
    };
    let forward = Forward {
        path: ctx.path.clone(),
        headers: ctx.headers.clone(),
        message: wire::request(envelope, fields)?,
        deadline: ctx.deadline,
        pass_timeout: ctx.pass_timeout,
    };
    let timer = call_timer(ctx.deadline);
    tokio::pin!(timer);
    let reached = exchange(ctx.proxy, None, up.partition, &forward, timer.as_mut()).await?;
    if reached.body.is_none() {
        let code = Code::from_header(reached.headers.get(GRPC_STATUS));
        let message = reached
            .headers
            .get(GRPC_MESSAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        if code == Code::UNKNOWN && message.starts_with("unknown session") {
            return Err(Status::new(Code::UNKNOWN, message));
        }
        return Err(Status::new(
            code,
            format!("partition {}: {message}", up.partition + 1),
        ));
    }
    Ok(reached)
}

/// Reads partition `p`'s stream into `tx`, a message at a time, then its status.
async fn read_part(p: usize, reached: Reached, tx: mpsc::Sender<(usize, Part)>) {
    let _slot = reached.slot;
    let Some(mut body) = reached.body else { return };
    let mut held = BytesMut::from(&reached.buffered[..]);
    let _ = body.flow_control().release_capacity(reached.buffered.len());
    loop {
        while let Ok(Progress::Complete(frame)) = grpc::split(&held, SAVED_LIMIT) {
            let end = frame.body.end;
            let message = held.split_to(end).freeze().slice(grpc::PREFIX_LEN..);
            if tx.send((p, Part::Message(message))).await.is_err() {
                return; // the client's stream is gone: dropping `body` resets this one
            }
        }
        match body.data().await {
            Some(Ok(chunk)) => {
                let _ = body.flow_control().release_capacity(chunk.len());
                held.extend_from_slice(&chunk);
            }
            Some(Err(e)) => {
                let _ = tx
                    .send((
                        p,
                        Part::End(
                            Code::UNAVAILABLE,
                            format!("partition {}: lost mid-stream: {e}", p + 1),
                        ),
                    ))
                    .await;
                return;
            }
            None => break,
        }
    }
    let trailers = body.trailers().await.ok().flatten().unwrap_or_default();
    let code = Code::from_header(trailers.get(GRPC_STATUS));
    let message = trailers
        .get(GRPC_MESSAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let _ = tx.send((p, Part::End(code, message))).await;
}

/// Gathered messages are sent once they reach this many bytes, or nothing more is
/// ready.
const BATCH: usize = 64 * 1024;

/// Appends the response `e`, framed, with its header in the client's terms.
fn add(
    batch: &mut BytesMut,
    held: &Held,
    e: &ResponseEnvelope<'_>,
    stream_id: u64,
    response_id: u64,
    kind: UpstreamType,
) -> Result<(), Status> {
    let kind = match kind {
        UpstreamType::Open => ResponseType::OPEN_STREAM,
        UpstreamType::Response => ResponseType::RESPONSE,
        UpstreamType::Close => ResponseType::CLOSE_STREAM,
    };
    wire::restamp_into(e, held.id, Some((stream_id, response_id, kind)), batch)
}

/// Sends what is gathered, then ends the stream with `status`.
async fn finish(out: &mut SendStream<Bytes>, batch: &mut BytesMut, status: Status) -> Outcome {
    if flush(out, batch).await.is_err() {
        return Outcome::Proxy(crate::respond::cancelled());
    }
    end_stream(out, status)
}

/// Sends what is gathered, no faster than the client reads.
async fn flush(out: &mut SendStream<Bytes>, batch: &mut BytesMut) -> Result<(), ()> {
    if batch.is_empty() {
        return Ok(());
    }
    crate::relay::send_bounded(out, batch.split().freeze()).await
}
