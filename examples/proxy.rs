//! A header-rewriting proxy: accepts TCP connections on loopback, reads length-delimited
//! RequestHeaders, stamps each one's `index` with a per-connection sequence number,
//! forwards it to an upstream, and passes the upstream's ResponseHeaders back. Everything
//! it does not rewrite (unknown fields included) goes through unchanged, and no header is
//! copied: each one shares the receive buffer it arrived in.
//!
//!     cargo run --example proxy --features tokio-util -- LISTEN_ADDR UPSTREAM_ADDR
//!     cargo run --example proxy --features tokio-util -- 127.0.0.1:7000 127.0.0.1:7001
//!
//! tests/proxy.rs runs it against a test client and upstream.
#![allow(dead_code)]

use atomix_headers::codec::HeaderCodec;
use atomix_headers::{OwnedRequestHeader, OwnedResponseHeader, RequestHeader};
use futures_util::{SinkExt, StreamExt};
use std::io;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{FramedRead, FramedWrite};

/// Serves connections from `listener` until it fails, each in a task of its own.
pub async fn serve(listener: TcpListener, upstream: SocketAddr) -> io::Result<()> {
    loop {
        let (client, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = proxy_connection(client, upstream).await {
                eprintln!("proxy: connection ended: {e}");
            }
        });
    }
}

/// Relays one client connection to a new upstream connection, both ways.
pub async fn proxy_connection(client: TcpStream, upstream: SocketAddr) -> io::Result<()> {
    let server = TcpStream::connect(upstream).await?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();

    let requests = async move {
        let mut from_client =
            FramedRead::new(client_read, HeaderCodec::<OwnedRequestHeader>::new());
        let mut to_server =
            FramedWrite::new(server_write, HeaderCodec::<OwnedRequestHeader>::new());
        let mut sequence = 0u64;
        while let Some(request) = from_client.next().await {
            let request = request?;
            sequence += 1;
            let mut header = *request.header();
            header.index = sequence;
            // feed() batches writes; flush once the receive buffer has been drained.
            to_server.feed(header).await?;
            if from_client.read_buffer().is_empty() {
                SinkExt::<RequestHeader<'_>>::flush(&mut to_server).await?;
            }
        }
        SinkExt::<RequestHeader<'_>>::flush(&mut to_server).await?;
        to_server.into_inner().shutdown().await
    };
    let responses = async move {
        let mut from_server =
            FramedRead::new(server_read, HeaderCodec::<OwnedResponseHeader>::new());
        let mut to_client =
            FramedWrite::new(client_write, HeaderCodec::<OwnedResponseHeader>::new());
        while let Some(response) = from_server.next().await {
            to_client.feed(response?).await?;
            if from_server.read_buffer().is_empty() {
                SinkExt::<OwnedResponseHeader>::flush(&mut to_client).await?;
            }
        }
        SinkExt::<OwnedResponseHeader>::flush(&mut to_client).await?;
        to_client.into_inner().shutdown().await
    };
    tokio::try_join!(requests, responses).map(drop)
}

use tokio::io::AsyncWriteExt;

#[tokio::main]
async fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: proxy LISTEN_ADDR UPSTREAM_ADDR   (for example 127.0.0.1:7000 127.0.0.1:7001)"
        );
        std::process::exit(2);
    };
    let upstream: SocketAddr = upstream
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(&listen).await?;
    eprintln!("proxy: {} -> {upstream}", listener.local_addr()?);
    serve(listener, upstream).await
}
