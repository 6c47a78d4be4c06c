//! Accepting clients, and a client connection's task: its calls, driven on that task,
//! and its end (GOAWAY on shutdown or when idle).

use crate::call::serve_call;
use crate::proxy::Proxy;
use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use h2::server::SendResponse;
use h2::RecvStream;
use std::future::{poll_fn, Future};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// What a client gets to finish its HTTP/2 preface and settings.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts clients on `listener` until the shutdown. `pinned` is the partition a
/// partition's own listener serves. An accept error (out of file descriptors, say)
/// backs off, doubling up to a second, instead of spinning.
pub async fn accept_loop(proxy: Arc<Proxy>, listener: TcpListener, pinned: Option<usize>) {
    const FIRST_BACKOFF: Duration = Duration::from_millis(5);
    let mut backoff = FIRST_BACKOFF;
    loop {
        tokio::select! {
            _ = proxy.shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((socket, _peer)) => {
                    backoff = FIRST_BACKOFF;
                    let _ = socket.set_nodelay(true);
                    proxy.tracker.spawn(serve_connection(proxy.clone(), socket, pinned));
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "accepting a connection failed");
                    tokio::select! {
                        _ = proxy.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
}

/// One client connection: its calls, each a task of its own on this thread; GOAWAY on
/// shutdown or after the idle time with no call open.
async fn serve_connection(proxy: Arc<Proxy>, socket: TcpStream, pinned: Option<usize>) {
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(1024)
        // A larger header list is refused (HTTP 431) as it is decoded, before it is
        // held; what every call together holds is bounded in `call`.
        .max_header_list_size(proxy.config.max_header_list_size)
        .handshake::<_, Bytes>(socket);
    let mut conn = match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "client handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("client sent no HTTP/2 preface in time");
            return;
        }
    };
    // The connection's calls are driven here, in its own task, rather than spawned:
    // a call's progress and the connection's reads and writes then take turns on one
    // task, without a wake-up between them.
    let mut calls = FuturesUnordered::new();
    let idle_timeout = proxy.config.idle_timeout;
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    // Calls accepted since the idle timer last fired: a connection is idle when the
    // timer fires with none accepted and none open (so it closes after one to two
    // idle times), which costs a call nothing.
    let mut accepted = 0u64;
    let mut closing = false;
    let shutdown = proxy.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        // Completed calls are collected first, then the connection is polled once:
        // one pass over its socket for any number of calls that made progress.
        let event = poll_fn(|cx| {
            while let Poll::Ready(Some(())) = calls.poll_next_unpin(cx) {}
            if !closing {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Shutdown);
                }
                if idle.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Idle);
                }
            }
            conn.poll_accept(cx).map(|next| match next {
                Some(Ok((request, respond))) => Event::Call(request, respond),
                Some(Err(e)) => Event::End(Some(e)),
                None => Event::End(None),
            })
        })
        .await;
        match event {
            Event::Call(request, respond) => {
                accepted += 1;
                // Boxed before it is pushed: the set moves a pointer, not the
                // call's whole state.
                calls.push(Box::pin(serve_call(&proxy, request, respond, pinned)));
            }
            Event::End(error) => {
                if let Some(e) = error {
                    tracing::debug!(error = %e, "client connection failed");
                }
                break;
            }
            Event::Shutdown => {
                closing = true;
                conn.graceful_shutdown();
            }
            Event::Idle if accepted == 0 && calls.is_empty() => {
                tracing::debug!(after = ?idle_timeout, "closing an idle client connection");
                closing = true;
                conn.graceful_shutdown();
            }
            Event::Idle => {
                accepted = 0;
                idle.as_mut().reset(Instant::now() + idle_timeout);
            }
        }
    }
    // The connection is gone; what its calls still hold ends with it.
    while calls.next().await.is_some() {}
}

/// What a client connection's task wakes up for. (Built and matched at once, never
/// stored: its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Event {
    Call(http::Request<RecvStream>, SendResponse<Bytes>),
    End(Option<h2::Error>),
    Shutdown,
    Idle,
}
