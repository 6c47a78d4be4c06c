//! atomix-proxy reloading its configuration on SIGHUP: replicas added and removed with
//! calls in flight, the log filter, certificates, and configurations refused whole.

mod common;

use common::*;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// A config file for this test, rewritten by `write`.
struct File(PathBuf);

impl File {
    fn new(test: &str) -> File {
        File(std::env::temp_dir().join(format!(
            "atomix-proxy-reload-{test}-{}.toml",
            std::process::id()
        )))
    }
    fn write(&self, text: &str) {
        std::fs::write(&self.0, text).unwrap();
    }
    fn arg(&self) -> Vec<String> {
        args(&["--config", self.0.to_str().unwrap()])
    }
}

fn toml_partition(replicas: &[&str]) -> String {
    format!("partition = [\"{}\"]\n", replicas.join(","))
}

/// The value of the metric line that starts with `prefix`.
fn metric(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {prefix} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_adds_and_removes_replicas_with_calls_in_flight() {
    // Replica 2 leads; the proxy is configured with replicas 2 and 1.
    let g = group(3, 1).await;
    let file = File::new("replicas");
    file.write(&toml_partition(&[&g.addrs[1], &g.addrs[0]]));
    let proxy = Proxy::start(
        &[
            file.arg(),
            args(&["--metrics", "127.0.0.1:0", "--workers", "2"]),
        ]
        .concat(),
        0,
    );
    proxy.wait_ready();
    // Five slow calls (700 ms each at the leader) in flight on two connections.
    let mut in_flight = Vec::new();
    for i in 0..5u64 {
        let addr = proxy.addr.clone();
        in_flight.push(tokio::spawn(async move {
            call(&addr, INCREMENT, &request("slow", 10 + i, 1, None, &[])).await
        }));
    }
    wait_until(
        "the slow calls reach the leader",
        Duration::from_secs(5),
        || g.arrived.load(Ordering::SeqCst) >= 5,
    )
    .await;
    // An election: replica 3 leads. The operator replaces replica 2 with replica 3.
    g.leader.store(2, Ordering::SeqCst);
    file.write(&toml_partition(&[&g.addrs[0], &g.addrs[2]]));
    proxy.signal("HUP");
    let reloaded = proxy.wait_logged("SIGHUP: reloaded", 1);
    assert_eq!(reloaded.len(), 1, "{:?}", proxy.logged("SIGHUP"));
    let changes = reloaded[0]["changes"].as_str().unwrap().to_owned();
    assert!(changes.contains(&format!("+{}", g.addrs[2])), "{changes}");
    assert!(changes.contains(&format!("-{}", g.addrs[1])), "{changes}");
    // Not one call in flight is lost.
    for call in in_flight {
        let r = call.await.unwrap();
        assert_eq!(r.code(), 0, "a call in flight: {}", r.message());
    }
    let seen_by_removed = g.replicas_seen().iter().filter(|&&r| r == 1).count();
    assert_eq!(seen_by_removed, 5);
    // New calls: replica 1 says NOT_LEADER naming replica 3, which is configured now.
    for i in 0..20u64 {
        let r = call(
            &proxy.addr,
            INCREMENT,
            &request("after", 20 + i, 1, None, &[]),
        )
        .await;
        assert_eq!(r.code(), 0, "{}", r.message());
    }
    let seen = g.replicas_seen();
    assert_eq!(
        seen.iter().filter(|&&r| r == 1).count(),
        5,
        "the removed replica got a call: {seen:?}"
    );
    assert!(seen.iter().filter(|&&r| r == 2).count() >= 20, "{seen:?}");
    // The removed replica's connections close, their calls done.
    wait_until(
        "the removed replica's connections close",
        Duration::from_secs(5),
        || g.open[1].load(Ordering::SeqCst) == 0,
    )
    .await;
    let text = proxy.metrics_text().await;
    assert_eq!(
        metric(&text, "atomix_proxy_reloads_total{result=\"ok\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "atomix_proxy_reloads_total{result=\"failed\"}"),
        0.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_that_does_not_load_keeps_the_one_before() {
    let g = group(1, 0).await;
    let h = group(1, 0).await;
    let file = File::new("refused");
    let good = format!("{}log-level = \"info\"\n", toml_partition(&[&g.addrs[0]]));
    file.write(&good);
    let proxy = Proxy::start(
        &[file.arg(), args(&["--metrics", "127.0.0.1:0"])].concat(),
        0,
    );
    let missing = std::env::temp_dir().join("atomix-proxy-reload-no-such.pem");
    let refusals = [
        ("partition = [\"a:1\"\n".to_owned(), "--config"),
        (
            format!("partition = [\"{}\", \"{}\"]\n", g.addrs[0], h.addrs[0]),
            "number of partitions",
        ),
        (
            format!(
                "{}tls-cert = \"{}\"\ntls-key = \"{}\"\n",
                toml_partition(&[&h.addrs[0]]),
                missing.display(),
                missing.display()
            ),
            "atomix-proxy-reload-no-such.pem",
        ),
        (
            format!("{}timeout = \"soon\"\n", toml_partition(&[&h.addrs[0]])),
            "--timeout",
        ),
        (
            format!("{}workers = 3\n", toml_partition(&[&h.addrs[0]])),
            "--workers",
        ),
    ];
    for (n, (text, reason)) in refusals.iter().enumerate() {
        file.write(text);
        proxy.signal("HUP");
        let refused = proxy.wait_logged("reload refused", n + 1);
        assert_eq!(refused.len(), n + 1, "{text}");
        let said = refused[n]["reason"].as_str().unwrap();
        assert!(said.contains(reason), "{text}: {said}");
        // The configuration before serves on: the call goes to g, not h.
        let r = call(
            &proxy.addr,
            INCREMENT,
            &request("c", 1, 1 + n as u64, None, &[]),
        )
        .await;
        assert_eq!(r.code(), 0, "{}", r.message());
        assert_eq!(g.applied_total(), 1 + n as u32);
        assert_eq!(h.applied_total(), 0);
    }
    let text = proxy.metrics_text().await;
    assert_eq!(
        metric(&text, "atomix_proxy_reloads_total{result=\"failed\"}"),
        5.0
    );

    // A good one is taken: the replica and the log filter change.
    assert!(proxy.logged("call").iter().all(|l| l["message"] != "call"));
    file.write(&format!(
        "{}log-level = \"debug\"\n",
        toml_partition(&[&h.addrs[0]])
    ));
    proxy.signal("HUP");
    assert_eq!(proxy.wait_logged("SIGHUP: reloaded", 1).len(), 1);
    let r = call(&proxy.addr, INCREMENT, &request("c", 2, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(h.applied_total(), 1);
    let debug = proxy.wait_logged("call", 1);
    assert!(
        debug.iter().any(|l| l["message"] == "call"),
        "the reloaded log filter shows each call: {debug:?}"
    );
    let text = proxy.metrics_text().await;
    assert_eq!(
        metric(&text, "atomix_proxy_reloads_total{result=\"ok\"}"),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_certificate_serves_the_next_connections() {
    let pki = pki("reload-cert");
    let g = group(1, 0).await;
    let file = File::new("cert");
    let cert = pki.dir.join("live.pem");
    let key = pki.dir.join("live.key");
    std::fs::copy(pki.dir.join("server.pem"), &cert).unwrap();
    std::fs::copy(pki.dir.join("server.key"), &key).unwrap();
    file.write(&format!(
        "{}tls-cert = \"{}\"\ntls-key = \"{}\"\n",
        toml_partition(&[&g.addrs[0]]),
        cert.display(),
        key.display()
    ));
    let proxy = Proxy::start(&file.arg(), 0);
    let before = peer_certificate(&pki, &proxy.addr).await;
    assert_eq!(before, pem_der(&pki.read("server.pem")));
    // Rotated on disk, then SIGHUP.
    std::fs::copy(pki.dir.join("second-server.pem"), &cert).unwrap();
    std::fs::copy(pki.dir.join("second-server.key"), &key).unwrap();
    proxy.signal("HUP");
    assert_eq!(proxy.wait_logged("SIGHUP: reloaded", 1).len(), 1);
    let after = peer_certificate(&pki, &proxy.addr).await;
    assert_eq!(after, pem_der(&pki.read("second-server.pem")));
}

fn pem_der(pem: &[u8]) -> Vec<u8> {
    use pki_types::pem::PemObject;
    pki_types::CertificateDer::from_pem_slice(pem)
        .unwrap()
        .to_vec()
}

/// The certificate the proxy at `addr` presents.
async fn peer_certificate(pki: &Pki, addr: &str) -> Vec<u8> {
    let tls = tls_connect(pki, addr).await;
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_timeout_bounds_the_next_calls() {
    let g = group(1, 0).await;
    let file = File::new("timeout");
    file.write(&format!(
        "{}timeout = \"50ms\"\n",
        toml_partition(&[&g.addrs[0]])
    ));
    let proxy = Proxy::start(&file.arg(), 0);
    // The slow call takes 700 ms at the replica: past 50 ms, within 5 s.
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 4, "{}", r.message());
    file.write(&format!(
        "{}timeout = \"5s\"\n",
        toml_partition(&[&g.addrs[0]])
    ));
    proxy.signal("HUP");
    assert_eq!(proxy.wait_logged("SIGHUP: reloaded", 1).len(), 1);
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reloads_when_the_file_changes() {
    let g = group(1, 0).await;
    let h = group(1, 0).await;
    let file = File::new("watch");
    file.write(&format!("{}watch = true\n", toml_partition(&[&g.addrs[0]])));
    let proxy = Proxy::start(&file.arg(), 0);
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(g.applied_total(), 1);
    // No signal: the file itself changes. (Its modification time moves on: the
    // write comes well after the start.)
    tokio::time::sleep(Duration::from_millis(50)).await;
    file.write(&format!("{}watch = true\n", toml_partition(&[&h.addrs[0]])));
    // --watch looks every 2 s.
    let logged = proxy.wait_logged_within(
        "a configuration file changed: reloaded",
        1,
        Duration::from_secs(8),
    );
    assert_eq!(logged.len(), 1, "{:?}", proxy.logged("reload"));
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(h.applied_total(), 1, "the call went by the new file");
    // A broken file is refused, and the one before stays.
    file.write("partition = [\n");
    // --watch looks every 2 s.
    let logged = proxy.wait_logged_within(
        "a configuration file changed: reload refused",
        1,
        Duration::from_secs(8),
    );
    assert_eq!(logged.len(), 1, "{:?}", proxy.logged("reload"));
    let r = call(&proxy.addr, INCREMENT, &request("c", 1, 3, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    assert_eq!(h.applied_total(), 2);
}
