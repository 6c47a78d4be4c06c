//! atomix-proxy end to end as an operator runs it: logs, signals, drain, health,
//! readiness, metrics, configuration and the command line.
//!
//! The binary runs as a child process against fake Atomix partitions on 127.0.0.1
//! (`common`); every loop is bounded in count and time.

mod common;

use bytes::Bytes;
use common::*;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_one_line_per_call_with_its_header() {
    let g = group(1, 0).await;
    let mut command = std::process::Command::new(BIN);
    command.env("RUST_LOG", "debug");
    let proxy = Proxy::start_with(command, &partition_args(&[&g]), 0);
    let r = call(
        &proxy.addr,
        INCREMENT,
        &request("logged-counter", 42, 7, Some(1), &[]),
    )
    .await;
    assert_eq!(r.code(), 0);
    let lines = proxy.wait_logged("call", 1);
    let line = lines
        .iter()
        .find(|l| l["message"] == "call")
        .expect("a call line");
    assert_eq!(line["name"], "logged-counter");
    assert_eq!(line["session_id"], 42);
    assert_eq!(line["request_id"], 7);
    assert_eq!(line["header_partition"], 1);
    assert_eq!(line["method"], "atomix.counter.CounterService/Increment");
    // Dependencies stay at warn: no HTTP/2 frame lines. Every line names its target.
    for l in proxy.logs.lock().unwrap().iter() {
        let target = l["target"].as_str().unwrap_or_default();
        assert!(target.starts_with("atomix_proxy"), "{l}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_does_not_end_the_proxy() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    let message = request("slow", 1, 1, None, &[]);
    let slow = client.start(INCREMENT, &message, &[]);
    let hup = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        proxy.signal("HUP");
    };
    let (response, ()) = tokio::join!(slow, hup);
    let r = read_reply(response).await;
    assert_eq!(r.code(), 0, "the call in flight: {}", r.message());
    assert_eq!(proxy.wait_logged("SIGHUP", 1).len(), 1);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
}

#[test]
fn text_logs_have_no_colour_codes_off_a_terminal() {
    let mut child = std::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--partition", "127.0.0.1:1"])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening"), "{line}");
    assert!(!line.contains('\x1b'), "{line:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(
        &[partition_args(&[&g]), args(&["--metrics", "127.0.0.1:0"])].concat(),
        0,
    );
    proxy.wait_ready();
    assert!(proxy.http_get("/ready").await.starts_with("HTTP/1.1 200"));
    assert!(proxy.http_get("/healthz").await.starts_with("HTTP/1.1 200"));
    let mut client = Client::connect(&proxy.addr).await;
    for service in ["", "atomix.map.MapService"] {
        let mut m = Vec::new();
        if !service.is_empty() {
            len_field(1, service.as_bytes(), &mut m);
        }
        let r = client.call("/grpc.health.v1.Health/Check", &m, &[]).await;
        assert_eq!(r.code(), 0);
        assert_eq!(&r.messages[0][..], b"\x08\x01", "SERVING");
    }
    let mut m = Vec::new();
    len_field(1, b"nope", &mut m);
    let r = client.call("/grpc.health.v1.Health/Check", &m, &[]).await;
    assert_eq!(r.code(), 5);
    let r = client
        .call(INCREMENT, &request("c", 1, 1, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 0);
    let r = client.call("/atomix.nothing.Here/Call", b"", &[]).await;
    assert_eq!(r.code(), 12);
    let text = proxy.metrics_text().await;
    for needle in [
        "atomix_proxy_requests_total{partition=\"1\",method=\"atomix.counter.CounterService/Increment\",code=\"OK\"} 1",
        "atomix_proxy_requests_total{partition=\"\",method=\"other\",code=\"UNIMPLEMENTED\"} 1",
        "# TYPE atomix_proxy_request_duration_seconds histogram",
        "atomix_proxy_request_duration_seconds_count 2",
        "# TYPE atomix_proxy_leader_changes counter",
        "# TYPE atomix_proxy_retries counter",
    ] {
        assert!(text.contains(needle), "{needle} not in\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_unary_calls_finish_and_ends_streams() {
    let g = group(1, 0).await;
    let mut proxy = Proxy::start(
        &[partition_args(&[&g]), args(&["--drain-timeout", "1s"])].concat(),
        0,
    );
    let addr = proxy.addr.clone();
    let mut client = Client::connect(&addr).await;
    let stream = client
        .start(
            COUNTER_EVENTS_LIKE,
            &request("endless", 1, 1, None, &[]),
            &[],
        )
        .await;
    let slow = tokio::spawn({
        let addr = addr.clone();
        async move { call(&addr, INCREMENT, &request("slow", 1, 2, None, &[])).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    proxy.signal("TERM");
    let slow = slow.await.unwrap();
    assert_eq!(
        slow.code(),
        0,
        "the in-flight unary call finishes: {}",
        slow.message()
    );
    let stream = read_reply(stream).await;
    assert_eq!(stream.code(), 14, "{}", stream.message());
    assert!(stream.messages.len() > 10);
    let ended = signalled.elapsed();
    assert!(ended >= Duration::from_millis(900), "{ended:?}");
    let status = proxy
        .wait_exit(Duration::from_secs(10))
        .expect("the proxy exits");
    assert!(status.success(), "{status}");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "no longer listening"
    );
    assert_eq!(g.applied_total(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_watch_turns_not_serving_on_sigterm() {
    let g = group(1, 0).await;
    let mut proxy = Proxy::start(&partition_args(&[&g]), 0);
    proxy.wait_ready();
    let mut client = Client::connect(&proxy.addr).await;
    let response = client.start("/grpc.health.v1.Health/Watch", b"", &[]).await;
    let (_, mut body) = response.into_parts();
    let first = body.data().await.unwrap().unwrap();
    assert_eq!(&first[5..], b"\x08\x01", "SERVING");
    proxy.signal("TERM");
    let mut rest = Vec::new();
    while let Some(chunk) = body.data().await {
        rest.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(messages(&rest), [&b"\x08\x02"[..]], "NOT_SERVING");
    let trailers = body.trailers().await.unwrap().unwrap();
    assert_eq!(trailers["grpc-status"], "0");
    assert!(proxy.wait_exit(Duration::from_secs(10)).unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_with_nothing_open_exits_at_once() {
    let g = group(1, 0).await;
    let mut proxy = Proxy::start(&partition_args(&[&g]), 0);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0);
    let start = Instant::now();
    proxy.signal("INT");
    let status = proxy
        .wait_exit(Duration::from_secs(5))
        .expect("the proxy exits");
    assert!(status.success());
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_close_and_accept_errors_do_not_spin() {
    let g = group(1, 0).await;
    // 40 descriptors: a few dozen idle connections exhaust them.
    let mut command = std::process::Command::new("sh");
    command.args(["-c", "ulimit -n 40 && exec \"$0\" \"$@\"", BIN]);
    let proxy = Proxy::start_with(
        command,
        &[partition_args(&[&g]), args(&["--idle-timeout", "1s"])].concat(),
        0,
    );
    let mut idle = Vec::new();
    for _ in 0..60 {
        idle.push(tokio::net::TcpStream::connect(&proxy.addr).await.unwrap());
    }
    let cpu = proxy.cpu();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let spent = proxy.cpu() - cpu;
    assert!(
        spent < Duration::from_millis(300),
        "{spent:?} of CPU in a second with no descriptors"
    );
    drop(idle);
    // Served again once descriptors are free.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = tokio::time::timeout(
            Duration::from_secs(2),
            call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])),
        )
        .await;
        if let Ok(r) = r {
            assert_eq!(r.code(), 0);
            break;
        }
        assert!(Instant::now() < deadline, "never served again");
    }
    // An HTTP/2 client with no call open is closed after --idle-timeout.
    let tcp = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
    let (_send, conn) = h2::client::handshake(tcp).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), conn).await;
    assert!(closed.is_ok(), "the idle connection stayed open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_does_not_wait_for_a_client_that_never_answers() {
    // Raw HTTP/2 clients that send their preface and never answer anything, not the
    // PING of a graceful close either.
    async fn mute_client(addr: &str) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt;
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
            .await
            .unwrap();
        s
    }
    async fn closed_within(mut s: tokio::net::TcpStream, limit: Duration) -> bool {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        let read_to_end = async {
            while let Ok(n) = s.read(&mut buf).await {
                if n == 0 {
                    return;
                }
            }
        };
        tokio::time::timeout(limit, read_to_end).await.is_ok()
    }
    let g = group(1, 0).await;
    let mut proxy = Proxy::start(
        &[partition_args(&[&g]), args(&["--idle-timeout", "1s"])].concat(),
        0,
    );
    let mut clients = Vec::new();
    for _ in 0..5 {
        clients.push(mute_client(&proxy.addr).await);
    }
    // Idle after one to two idle times, then a grace for the PING and one to flush.
    for c in clients {
        assert!(closed_within(c, Duration::from_secs(8)).await, "still open");
    }
    // SIGTERM with only such a connection open: the proxy exits long before
    // --drain-timeout (10 s) and --timeout (30 s) pass.
    let _held = mute_client(&proxy.addr).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    proxy.signal("TERM");
    let status = proxy.wait_exit(Duration::from_secs(8));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert!(start.elapsed() < Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_health_request_that_never_ends_is_timed_out() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(
        &[partition_args(&[&g]), args(&["--timeout", "1s"])].concat(),
        0,
    );
    let send = h2_connection(&proxy.addr).await;
    let request = grpc_head(&proxy.addr, "/grpc.health.v1.Health/Check");
    let mut send = send.ready().await.unwrap();
    let (response, mut stream) = send.send_request(request, false).unwrap();
    stream
        .send_data(Bytes::from_static(b"\0\0"), false)
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(5), response)
        .await
        .expect("an answer within 5 s")
        .unwrap();
    let r = read_reply(response).await;
    assert_eq!(r.code(), 4, "{}", r.message());
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_says_when_a_partition_has_no_reachable_replica() {
    let g = group(1, 0).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let proxy = Proxy::start(
        &[
            partition_args(&[&g]),
            args(&["--partition", &dead_addr, "--metrics", "127.0.0.1:0"]),
        ]
        .concat(),
        0,
    );
    let lines = proxy.wait_logged("not ready", 1);
    assert_eq!(lines.len(), 1, "{:?}", proxy.logs.lock().unwrap());
    let ready = proxy.http_get("/ready").await;
    assert!(ready.starts_with("HTTP/1.1 503"), "{ready}");
    assert!(ready.contains("[\"2\"]"), "names partition 2: {ready}");
    let live = proxy.http_get("/healthz").await;
    assert!(live.starts_with("HTTP/1.1 200"), "liveness: {live}");
    let mut client = Client::connect(&proxy.addr).await;
    let r = client.call("/grpc.health.v1.Health/Check", b"", &[]).await;
    assert_eq!(&r.messages[0][..], b"\x08\x02", "NOT_SERVING");
}
