//! Relaying an upstream's response to the client, no faster than the client reads.

use crate::proxy::Proxy;
use crate::respond::{end, response_with, Outcome};
use crate::status::{Code, Status, GRPC_STATUS};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::header::HeaderMap;
use std::future::poll_fn;
use std::pin::Pin;
use tokio::time::Sleep;

/// An upstream's answer, as far as it was read.
pub struct Answer<'a> {
    /// The partition's label and the replica's address, for statuses.
    pub partition: &'a str,
    pub upstream: &'a str,
    pub headers: HeaderMap,
    /// What was read of the body before the relay, to be sent first.
    pub buffered: Bytes,
    pub body: RecvStream,
}

/// Sends the upstream's headers and what was read, then relays the rest of the
/// stream and its trailers. Reads from the upstream only as fast as the client
/// takes: its window, not the proxy's memory, holds a slow reader's backlog.
pub async fn relay(
    proxy: &Proxy,
    respond: &mut SendResponse<Bytes>,
    answer: Answer<'_>,
    mut timer: Pin<&mut Sleep>,
) -> Outcome {
    let Answer {
        partition: label,
        upstream,
        headers,
        buffered,
        mut body,
    } = answer;
    let mut out = match respond.send_response(response_with(headers), false) {
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

/// Sends `data` no faster than the client's window opens: never more than its
/// capacity at a time, so h2 buffers nothing past the window.
pub async fn send_bounded(out: &mut SendStream<Bytes>, mut data: Bytes) -> Result<(), ()> {
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
