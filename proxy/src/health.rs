//! `grpc.health.v1.Health` on every listener, with tonic-health's message types: for
//! the empty service name and every Atomix service the proxy routes, SERVING while
//! every partition has a reachable replica (`readiness`), NOT_SERVING otherwise and
//! once the drain has begun; NOT_FOUND for other names.

use crate::proxy::Proxy;
use crate::status::{Code, Status};
use bytes::{BufMut, Bytes, BytesMut};
use h2::server::SendResponse;
use h2::RecvStream;
use prost::Message as _;
use std::sync::atomic::Ordering;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

pub async fn serve(
    proxy: &Proxy,
    method: &str,
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
) {
    let mut body = request.into_body();
    let mut message = BytesMut::new();
    let read = async {
        while let Some(Ok(chunk)) = body.data().await {
            let _ = body.flow_control().release_capacity(chunk.len());
            message.extend_from_slice(&chunk);
            if message.len() > 64 * 1024 {
                break;
            }
        }
    };
    // A request that never ends is bounded as an Atomix call's is, and by the
    // shutdown, so that it holds neither memory nor the exit.
    let refused = tokio::select! {
        _ = read => None,
        _ = tokio::time::sleep(proxy.now().config.timeout) => Some(Status::new(
            Code::DEADLINE_EXCEEDED,
            "the health request did not arrive in time",
        )),
        _ = proxy.shutdown.cancelled() => Some(Status::new(Code::UNAVAILABLE, "the proxy is shutting down")),
    };
    if let Some(status) = refused {
        let _ = respond.send_response(status.trailers_only(), true);
        return;
    }
    let service = match message.get(5..).map(HealthCheckRequest::decode) {
        Some(Ok(request)) => request.service,
        _ => {
            let status = Status::new(
                Code::INVALID_ARGUMENT,
                "not a grpc.health.v1.HealthCheckRequest",
            );
            let _ = respond.send_response(status.trailers_only(), true);
            return;
        }
    };
    if !proxy.services.contains(&service.as_str()) {
        let status = Status::new(Code::NOT_FOUND, format!("unknown service {service:?}"));
        let _ = respond.send_response(status.trailers_only(), true);
        return;
    }
    let mut ready = proxy.ready.subscribe();
    let status_now = |ready: bool| {
        if ready && proxy.serving.load(Ordering::Relaxed) {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        }
    };
    let frame = |status: ServingStatus| {
        let message = HealthCheckResponse {
            status: status as i32,
        }
        .encode_to_vec();
        let mut out = BytesMut::with_capacity(5 + message.len());
        out.put_u8(0);
        out.put_u32(message.len() as u32);
        out.put_slice(&message);
        out.freeze()
    };
    let mut head = http::Response::new(());
    head.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/grpc"),
    );
    let Ok(mut out) = respond.send_response(head, false) else {
        return;
    };
    match method {
        "Check" => {
            let now = *ready.borrow_and_update();
            let _ = out.send_data(frame(status_now(now)), false);
        }
        "Watch" => {
            // The status now and each change of readiness; NOT_SERVING when the drain
            // begins, then the end.
            let mut now = *ready.borrow_and_update();
            let _ = out.send_data(frame(status_now(now)), false);
            while proxy.serving.load(Ordering::Relaxed) {
                tokio::select! {
                    _ = proxy.shutdown.cancelled() => {
                        let _ = out.send_data(frame(ServingStatus::NotServing), false);
                        break;
                    }
                    changed = ready.changed() => {
                        let next = *ready.borrow_and_update();
                        if changed.is_err() || next == now {
                            continue;
                        }
                        now = next;
                        let _ = out.send_data(frame(status_now(now)), false);
                    }
                    _ = std::future::poll_fn(|cx| out.poll_reset(cx)) => return,
                }
            }
        }
        _ => {
            let status = Status::new(
                Code::UNIMPLEMENTED,
                format!("no method grpc.health.v1.Health/{method}"),
            );
            let _ = out.send_trailers(status.trailers());
            return;
        }
    }
    let _ = out.send_trailers(Status::new(Code::OK, "").trailers());
}
