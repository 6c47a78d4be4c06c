//! atomix-proxy end to end: routing to leaders, NOT_LEADER, failover, and requests
//! sent again only where no replica can have applied them.
//!
//! The binary runs as a child process against fake Atomix partitions on 127.0.0.1
//! (`common`); every loop is bounded in count and time.

mod common;

use atomix_headers::partition::fnv1a_32;
use atomix_headers::ResponseStatus;
use common::generated::atomix::counter::counter_service_client::CounterServiceClient;
use common::generated::atomix::counter::IncrementRequest;
use common::generated::atomix::headers::RequestHeader;
use common::generated::atomix::primitive::Name;
use common::*;
use std::sync::atomic::Ordering;
use std::time::Duration;

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
    // (Without a session of the proxy's: a map Create through the main listener makes
    // one, tests/sessions.rs.)
    for stream in [MAP_EVENTS, MAP_ENTRIES, "/atomix.set.SetService/Iterate"] {
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
