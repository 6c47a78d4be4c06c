//! Unary calls on a proxy session: entry calls on the key's partition, Size summed
//! over every partition, Clear run on every partition.

use super::wire::{self, Fields, Unary};
use super::{end, refused, unknown, Ctx, Held};
use crate::respond::{reply, Outcome};
use crate::status::{Code, Status};
use atomix_headers::{partition, RequestEnvelope, ResponseEnvelope};
use atomix_session::{ClientSession, Command, Upstream};
use bytes::Bytes;
use futures_util::future::join_all;
use h2::server::SendResponse;
use tokio::time::sleep_until;

/// What the session state says of a command, once it is not to wait: a command ahead
/// of a gap waits here, within the call's deadline, as the server would.
pub(super) async fn decide(
    ctx: &Ctx<'_>,
    held: &Held,
    request_id: u64,
    ask: impl Fn(&mut ClientSession<Bytes>) -> Command<Bytes>,
) -> Result<Command<Bytes>, Status> {
    let ready = || {
        let command = ask(&mut held.state.lock().expect("not poisoned"));
        (!matches!(command, Command::Wait)).then_some(command)
    };
    // Most commands arrive in order: decided at once, with no timer and no waiting.
    let command = match ready() {
        Some(command) => command,
        None => {
            let deadline = ctx
                .deadline
                .unwrap_or_else(|| tokio::time::Instant::now() + held.timeout);
            tokio::select! {
                c = held.advanced.until(ready) => c,
                _ = sleep_until(deadline) => return Err(Status::new(
                    Code::DEADLINE_EXCEEDED,
                    format!("command {request_id} waited for the session's command {} past its deadline", request_id - 1),
                )),
            }
        }
    };
    if matches!(command, Command::Send(_) | Command::SendAll(_)) {
        // Given out: the commands waiting for it ask again.
        held.advanced.wake_all();
    }
    Ok(command)
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
    let n = ctx.proxy.labels.len() as u32;
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
            Ok(a) if a.code == Code::OK => match a.for_client(held.id) {
                Ok((index, out)) => {
                    held.state.lock().expect("not poisoned").read(p, index);
                    wire::relay(respond, a.headers, out, a.trailers)
                }
                Err(status) => reply(respond, status),
            },
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
            let (index, out) = match a.for_client(held.id) {
                Ok(answer) => answer,
                Err(status) => return reply(respond, status),
            };
            held.state.lock().expect("not poisoned").answered(
                request_id,
                index,
                out.clone(),
                out.len(),
            );
            wire::relay(respond, a.headers, out, a.trailers)
        }
        Ok(a) => upstream_failed(ctx, respond, held, a),
        Err(status) => undelivered(ctx, respond, held, status),
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
        let e = match a.response.as_deref().map(wire::decode) {
            Some(Ok(e)) => e,
            Some(Err(status)) => return reply(respond, status),
            None => ResponseEnvelope::default(),
        };
        let index = e.header.map_or(0, |h| h.index);
        held.state.lock().expect("not poisoned").read(p, index);
        // SizeResponse.size, an int32 in field 2.
        total += i64::from(e.operation.last_varint(2).unwrap_or(0) as i32);
    }
    ctx.proxy.metrics.fanout(ctx.method.name);
    let size = total.clamp(0, i64::from(i32::MAX)) as u64;
    // SizeResponse { size = 2 }: nothing for 0, as proto3 writes it.
    let mut body = Vec::new();
    if size != 0 {
        body.push(0x10);
        wire::put_varint(size, &mut body);
    }
    wire::reply(respond, &[wire::own_response(held.id, &body)])
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
    let out = wire::own_response(held.id, &[]);
    held.state
        .lock()
        .expect("not poisoned")
        .answered(request_id, 0, out.clone(), out.len());
    wire::reply(respond, &[out])
}
