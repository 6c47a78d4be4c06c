//! What goes back to the client: how a call ended, the proxy's own statuses, and the
//! upstream's headers made fit for the next hop.

use crate::status::{Code, Status};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::SendStream;
use http::header::{HeaderMap, HeaderName};
use std::future::poll_fn;

/// How a call ended: with the upstream's status, or with one of the proxy's.
pub enum Outcome {
    Upstream(Code),
    Proxy(Status),
}

/// Answers with `status` alone (trailers-only), as the proxy's own.
pub fn reply(respond: &mut SendResponse<Bytes>, status: Status) -> Outcome {
    let _ = respond.send_response(status.trailers_only(), true);
    Outcome::Proxy(status)
}

/// Refuses a request that is not a gRPC call, with an HTTP status beside the gRPC
/// one (the gRPC spec's 415 for a content-type that is not gRPC's, so that a client of
/// another protocol does not read the answer as its own).
pub fn refuse_http(
    respond: &mut SendResponse<Bytes>,
    http_status: http::StatusCode,
    status: Status,
) -> Outcome {
    let mut response = status.trailers_only();
    *response.status_mut() = http_status;
    let _ = respond.send_response(response, true);
    Outcome::Proxy(status)
}

/// Ends a call whose headers went out: trailers with `status`.
pub fn end(stream: &mut SendStream<Bytes>, status: Status) -> Outcome {
    let _ = stream.send_trailers(status.trailers());
    Outcome::Proxy(status)
}

/// Headers that belong to one HTTP/2 hop, or that the proxy sets itself.
/// `grpc-accept-encoding` is the proxy's to say: it reads every message, so it accepts
/// no compression, and an upstream that is told none compresses none. `te` is not
/// among them: h2 refuses any value but `trailers`, which is what the next hop gets
/// too, so it stays where it is (and is set where a client left it out).
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "upgrade"
            | "host"
            | "content-length"
            | "grpc-timeout"
            | "grpc-accept-encoding"
    )
}

/// Removes the hop-by-hop headers in place: the map itself goes on to the next hop,
/// so that forwarding copies no header.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    while let Some(name) = headers.keys().find(|n| hop_by_hop(n)).cloned() {
        headers.remove(&name);
    }
}

/// `headers` as the headers of a response.
pub fn response_with(mut headers: HeaderMap) -> http::Response<()> {
    strip_hop_by_hop(&mut headers);
    let mut response = http::Response::new(());
    *response.headers_mut() = headers;
    response
}

/// The proxy's status for a client that reset its call.
pub fn cancelled() -> Status {
    Status::new(Code::CANCELLED, "the client cancelled")
}

/// Waits until the client resets its stream.
pub async fn client_reset(respond: &mut SendResponse<Bytes>) {
    let _ = poll_fn(|cx| respond.poll_reset(cx)).await;
}

/// Waits until the client, if there is one to watch, resets its stream.
pub async fn reset_of(client: &mut Option<&mut SendResponse<Bytes>>) {
    match client {
        Some(respond) => client_reset(respond).await,
        None => std::future::pending().await,
    }
}
