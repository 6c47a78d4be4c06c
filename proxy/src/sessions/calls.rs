//! Unary calls on a proxy session: entry calls on the key's partition, Size summed
//! over every partition, Clear run on every partition.

use super::wire::{self, Fields, Unary};
use super::{end, refused, unknown, Ctx, Held};
use crate::respond::{reply, Outcome};
use crate::status::{Code, Status};
use atomix_headers::{partition, Message, RequestEnvelope, ResponseEnvelope};
use atomix_session::{ClientSession, Command, Upstream};
use bytes::Bytes;
use futures_util::future::join_all;
use h2::server::SendResponse;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::time::sleep_until;

/// What the session state says of a command, once it is not to wait: a command ahead
/// of a gap waits here, within the call's deadline, as the server would.
pub(super) async fn decide(
    ctx: &Ctx<'_>,
    held: &Held,
    request_id: u64,
    ask: impl Fn(&mut ClientSession<Bytes>) -> Command<Bytes>,
) -> Result<Command<Bytes>, Status> {
    // Most commands arrive in order: asked once, without registering for a wake-up.
    let command = ask(&mut held.state.lock().expect("not poisoned"));
    if !matches!(command, Command::Wait) {
        return Ok(issued(held, command));
    }
    let deadline = ctx
        .deadline
        .unwrap_or_else(|| tokio::time::Instant::now() + held.timeout);
    held.waiting.fetch_add(1, Ordering::Relaxed);
    // Counted out however the wait ends (a deadline, or the call dropped).
    struct Waiting<'a>(&'a AtomicUsize);
    impl Drop for Waiting<'_> {
        fn drop(&mut self) {
            self.0.fetch_sub(1, Ordering::Relaxed);
        }
    }
    let _waiting = Waiting(&held.waiting);
    loop {
        // Registered before the state is asked: a command given out in between wakes it.
        let advanced = held.advanced.notified();
        tokio::pin!(advanced);
        advanced.as_mut().enable();
        let command = ask(&mut held.state.lock().expect("not poisoned"));
        if !matches!(command, Command::Wait) {
            return Ok(issued(held, command));
        }
        tokio::select! {
            _ = advanced => {}
            _ = sleep_until(deadline) => return Err(Status::new(
                Code::DEADLINE_EXCEEDED,
                format!("command {request_id} waited for the session's command {} past its deadline", request_id - 1),
            )),
        }
    }
}

/// `command`, after waking the commands that wait for a gap when it was given out.
fn issued(held: &Held, command: Command<Bytes>) -> Command<Bytes> {
    if matches!(command, Command::Send(_) | Command::SendAll(_))
        && held.waiting.load(Ordering::Relaxed) > 0
    {
        held.advanced.notify_waiters();
    }
    command
}

/// `envelope` for partition session `up`.
fn request_for(envelope: &RequestEnvelope<'_>, up: &Upstream) -> Result<Bytes, Status> {
    wire::request(
        envelope,
        Fields {
            session_id: up.session_id,
            request_id: up.request_id,
            index: up.index,
            streams: &[],
        },
    )
}

/// An upstream status that is not OK, for the client: a partition's lost session ends
/// the client's.
fn upstream_failed(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    a: Unary,
) -> Outcome {
    if a.code == Code::UNKNOWN && a.message.starts_with("unknown session") {
        tracing::info!(session = held.id, reason = %a.message, "a partition lost its session; ending the client's");
        end(ctx.proxy, held);
        return unknown(respond, held.id);
    }
    reply(respond, Status::new(a.code, a.message))
}

/// A failure to bring a command's sequence number to its partition: the partition
/// session would wait for it forever, so the client's session ends.
fn undelivered(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    status: Status,
) -> Outcome {
    if status.code != Code::DEADLINE_EXCEEDED {
        tracing::info!(session = held.id, reason = %status.message, "a command could not reach its partition; ending the session");
        end(ctx.proxy, held);
    }
    reply(respond, status)
}

