//! The upstream of the proxy benchmark (proxy/bench/compare.py): answers every gRPC call
//! with one counter.IncrementResponse { header { index } previous_value next_value } and
//! status OK, on HTTP/2 without TLS, one thread.
//!
//!     cargo run --release -p atomix-proxy --example bench_upstream -- 127.0.0.1:7001

use bytes::{BufMut, Bytes, BytesMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await.unwrap();
        eprintln!(
            "bench_upstream: listening on {}",
            listener.local_addr().unwrap()
        );
        let index = Arc::new(AtomicU64::new(0));
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let _ = socket.set_nodelay(true);
            let index = index.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = conn.accept().await {
                    tokio::spawn(answer(request, respond, index.clone()));
                }
            });
        }
    });
}

async fn answer(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    index: Arc<AtomicU64>,
) {
    let mut body = request.into_body();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    let i = index.fetch_add(1, Ordering::Relaxed) + 1;
    // header { index: i } previous_value: 1 next_value: 2, as one gRPC frame.
    let mut header = vec![0x20];
    let mut v = i;
    while v >= 0x80 {
        header.push(v as u8 | 0x80);
        v >>= 7;
    }
    header.push(v as u8);
    let mut message = vec![0x0a, header.len() as u8];
    message.extend_from_slice(&header);
    message.extend_from_slice(&[0x10, 0x01, 0x18, 0x02]);
    let mut frame = BytesMut::with_capacity(5 + message.len());
    frame.put_u8(0);
    frame.put_u32(message.len() as u32);
    frame.put_slice(&message);
    let mut head = http::Response::new(());
    head.headers_mut().insert(
        "content-type",
        http::HeaderValue::from_static("application/grpc"),
    );
    let Ok(mut out) = respond.send_response(head, false) else {
        return;
    };
    let _ = out.send_data(frame.freeze(), false);
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    let _ = out.send_trailers(trailers);
}
