//! Accepting clients, and a client connection's task: TLS when configured, its calls,
//! driven on that task, and its end (GOAWAY on shutdown or when idle).

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
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// What a client gets to finish its TLS handshake, and again its HTTP/2 preface and
/// settings.
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

/// One client connection, over TLS when the listeners have a certificate (taken when
/// the client connects: a reload's certificate serves the connections after it).
async fn serve_connection(proxy: Arc<Proxy>, socket: TcpStream, pinned: Option<usize>) {
    let tls = proxy.now().tls.clone();
    let Some(acceptor) = tls else {
        return serve_h2(proxy, socket, pinned).await;
    };
    let peer = socket.peer_addr().ok();
    // A client that never finishes its handshake holds neither the drain nor memory
    // past the handshake time.
    let handshake = tokio::select! {
        done = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(socket)) => done,
        _ = proxy.shutdown.cancelled() => return,
    };
    match handshake {
        Ok(Ok(stream)) => serve_h2(proxy, stream, pinned).await,
        // A client without a certificate, or with one not trusted, ends here: the
        // client sees the TLS alert, the log says why at debug (a scanner would
        // otherwise fill it).
        Ok(Err(e)) => tracing::debug!(client = ?peer, error = %e, "client TLS handshake failed"),
        Err(_) => {
            tracing::debug!(client = ?peer, "client did not finish the TLS handshake in time")
        }
    }
}

/// A client's HTTP/2 connection: its calls, each a task of its own on this thread;
/// GOAWAY on shutdown or after the idle time with no call open.
async fn serve_h2<T>(proxy: Arc<Proxy>, io: T, pinned: Option<usize>)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let (max_header_list_size, idle_timeout) = {
        let now = proxy.now();
        (now.config.max_header_list_size, now.config.idle_timeout)
    };
    let handshake = h2::server::Builder::new()
        .max_concurrent_streams(1024)
        // A larger header list is refused (HTTP 431) as it is decoded, before it is
        // held; what every call together holds is bounded in `call`.
        .max_header_list_size(max_header_list_size)
        .handshake::<_, Bytes>(io);
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
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    // Calls accepted since the idle timer last fired: a connection is idle when the
    // timer fires with none accepted and none open (so it closes after one to two
    // idle times), which costs a call nothing.
    let mut accepted = 0u64;
    let mut closing = Closing::Open;
    let shutdown = proxy.shutdown.cancelled();
    tokio::pin!(shutdown);
    loop {
        // Completed calls are collected first, then the connection is polled once:
        // one pass over its socket for any number of calls that made progress.
        let event = poll_fn(|cx| {
            let mut finished = false;
            while let Poll::Ready(Some(())) = calls.poll_next_unpin(cx) {
                finished = true;
            }
            if closing == Closing::Open {
                if shutdown.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Shutdown);
                }
                if idle.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Idle);
                }
            } else if calls.is_empty() {
                // Closing, the timer is the close's: a grace from the last call's end,
                // so that what it queued (its trailers) is flushed before any abrupt
                // step.
                if finished {
                    idle.as_mut().reset(Instant::now() + CLOSE_GRACE);
                }
                if idle.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Event::Grace);
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
                closing = Closing::Graceful;
                conn.graceful_shutdown();
                idle.as_mut().reset(Instant::now() + CLOSE_GRACE);
            }
            Event::Idle if accepted == 0 && calls.is_empty() => {
                tracing::debug!(after = ?idle_timeout, "closing an idle client connection");
                closing = Closing::Graceful;
                conn.graceful_shutdown();
                idle.as_mut().reset(Instant::now() + CLOSE_GRACE);
            }
            // h2's graceful close waits for the client to answer a PING before its
            // last GOAWAY; a client that never answers would keep the connection, and
            // hold the exit. Past the grace, with no call open, the GOAWAY goes now;
            // past a second grace (a client that does not even read), the socket
            // closes. haproxy bounds the same wait with `timeout client-fin`.
            Event::Grace if closing == Closing::Graceful => {
                closing = Closing::Abrupt;
                conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                idle.as_mut().reset(Instant::now() + CLOSE_GRACE);
            }
            Event::Grace => {
                tracing::debug!("closing a client connection that did not finish closing");
                break;
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

/// How a client connection is closing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Closing {
    Open,
    /// GOAWAY sent; calls open finish, new ones are refused once the client answers.
    Graceful,
    /// The last GOAWAY sent, without waiting for the client.
    Abrupt,
}

/// How long each step of closing a connection waits for the client.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// What a client connection's task wakes up for. (Built and matched at once, never
/// stored: its size does not matter.)
#[allow(clippy::large_enum_variant)]
enum Event {
    Call(http::Request<RecvStream>, SendResponse<Bytes>),
    End(Option<h2::Error>),
    Shutdown,
    Idle,
    /// A closing step's time is up, with no call open.
    Grace,
}