pub(super) async fn entry(
    ctx: &mut Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
    command: bool,
) -> Outcome {
    let n = ctx.proxy.partitions.len() as u32;
    let p = match partition::route(ctx.method, envelope, n) {
        Ok(p) => p as usize,
        Err(e) => {
            return reply(
                respond,
                Status::new(Code::FAILED_PRECONDITION, e.to_string()),
            )
        }
    };
    if !command {
        let up = match held.state.lock().expect("not poisoned").query(p) {
            Ok(up) => up,
            Err(r) => return refused(respond, r),
        };
        // One upstream call: the client's headers are moved into it, not copied.
        let headers = Some(std::mem::take(&mut ctx.headers));
        let answer = match request_for(envelope, &up) {
            Ok(request) => wire::unary(ctx, p, None, request, headers).await,
            Err(status) => Err(status),
        };
        return match answer {
            Ok(a) if a.code == Code::OK => {
                held.state.lock().expect("not poisoned").read(p, a.index());
                respond_with(respond, held, a)
            }
            Ok(a) => upstream_failed(ctx, respond, held, a),
            Err(status) => reply(respond, status),
        };
    }
    let request_id = envelope.header.unwrap_or_default().request_id;
    let up = match decide(ctx, held, request_id, |s| s.command(request_id, p)).await {
        Ok(Command::Send(up)) => up,
        Ok(Command::Saved(out)) => return wire::reply(respond, &[out]),
        Ok(Command::Refused(r)) => return refused(respond, r),
        Ok(Command::Wait | Command::SendAll(_)) => unreachable!("decided, for one partition"),
        Err(status) => return reply(respond, status),
    };
    let headers = Some(std::mem::take(&mut ctx.headers));
    let answer = match request_for(envelope, &up) {
        Ok(request) => wire::unary(ctx, p, None, request, headers).await,
        Err(status) => return reply(respond, status),
    };
    match answer {
        Ok(a) if a.code == Code::OK => {
            let Some(out) = client_response(held, &a) else {
                return reply(
                    respond,
                    Status::new(Code::INTERNAL, "an upstream answer without a message"),
                );
            };
            held.state.lock().expect("not poisoned").answered(
                request_id,
                a.index(),
                out.clone(),
                out.len(),
            );
            wire::relay(respond, a.headers, out, a.trailers)
        }
        Ok(a) => upstream_failed(ctx, respond, held, a),
        Err(status) => undelivered(ctx, respond, held, status),
    }
}

/// The upstream's response in the client's terms, framed.
fn client_response(held: &Held, a: &Unary) -> Option<Bytes> {
    wire::response(a.response.as_ref()?, held.id, None).ok()
}

fn respond_with(respond: &mut SendResponse<Bytes>, held: &Held, a: Unary) -> Outcome {
    match client_response(held, &a) {
        Some(out) => wire::relay(respond, a.headers, out, a.trailers),
        None => reply(
            respond,
            Status::new(Code::INTERNAL, "an upstream answer without a message"),
        ),
    }
}

/// Size: a query on every partition, summed.
pub(super) async fn size(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let ups = match held.queries() {
        Ok(ups) => ups,
        Err(r) => return refused(respond, r),
    };
    let answers = join_all(ups.iter().map(|up| async move {
        wire::unary(ctx, up.partition, None, request_for(envelope, up)?, None).await
    }))
    .await;
    let mut total: i64 = 0;
    for (p, answer) in answers.into_iter().enumerate() {
        let a = match answer {
            Ok(a) if a.code == Code::OK => a,
            Ok(a) => return upstream_failed(ctx, respond, held, a),
            Err(status) => return reply(respond, status),
        };
        held.state.lock().expect("not poisoned").read(p, a.index());
        // SizeResponse.size, an int32 in field 2.
        let size = a
            .response
            .as_ref()
            .and_then(|r| ResponseEnvelope::decode(r).ok()?.operation.last_varint(2))
            .unwrap_or(0) as i32;
        total += i64::from(size);
    }
    let mut body = vec![0x10];
    wire::put_varint(total.clamp(0, i64::from(i32::MAX)) as u64, &mut body);
    ctx.proxy.metrics.fanout(ctx.method.name);
    wire::reply(
        respond,
        &[wire::own_response(
            held.id,
            0,
            if total == 0 { &[] } else { &body },
        )],
    )
}

/// The numbers of the client's command `request_id` on every partition, or the
/// call's end: its saved answer, a refusal, or the deadline of a wait for a gap.
pub(super) async fn on_every_partition(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    request_id: u64,
) -> Result<Vec<Upstream>, Outcome> {
    match decide(ctx, held, request_id, |s| s.command_all(request_id)).await {
        Ok(Command::SendAll(ups)) => Ok(ups),
        Ok(Command::Saved(out)) => Err(wire::reply(respond, &[out])),
        Ok(Command::Refused(r)) => Err(refused(respond, r)),
        Ok(Command::Wait | Command::Send(_)) => unreachable!("decided, for every partition"),
        Err(status) => Err(reply(respond, status)),
    }
}

/// Clear: a command on every partition, OK when every partition's is.
pub(super) async fn clear(
    ctx: &Ctx<'_>,
    respond: &mut SendResponse<Bytes>,
    held: &Held,
    envelope: &RequestEnvelope<'_>,
) -> Outcome {
    let request_id = envelope.header.unwrap_or_default().request_id;
    let ups = match on_every_partition(ctx, respond, held, request_id).await {
        Ok(ups) => ups,
        Err(done) => return done,
    };
    ctx.proxy.metrics.fanout(ctx.method.name);
    let answers = join_all(ups.iter().map(|up| async move {
        wire::unary(ctx, up.partition, None, request_for(envelope, up)?, None).await
    }))
    .await;
    for (up, answer) in ups.iter().zip(answers) {
        match answer {
            Ok(a) if a.code == Code::OK => {
                held.state.lock().expect("not poisoned").part_answered(
                    request_id,
                    up.partition,
                    a.index(),
                );
            }
            Ok(a) => return upstream_failed(ctx, respond, held, a),
            Err(status) => return undelivered(ctx, respond, held, status),
        }
    }
    let out = wire::own_response(held.id, 0, &[]);
    held.state
        .lock()
        .expect("not poisoned")
        .answered(request_id, 0, out.clone(), out.len());
    wire::reply(respond, &[out])
}
