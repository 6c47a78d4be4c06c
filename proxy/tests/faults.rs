//! atomix-proxy end to end: replicas that are slow, silent, lost or large, and clients
//! that read slowly or cancel.
//!
//! The binary runs as a child process against fake Atomix partitions on 127.0.0.1
//! (`common`); every loop is bounded in count and time.

mod common;

use common::*;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_never_answers_ends_in_deadline_exceeded() {
    let (addr, _silent) = silent().await;
    let proxy = Proxy::start(&args(&["--partition", &addr, "--timeout", "700ms"]), 0);
    let start = Instant::now();
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 4, "{}", r.message());
    assert!(r.message().contains(&addr), "{}", r.message());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(600) && took < Duration::from_secs(5),
        "{took:?}"
    );
    // The client's own deadline wins.
    let start = Instant::now();
    let mut client = Client::connect(&proxy.addr).await;
    let r = client
        .call(
            INCREMENT,
            &request("c", 1, 2, None, &[]),
            &[("grpc-timeout", "200m")],
        )
        .await;
    assert_eq!(r.code(), 4);
    assert!(
        start.elapsed() < Duration::from_millis(650),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepalive_finds_a_replica_that_went_silent() {
    // The replica accepts and never answers, not even a PING: the connection is closed
    // after two keepalive intervals, long before --timeout, and the call, whose request
    // was sent, is UNAVAILABLE (not retried: it may have been applied).
    let (addr, _silent) = silent().await;
    let proxy = Proxy::start(
        &args(&[
            "--partition",
            &addr,
            "--timeout",
            "20s",
            "--keepalive",
            "1s",
        ]),
        0,
    );
    let start = Instant::now();
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 14, "{}", r.message());
    assert!(r.message().contains(&addr), "{}", r.message());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_is_bounded_by_connect_timeout() {
    // A replica whose accept queue is full: the kernel drops further SYNs, so a connect
    // to it hangs. The next replica takes the call once --connect-timeout passes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let full = socket.listen(1).unwrap();
    let full_addr = full.local_addr().unwrap().to_string();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let connect = tokio::net::TcpStream::connect(&full_addr);
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(200), connect).await {
            fillers.push(s);
        }
    }
    let g = group(1, 0).await;
    let spec = format!("{full_addr},{}", g.addrs[0]);
    let proxy = Proxy::start(
        &args(&["--partition", &spec, "--connect-timeout", "300ms"]),
        0,
    );
    let start = Instant::now();
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "{took:?}: the connect did not hang"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    drop(full);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_trailers_and_upstream_faults() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    // Metadata both ways; trailers of a successful call; the deadline passed on.
    let headers = [
        ("x-client", "hello"),
        ("grpc-timeout", "5S"),
        ("content-length", "40"),
    ];
    let message = request("c", 1, 1, None, b"\x10\x01");
    // grpc-accept-encoding is the proxy's to say (it reads every message, so it takes
    // no compression): the upstream must not see the client's.
    let headers_len = [
        ("x-client", "hello"),
        ("grpc-timeout", "5S"),
        ("grpc-accept-encoding", "gzip"),
    ];
    let r = client.call(INCREMENT, &message, &headers_len).await;
    assert_eq!(r.code(), 0);
    assert_eq!(r.headers["x-echo"], "hello");
    assert!(
        r.headers.get("x-seen-accept-encoding").is_none(),
        "{:?}",
        r.headers
    );
    assert_eq!(r.trailers["x-trailer"], "kept");
    let seen: u64 = r.headers["x-seen-timeout"]
        .to_str()
        .unwrap()
        .trim_end_matches('u')
        .parse()
        .unwrap();
    assert!(seen > 4_000_000 && seen <= 5_000_000, "{seen}");
    // A client that sends content-length (nghttp and h2load do).
    let len = (message.len() + 5).to_string();
    let r = client
        .call(
            INCREMENT,
            &message,
            &[("content-length", len.as_str()), headers[0]],
        )
        .await;
    assert_eq!(r.code(), 0, "{}", r.message());
    // An upstream's own error status passes through.
    let r = client
        .call(INCREMENT, &request("error", 1, 2, None, &[]), &[])
        .await;
    assert_eq!((r.code(), r.message().as_str()), (5, "no such thing"));
    // A malformed response is INTERNAL and names the upstream.
    let r = client
        .call(INCREMENT, &request("malformed", 1, 3, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 13);
    assert!(r.message().contains(&g.addrs[0]), "{}", r.message());
    // An upstream lost mid-stream is UNAVAILABLE and named.
    let r = client
        .call(COUNTER_EVENTS_LIKE, &request("die", 1, 4, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 14, "{}", r.message());
    assert!(r.message().contains(&g.addrs[0]), "{}", r.message());
    assert_eq!(r.messages.len(), 1, "what came before the loss is relayed");
    // A stream relays every message and its trailers.
    let r = client
        .call(
            COUNTER_EVENTS_LIKE,
            &request("events", 1, 5, None, &[]),
            &[],
        )
        .await;
    assert_eq!(r.code(), 0);
    assert_eq!(r.messages.len(), 5);
    // Faults are logged, one line each.
    let failed = proxy.wait_logged("call failed", 3);
    assert!(failed.len() >= 3, "{:?}", proxy.logs.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_holds_the_upstream_back() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let before = proxy.rss_kib();
    let mut client = Client::connect(&proxy.addr).await;
    let response = client
        .start(MAP_EVENTS, &request("flood", 1, 1, Some(1), &[]), &[])
        .await;
    // Read nothing for a while: the upstream could send about 100 MB.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let held = proxy.rss_kib().saturating_sub(before);
    assert!(
        held < 16 * 1024,
        "the proxy grew by {held} KiB for a reader that reads nothing"
    );
    let r = read_reply(response).await;
    assert_eq!(r.code(), 0);
    assert_eq!(r.messages.len() as u64, FLOOD_MESSAGES);
    for (n, m) in r.messages.iter().enumerate() {
        let e = atomix_headers::OwnedResponseEnvelope::decode(m.clone()).unwrap();
        assert_eq!(e.message().header.unwrap().response_id, n as u64);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_larger_than_a_window_arrive_whole() {
    // A first message larger than the upstream stream's window (256 KiB), unary and as
    // a stream's first message: relayed as it comes, byte for byte.
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    for size in [262_200, 1 << 20, 16 << 20] {
        for path in [MAP_GET, MAP_ENTRIES] {
            let name = format!("big-{size}");
            let r = tokio::time::timeout(
                Duration::from_secs(30),
                client.call(path, &request(&name, 1, 1, None, &[]), &[]),
            )
            .await
            .unwrap_or_else(|_| panic!("{path} {size}: no answer in 30 s"));
            assert_eq!(r.code(), 0, "{path} {size}: {}", r.message());
            let want = path == MAP_ENTRIES;
            assert_eq!(r.messages.len(), 1 + want as usize, "{path} {size}");
            let first = &r.messages[0];
            let tail = big_field(size);
            assert!(first.ends_with(&tail), "{path} {size}: the value changed");
            assert_eq!(r.envelope().message().header.unwrap().response_id, 0);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_while_queued_is_never_sent() {
    // The replica takes one stream at a time; a call waiting behind a slow one is
    // cancelled by its client, and the replica never hears of it.
    let options = ReplicaOptions {
        max_concurrent_streams: Some(1),
        ..Default::default()
    };
    let g = group_with(1, 0, options).await;
    // One worker: both clients' calls share its one connection to the replica.
    let mut args = partition_args(&[&g]);
    args.extend(["--workers".to_owned(), "1".to_owned()]);
    let proxy = Proxy::start(&args, 0);
    let mut client = Client::connect(&proxy.addr).await;
    let r = client
        .call(INCREMENT, &request("c", 1, 1, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 0, "{}", r.message());
    let slow_message = request("slow", 1, 2, None, &[]);
    let slow = client.start(INCREMENT, &slow_message, &[]);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let send = h2_connection(&proxy.addr).await;
        let request = grpc_head(&proxy.addr, INCREMENT);
        let mut send = send.ready().await.unwrap();
        let (_response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(frame(&request_bytes("queued", 3)), true)
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        stream.send_reset(h2::Reason::CANCEL);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (response, ()) = tokio::join!(slow, cancel);
    let r = read_reply(response).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let names: Vec<String> = g.seen.lock().unwrap().iter().map(|s| s.2.clone()).collect();
    assert_eq!(g.arrived.load(Ordering::SeqCst), 2, "{names:?}");
    let r = client
        .call(INCREMENT, &request("c", 1, 4, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 0, "{}", r.message());
}
