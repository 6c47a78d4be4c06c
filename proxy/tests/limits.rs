//! atomix-proxy end to end: what clients may send (header lists, what is a gRPC call)
//! and what replicas advertise.
//!
//! The binary runs as a child process against fake Atomix partitions on 127.0.0.1
//! (`common`); every loop is bounded in count and time.

mod common;

use bytes::Bytes;
use common::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_blocks_that_expand_are_bounded() {
    // HPACK lets a 1-byte reference stand for a 3.9 KiB table entry. Streams whose
    // header lists expand past --max-header-list-size are refused as they are decoded;
    // those under it are held, all together, up to --max-headers-held.
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let before = proxy.rss_kib();
    let big = Bytes::from(vec![b'v'; 3900]);
    let mut conns = Vec::new();
    // 1,024 streams of 1,000 references each (3.9 MB each, expanded), then 1,024 of
    // three (11.8 KB each, under the limit: 12 MB if all were held).
    for copies in [1000, 3] {
        let send = h2_connection(&proxy.addr).await;
        let mut streams = Vec::new();
        for _ in 0..1024 {
            let mut request = grpc_head(&proxy.addr, INCREMENT);
            for _ in 0..copies {
                let value = http::HeaderValue::from_maybe_shared(big.clone()).unwrap();
                request.headers_mut().append("x-big", value);
            }
            // No body: the proxy holds the headers while it waits for one. h2 ends a
            // connection whose header list is far past the limit (ENHANCE_YOUR_CALM):
            // then the rest of its streams cannot be sent.
            let Ok(mut send) = send.clone().ready().await else {
                break;
            };
            let Ok((response, stream)) = send.send_request(request, false) else {
                break;
            };
            streams.push((response, stream));
        }
        conns.push((copies, send, streams));
    }
    // Every stream reached the proxy once a call after them on the same connection is
    // answered.
    for (copies, send, streams) in &mut conns {
        if *copies > 3 {
            continue;
        }
        assert_eq!(streams.len(), 1024);
        let request = grpc_head(&proxy.addr, INCREMENT);
        let mut ready = send.clone().ready().await.unwrap();
        let (response, mut stream) = ready.send_request(request, false).unwrap();
        stream
            .send_data(frame(&request_bytes("after", 1)), true)
            .unwrap();
        let r = tokio::time::timeout(Duration::from_secs(20), response).await;
        assert!(
            r.is_ok(),
            "the proxy did not answer behind the header blocks"
        );
    }
    let after = proxy.rss_kib();
    eprintln!("proxy RSS: {before} KiB before the header blocks, {after} KiB with them");
    assert!(
        after < 64 * 1024,
        "RSS {before} KiB before, {after} KiB with the header blocks"
    );
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    drop(conns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replicas_header_list_limit_is_respected() {
    let options = ReplicaOptions {
        max_header_list_size: Some(4096),
        ..Default::default()
    };
    let g = group_with(1, 0, options).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    // A first call, so that the proxy has the replica's SETTINGS.
    let r = client
        .call(INCREMENT, &request("c", 1, 1, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 0, "{}", r.message());
    let pad = "p".repeat(6000);
    let r = client
        .call(
            INCREMENT,
            &request("c", 1, 2, None, &[]),
            &[("x-pad", &pad)],
        )
        .await;
    assert_eq!(r.code(), 8, "{}", r.message());
    assert!(r.message().contains("4096"), "{}", r.message());
    assert_eq!(g.arrived.load(Ordering::SeqCst), 1, "the big one was sent");
    // The replica's connection serves on.
    for id in 3..13 {
        let r = client
            .call(INCREMENT, &request("c", 1, id, None, &[]), &[])
            .await;
        assert_eq!(r.code(), 0, "{}", r.message());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_are_not_grpc_calls_are_refused() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let send = h2_connection(&proxy.addr).await;
    let message = request("c", 1, 1, None, &[]);
    let cases: [(&str, &str, Vec<u8>, u16, u32); 4] = [
        ("GET", "application/grpc", frame(&message).to_vec(), 405, 13),
        ("POST", "text/plain", frame(&message).to_vec(), 415, 3),
        (
            "POST",
            "application/grpcx",
            frame(&message).to_vec(),
            415,
            3,
        ),
        (
            "POST",
            "application/grpc",
            [frame(&message), frame(&message)].concat(),
            200,
            13,
        ),
    ];
    for (method, content_type, body, http_status, code) in cases {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{INCREMENT}", proxy.addr))
            .header("content-type", content_type)
            .body(())
            .unwrap();
        let mut ready = send.clone().ready().await.unwrap();
        let (response, mut stream) = ready.send_request(request, false).unwrap();
        // The proxy may refuse from the headers alone and reset the stream before the
        // body goes out; then sending fails, and the reply below is what is checked.
        let _ = stream.send_data(Bytes::from(body), true);
        let r = read_reply(response.await.unwrap()).await;
        assert_eq!(
            (r.http, r.code()),
            (http_status, code),
            "{method} {content_type}: {}",
            r.message()
        );
    }
    assert_eq!(
        g.arrived.load(Ordering::SeqCst),
        0,
        "none reached the replica"
    );
    let r = call(&proxy.addr, INCREMENT, &message).await;
    assert_eq!(r.code(), 0, "{}", r.message());
}
