//! atomix-proxy with several workers: each a thread with its own listening socket on
//! the one port (SO_REUSEPORT) and its own replica connections, sharing the leaders
//! they learn.

mod common;

use common::*;

/// How many sockets listen on 127.0.0.1:`port` (IPv4), from /proc/net/tcp.
fn listening_sockets(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f[1] == local && f[3] == "0A"
        })
        .count()
}

fn port(addr: &str) -> u16 {
    addr.rsplit_once(':').unwrap().1.parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_serve_a_thousand_calls() {
    let g = group(1, 0).await;
    let proxy = Proxy::start(
        &[partition_args(&[&g]), args(&["--workers", "2"])].concat(),
        0,
    );
    proxy.wait_ready();
    assert_eq!(
        listening_sockets(port(&proxy.addr)),
        2,
        "a socket per worker"
    );
    // 20 connections of 50 calls each: the kernel spreads the connections over the
    // two sockets.
    let mut clients = Vec::new();
    for c in 0..20u64 {
        let addr = proxy.addr.clone();
        clients.push(tokio::spawn(async move {
            let mut client = Client::connect(&addr).await;
            let mut codes = Vec::new();
            for i in 0..50u64 {
                let message = request(&format!("w{c}"), 1 + c, 1 + i, None, &[]);
                codes.push(client.call(INCREMENT, &message, &[]).await.code());
            }
            codes
        }));
    }
    let mut ok = 0;
    for c in clients {
        ok += c.await.unwrap().iter().filter(|&&code| code == 0).count();
    }
    assert_eq!(ok, 1000);
    assert_eq!(g.applied_total(), 1000);
    // Each worker keeps its own connection to the replica.
    wait_until(
        "a replica connection from each worker",
        std::time::Duration::from_secs(5),
        || g.open[0].load(std::sync::atomic::Ordering::SeqCst) == 2,
    )
    .await;

    // One worker: one socket, one replica connection.
    let h = group(1, 0).await;
    let one = Proxy::start(
        &[partition_args(&[&h]), args(&["--workers", "1"])].concat(),
        0,
    );
    one.wait_ready();
    assert_eq!(listening_sockets(port(&one.addr)), 1);
    assert_eq!(h.open[0].load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_learned_on_one_worker_is_used_by_the_other() {
    // Replica 2 leads; the proxy believes replica 1 does until told.
    let g = group(3, 1).await;
    let mut command = std::process::Command::new(BIN);
    command.env("RUST_LOG", "debug");
    let proxy = Proxy::start_with(
        command,
        &[partition_args(&[&g]), args(&["--workers", "2"])].concat(),
        0,
    );
    let r = call(&proxy.addr, INCREMENT, &request("first", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(g.replicas_seen(), [0, 1], "one NOT_LEADER, then the leader");
    // 30 more connections, one call each: whichever worker takes them goes straight
    // to the leader. (All 30 on the first call's worker: odds of 2^-30.)
    for i in 0..30u64 {
        let r = call(
            &proxy.addr,
            INCREMENT,
            &request("next", 2 + i, 1, None, &[]),
        )
        .await;
        assert_eq!(r.code(), 0, "{}", r.message());
    }
    let seen = g.replicas_seen();
    assert_eq!(
        seen.iter().filter(|&&r| r == 0).count(),
        1,
        "the follower was asked again: {seen:?}"
    );
    assert_eq!(g.applied_total(), 31);
    // Both workers served calls.
    let workers: std::collections::BTreeSet<u64> = proxy
        .wait_logged("call", 31)
        .iter()
        .filter_map(|l| l["worker"].as_u64())
        .collect();
    assert_eq!(workers.into_iter().collect::<Vec<_>>(), [0, 1]);
}
