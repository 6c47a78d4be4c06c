//! atomix-proxy end to end on 127.0.0.1: the binary as a child process, fake Atomix
//! partitions (Raft groups whose leader applies and whose followers answer NOT_LEADER
//! naming it), tonic's generated clients and a raw HTTP/2 client. Every loop here is
//! bounded in count and time.

mod common;

#[allow(clippy::all, dead_code)]
mod generated {
    pub mod atomix {
        pub mod headers {
            include!("../../tests/generated/atomix.headers.rs");
        }
        pub mod primitive {
            include!("../../tests/generated/atomix.primitive.rs");
        }
        pub mod counter {
            include!("../../tests/generated/atomix.counter.rs");
        }
    }
}

use atomix_headers::partition::fnv1a_32;
use atomix_headers::ResponseStatus;
use bytes::Bytes;
use common::*;
use generated::atomix::counter::counter_service_client::CounterServiceClient;
use generated::atomix::counter::IncrementRequest;
use generated::atomix::headers::RequestHeader;
use generated::atomix::primitive::Name;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Names that the Go client's rule puts on each of `partitions`.
fn names_for(partitions: u32, per_partition: usize) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut counts = vec![0; partitions as usize];
    for i in 0.. {
        let name = format!("counter-{i}");
        let p = (fnv1a_32(name.as_bytes()) % partitions) as usize;
        if counts[p] < per_partition {
            counts[p] += 1;
            out.push((name, p));
        }
        if counts.iter().all(|&c| c == per_partition) {
            return out;
        }
    }
    unreachable!()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_clients_reach_leaders_and_every_request_is_applied_once() {
    // Partition 1 led by its first replica, 2 by its second (the proxy learns it from
    // NOT_LEADER), 3 by its third.
    let groups = [group(3, 0).await, group(3, 1).await, group(3, 2).await];
    let proxy = Proxy::start(
        &[
            partition_args(&[&groups[0], &groups[1], &groups[2]]),
            args(&["--metrics", "127.0.0.1:0"]),
        ]
        .concat(),
        0,
    );
    let names = names_for(3, 4);
    let mut clients = Vec::new();
    for _ in 0..4 {
        clients.push(
            CounterServiceClient::connect(format!("http://{}", proxy.addr))
                .await
                .unwrap(),
        );
    }
    const ROUNDS: u64 = 50;
    let mut sent = 0u64;
    for round in 0..ROUNDS {
        if round == ROUNDS / 2 {
            // A new election in partition 1: its followers now name replica 3.
            groups[0].leader.store(2, Ordering::SeqCst);
        }
        let mut calls = Vec::new();
        for (i, (name, _)) in names.iter().enumerate() {
            let mut client = clients[i % clients.len()].clone();
            let request = IncrementRequest {
                header: Some(RequestHeader {
                    name: Some(Name {
                        name: name.clone(),
                        namespace: "test".into(),
                    }),
                    session_id: 1 + i as u64,
                    request_id: round + 1,
                    ..Default::default()
                }),
                delta: 1,
            };
            calls.push(tokio::spawn(async move { client.increment(request).await }));
        }
        for call in calls {
            let response = call.await.unwrap().expect("the call succeeds");
            let header = response.into_inner().header.unwrap();
            assert_eq!(header.status, 0, "the client never sees NOT_LEADER");
            sent += 1;
        }
    }
    for (p, g) in groups.iter().enumerate() {
        let applied = g.applied.lock().unwrap();
        assert!(
            applied.values().all(|&n| n == 1),
            "partition {}: applied twice: {applied:?}",
            p + 1
        );
        let expected: u64 = names.iter().filter(|(_, q)| *q == p).count() as u64 * ROUNDS;
        assert_eq!(applied.len() as u64, expected, "partition {}", p + 1);
        // Every name went to the partition the Go client's rule picks.
        for (_, _, name) in g.seen.lock().unwrap().iter() {
            let q = names.iter().find(|(n, _)| n == name).unwrap().1;
            assert_eq!(q, p, "{name}");
        }
    }
    assert_eq!(
        groups.iter().map(|g| g.applied_total() as u64).sum::<u64>(),
        sent
    );
    // Partition 2's first call went to replica 1, then the leader; after that, the
    // proxy goes straight to the leader.
    // The first round's calls to it were concurrent: each of those may have met the
    // follower once; none after.
    let seen2 = groups[1].replicas_seen();
    let redirected = seen2.iter().filter(|&&r| r == 0).count();
    assert!((1..=4).contains(&redirected), "{seen2:?}");
    assert!(
        seen2[seen2.len() - 4 * (ROUNDS as usize - 1)..]
            .iter()
            .all(|&r| r == 1),
        "{seen2:?}"
    );
    let metrics = proxy.metrics_text().await;
    let ok_line = format!(
        "atomix_proxy_requests_total{{partition=\"1\",method=\"atomix.counter.CounterService/Increment\",code=\"OK\"}} {}",
        names.iter().filter(|(_, q)| *q == 0).count() as u64 * ROUNDS
    );
    assert!(metrics.contains(&ok_line), "{ok_line} not in\n{metrics}");
    assert!(
        metrics.contains("atomix_proxy_leader_changes_total{partition=\"1\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("atomix_proxy_leader_changes_total{partition=\"2\"} 1"),
        "{metrics}"
    );
    let retries =
        format!("atomix_proxy_retries_total{{partition=\"2\",reason=\"not_leader\"}} {redirected}");
    assert!(metrics.contains(&retries), "{metrics}");
    assert!(
        metrics.contains("atomix_proxy_retries_total{partition=\"3\",reason=\"connect\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("atomix_proxy_request_duration_seconds_count"),
        "{metrics}"
    );
    assert_eq!(
        proxy.wait_logged("leader changed", 3).len(),
        3,
        "partitions 1 (twice: the election) and 2 and 3 (once each)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_leader_is_passed_over_and_nothing_is_applied_twice() {
    let g = group(3, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    let r = client
        .call(INCREMENT, &request("c", 1, 1, None, b"\x10\x01"), &[])
        .await;
    assert_eq!(r.code(), 0);
    // The leader dies; replica 2 wins the election.
    g.leader.store(1, Ordering::SeqCst);
    g.kill(0);
    tokio::time::sleep(Duration::from_millis(100)).await;
    for id in 2..=20 {
        let r = client
            .call(INCREMENT, &request("c", 1, id, None, b"\x10\x01"), &[])
            .await;
        assert_eq!(r.code(), 0, "{}", r.message());
        assert_eq!(
            r.envelope().message().header.unwrap().status,
            ResponseStatus::OK
        );
    }
    let applied = g.applied.lock().unwrap().clone();
    assert_eq!(applied.len(), 20);
    assert!(applied.values().all(|&n| n == 1), "{applied:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_follows_not_leader_in_its_first_message() {
    // Replica 2 leads; the proxy starts at replica 1, whose stream opens with NOT_LEADER.
    let g = group(2, 1).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let r = call(
        &proxy.addr,
        COUNTER_EVENTS_LIKE,
        &request("events", 1, 1, None, &[]),
    )
    .await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(
        r.messages.len(),
        5,
        "the leader's stream, and nothing of the follower's"
    );
    for m in &r.messages {
        let e = atomix_headers::OwnedResponseEnvelope::decode(m.clone()).unwrap();
        assert_eq!(e.message().header.unwrap().status, ResponseStatus::OK);
    }
    assert_eq!(g.replicas_seen(), [0, 1]);
    assert_eq!(g.applied_total(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_leader_outside_the_configuration_goes_back_as_it_came() {
    let g = group(2, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    // The leader itself says NOT_LEADER, naming an address the proxy was not given.
    let r = call(
        &proxy.addr,
        INCREMENT,
        &request("outsider", 1, 1, None, &[]),
    )
    .await;
    assert_eq!(r.code(), 0);
    let h = r.envelope();
    let header = h.message().header.unwrap();
    assert_eq!(header.status, ResponseStatus::NOT_LEADER);
    assert_eq!(header.leader, "10.255.255.1:5678");
    assert_eq!(g.replicas_seen(), [0], "never connected elsewhere");
    assert_eq!(proxy.wait_logged("not a configured replica", 1).len(), 1);
    // A follower naming a replica outside the configuration: the same.
    *g.hint.lock().unwrap() = Some("10.255.255.2:5678".into());
    g.leader.store(1, Ordering::SeqCst);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 2, None, &[])).await;
    assert_eq!(
        r.envelope().message().header.unwrap().leader,
        "10.255.255.2:5678"
    );
    assert_eq!(g.applied_total(), 0);
}

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
async fn an_unreachable_replica_is_skipped_before_sending() {
    // The first replica refuses connections (nothing listens there any more).
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let g = group(1, 0).await;
    let spec = format!("{dead_addr},{}", g.addrs[0]);
    let proxy = Proxy::start(
        &args(&["--partition", &spec, "--metrics", "127.0.0.1:0"]),
        0,
    );
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    let metrics = proxy.metrics_text().await;
    assert!(
        metrics.contains("atomix_proxy_retries_total{partition=\"1\",reason=\"connect\"} 1"),
        "{metrics}"
    );
    // Only unreachable replicas: UNAVAILABLE naming them.
    let proxy = Proxy::start(&args(&["--partition", &dead_addr]), 0);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 14);
    assert!(r.message().contains(&dead_addr), "{}", r.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_6_refusals_and_partition_listeners() {
    let groups = [group(1, 0).await, group(1, 0).await, group(1, 0).await];
    let mut a = partition_args(&[&groups[0], &groups[1], &groups[2]]);
    a[5] = format!("127.0.0.1:0={}", groups[2].addrs[0]);
    let proxy = Proxy::start(&a, 1);
    let mut client = Client::connect(&proxy.addr).await;
    // A whole-map call with no partition named: refused, saying how to name one.
    let r = client
        .call(MAP_SIZE, &request("m", 1, 1, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 9, "{}", r.message());
    assert!(r.message().contains("field 6"), "{}", r.message());
    for stream in [
        MAP_EVENTS,
        MAP_ENTRIES,
        "/atomix.set.SetService/Iterate",
        "/atomix.map.MapService/Create",
    ] {
        let r = client
            .call(stream, &request("m", 1, 1, None, &[]), &[])
            .await;
        assert_eq!(r.code(), 9, "{stream}");
    }
    // Named: it goes there, whatever the name hashes to.
    for p in 1..=3u64 {
        let r = client
            .call(MAP_SIZE, &request("m", 1, p, Some(p), &[]), &[])
            .await;
        assert_eq!(r.code(), 0);
        assert_eq!(
            r.headers["x-replica"],
            groups[p as usize - 1].addrs[0].as_str()
        );
    }
    for bad in [0u64, 4, 1 << 31] {
        let r = client
            .call(MAP_SIZE, &request("m", 1, 9, Some(bad), &[]), &[])
            .await;
        assert_eq!(r.code(), 9);
        assert!(
            r.message().contains(&(bad as u32).to_string()),
            "{}",
            r.message()
        );
    }
    // A partition's own listener serves that partition, whole-map calls included.
    let r = call(
        &proxy.partition_addrs[0],
        MAP_SIZE,
        &request("m", 1, 20, None, &[]),
    )
    .await;
    assert_eq!(r.code(), 0);
    assert_eq!(r.headers["x-replica"], groups[2].addrs[0].as_str());
    // A map Put routes by its key, the last length-delimited field 2, even when a
    // field 2 of another wire type follows it.
    let mut rest = Vec::new();
    len_field(2, b"some-key", &mut rest);
    varint_field(2, 5, &mut rest);
    let r = client
        .call(MAP_PUT, &request("m", 1, 30, None, &rest), &[])
        .await;
    assert_eq!(r.code(), 0);
    let p = (fnv1a_32(b"some-key") % 3) as usize;
    assert_eq!(r.headers["x-replica"], groups[p].addrs[0].as_str());
    // Not an Atomix method; not a message; not a header.
    let r = client
        .call("/atomix.log.LogService/Produce", b"", &[])
        .await;
    assert_eq!(r.code(), 12);
    let r = client.call(INCREMENT, b"\x0a\x05\x08", &[]).await;
    assert_eq!(r.code(), 3);
    assert!(r.message().contains("request"), "{}", r.message());
    // Nothing reached an upstream that should not have.
    assert_eq!(
        groups
            .iter()
            .map(|g| g.seen.lock().unwrap().len())
            .sum::<usize>(),
        5
    );
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
async fn a_config_file_gives_what_flags_do_not() {
    let g = group(1, 0).await;
    let dir = std::env::temp_dir().join(format!("atomix-proxy-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proxy.toml");
    std::fs::write(
        &file,
        format!(
            "partition = [\"{}\"]\ntimeout = \"50ms\"\nmetrics = \"127.0.0.1:0\"\n",
            g.addrs[0]
        ),
    )
    .unwrap();
    let config = file.to_str().unwrap();
    // The file's --timeout (50 ms) makes a slow call fail; the flag's (5 s) wins over it.
    let proxy = Proxy::start(&args(&["--config", config]), 0);
    assert!(proxy.metrics.is_some(), "metrics from the file");
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 4, "{}", r.message());
    let proxy = Proxy::start(&args(&["--config", config, "--timeout", "5s"]), 0);
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    std::fs::remove_dir_all(&dir).unwrap();
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

#[test]
fn help_version_and_usage_errors() {
    let run = |a: &[&str]| std::process::Command::new(BIN).args(a).output().unwrap();
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    for needle in [
        "--partition",
        "--timeout",
        "--drain-timeout",
        "--metrics",
        "--config",
        "Examples:",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8(version.stdout)
        .unwrap()
        .starts_with("atomix-proxy "));
    for bad in [
        &[][..],
        &["--partition", "x"],
        &["--nope"],
        &["--partition", "a:1", "--timeout", "x"],
        &["--partition", "a b:1"],
        &["--partition", "http://a:1"],
        &["--partition", "::1:5000"],
        &["--partition", "a:1;b:2"],
        &["--partition", "a:1,A:1"],
        &["--partition", "a:01,a:1"],
        &["--partition", "a:1", "--timeout", "18446744073709551615s"],
        &["--partition", "a:1", "--keepalive", "1ns"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // Cannot listen: a runtime failure, exit 1.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["--listen", &addr, "--partition", "127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1));
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
        let tcp = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let mut streams = Vec::new();
        for _ in 0..1024 {
            let mut request = http::Request::builder()
                .method("POST")
                .uri(format!("http://{}{INCREMENT}", proxy.addr))
                .header("content-type", "application/grpc")
                .body(())
                .unwrap();
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
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{INCREMENT}", proxy.addr))
            .header("content-type", "application/grpc")
            .body(())
            .unwrap();
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

fn request_bytes(name: &str, id: u64) -> Vec<u8> {
    request(name, 1, id, None, &[])
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
async fn a_call_cancelled_while_queued_is_never_sent() {
    // The replica takes one stream at a time; a call waiting behind a slow one is
    // cancelled by its client, and the replica never hears of it.
    let options = ReplicaOptions {
        max_concurrent_streams: Some(1),
        ..Default::default()
    };
    let g = group_with(1, 0, options).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let mut client = Client::connect(&proxy.addr).await;
    let r = client
        .call(INCREMENT, &request("c", 1, 1, None, &[]), &[])
        .await;
    assert_eq!(r.code(), 0, "{}", r.message());
    let slow_message = request("slow", 1, 2, None, &[]);
    let slow = client.start(INCREMENT, &slow_message, &[]);
    let cancel = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let tcp = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
        let (send, conn) = h2::client::handshake(tcp).await.unwrap();
        tokio::spawn(conn);
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{INCREMENT}", proxy.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_a_replica_did_not_process_go_again() {
    // One replica only: the retry goes to the same one, on a new stream or connection.
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    // A GOAWAY with last stream id 0 on the first connection.
    g.goaway_first.store(1, Ordering::SeqCst);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "after GOAWAY: {}", r.message());
    // REFUSED_STREAM once.
    g.refuse.store(1, Ordering::SeqCst);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "after REFUSED_STREAM: {}", r.message());
    assert_eq!(g.applied_total(), 2, "each applied once");
    // Refused every time: one more try, then UNAVAILABLE.
    g.refuse.store(usize::MAX, Ordering::SeqCst);
    let before = g.arrived.load(Ordering::SeqCst);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 3, None, &[])).await;
    assert_eq!(r.code(), 14, "{}", r.message());
    assert_eq!(g.arrived.load(Ordering::SeqCst) - before, 2, "tried twice");
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
    let tcp = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/grpc.health.v1.Health/Check", proxy.addr))
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
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
async fn requests_that_are_not_grpc_calls_are_refused() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(&partition_args(&[&g]), 0);
    let tcp = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
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
        stream.send_data(Bytes::from(body), true).unwrap();
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
