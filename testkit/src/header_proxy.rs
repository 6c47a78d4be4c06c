//! A header-rewriting proxy on `atomix_headers::tokio_codec`, which tests/proxy.rs runs
//! against a test client and upstream: accepts TCP connections, reads length-delimited
//! RequestHeaders, stamps each one's `index` with a per-connection sequence number,
//! forwards it to an upstream, and passes the upstream's ResponseHeaders back. Everything
//! it does not rewrite (unknown fields included) goes through unchanged, and no header is
//! copied: each one shares the receive buffer it arrived in.
//!
//! Every frame that is complete is forwarded at once, whatever follows it in the buffer;
//! an error accepting a connection (out of file descriptors, say) is logged and retried
//! after a pause, and serving goes on; a connection's memory is bounded by the frame
//! limit (64 KiB) and the writers' backpressure; each log line names the side that
//! failed, client or upstream.

use atomix_headers::framing::FrameDecoder;
use atomix_headers::tokio_codec::HeaderCodec;
use atomix_headers::{OwnedRequestHeader, OwnedResponseHeader, Progress, RequestHeader};
use futures_util::{SinkExt, Stream, StreamExt};
use std::io;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::codec::{FramedRead, FramedWrite};

/// Serves connections from `listener`, each in a task of its own, for as long as the
/// listener lives.
pub async fn serve(listener: TcpListener, upstream: SocketAddr) {
    serve_incoming(TcpListenerStream::new(listener), upstream).await
}

/// Pause after a failed accept: the usual cause, running out of file descriptors, lasts
/// until some connections close, and retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// [`serve`] over any stream of accepted connections (tests inject accept errors).
pub async fn serve_incoming(
    mut incoming: impl Stream<Item = io::Result<TcpStream>> + Unpin,
    upstream: SocketAddr,
) {
    while let Some(accepted) = incoming.next().await {
        let client = match accepted {
            Ok(client) => client,
            Err(e) => {
                eprintln!("proxy: accepting a client connection failed: {e}; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        tokio::spawn(async move {
            if let Err(e) = proxy_connection(client, upstream).await {
                eprintln!("proxy: connection ended: {e}");
            }
        });
    }
}

/// The error, saying which side of the proxy it came from.
fn on(side: &str, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{side}: {e}"))
}

/// Whether `buf` already holds a whole frame: then writing can wait for it to be
/// forwarded too; otherwise what was fed must go out now, or a complete request would
/// wait for the rest of the next one.
fn frame_ready(buf: &[u8]) -> bool {
    matches!(FrameDecoder::new().split(buf), Ok(Progress::Complete(_)))
}

/// Relays one client connection to a new upstream connection, both ways.
pub async fn proxy_connection(client: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    let server = TcpStream::connect(upstream)
        .await
        .map_err(|e| on(&format!("upstream {upstream}"), e))?;
    client.set_nodelay(true).map_err(|e| on("client", e))?;
    server.set_nodelay(true).map_err(|e| on("upstream", e))?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();

    let requests = async move {
        let mut from_client =
            FramedRead::new(client_read, HeaderCodec::<OwnedRequestHeader>::new());
        let mut to_server =
            FramedWrite::new(server_write, HeaderCodec::<OwnedRequestHeader>::new());
        let mut sequence = 0u64;
        while let Some(request) = from_client.next().await {
            let request = request.map_err(|e| on("client", e))?;
            sequence += 1;
            let mut header = *request.message();
            header.index = sequence;
            to_server
                .feed(header)
                .await
                .map_err(|e| on("upstream", e))?;
            if !frame_ready(from_client.read_buffer()) {
                SinkExt::<RequestHeader<'_>>::flush(&mut to_server)
                    .await
                    .map_err(|e| on("upstream", e))?;
            }
        }
        SinkExt::<RequestHeader<'_>>::flush(&mut to_server)
            .await
            .map_err(|e| on("upstream", e))?;
        to_server
            .into_inner()
            .shutdown()
            .await
            .map_err(|e| on("upstream", e))
    };
    let responses = async move {
        let mut from_server =
            FramedRead::new(server_read, HeaderCodec::<OwnedResponseHeader>::new());
        let mut to_client =
            FramedWrite::new(client_write, HeaderCodec::<OwnedResponseHeader>::new());
        while let Some(response) = from_server.next().await {
            let response = response.map_err(|e| on("upstream", e))?;
            to_client
                .feed(response)
                .await
                .map_err(|e| on("client", e))?;
            if !frame_ready(from_server.read_buffer()) {
                SinkExt::<OwnedResponseHeader>::flush(&mut to_client)
                    .await
                    .map_err(|e| on("client", e))?;
            }
        }
        SinkExt::<OwnedResponseHeader>::flush(&mut to_client)
            .await
            .map_err(|e| on("client", e))?;
        to_client
            .into_inner()
            .shutdown()
            .await
            .map_err(|e| on("client", e))
    };
    tokio::try_join!(requests, responses).map(drop)
}
