//! The upstream of the proxy benchmark (proxy/bench/compare.py): answers every gRPC call
//! with one counter.IncrementResponse { header { index } previous_value next_value } and
//! status OK, on HTTP/2 (over TLS with `--tls CERT KEY`), one thread.
//!
//!     cargo run --release -p atomix-proxy --example bench_upstream -- 127.0.0.1:7001

use bytes::{BufMut, Bytes, BytesMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpListener;

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:7001".into());
    // `--tls CERT KEY`: serve HTTP/2 over TLS (ALPN h2) with this certificate.
    let tls = match (args.next().as_deref(), args.next(), args.next()) {
        (Some("--tls"), Some(cert), Some(key)) => Some(tls_config(&cert, &key)),
        (None, _, _) => None,
        _ => panic!("usage: bench_upstream [ADDR] [--tls CERT KEY]"),
    };
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
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    None => serve(socket, index).await,
                    Some(tls) => {
                        if let Ok(stream) = tls.accept(socket).await {
                            serve(stream, index).await;
                        }
                    }
                }
            });
        }
    });
}

async fn serve<T>(io: T, index: Arc<AtomicU64>)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let Ok(mut conn) = h2::server::handshake(io).await else {
        return;
    };
    while let Some(Ok((request, respond))) = conn.accept().await {
        tokio::spawn(answer(request, respond, index.clone()));
    }
}

fn tls_config(cert: &str, key: &str) -> tokio_rustls::TlsAcceptor {
    use pki_types::pem::PemObject;
    use tokio_rustls::rustls;
    let certs = pki_types::CertificateDer::pem_file_iter(cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = pki_types::PrivateKeyDer::from_pem_file(key).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
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
