//! atomix-proxy with TLS: tonic clients over TLS to the proxy, the proxy over TLS to
//! replicas, mutual TLS both ways, and the refusals (a client without a certificate, a
//! replica whose certificate expired or that no configured CA signed, files that are
//! missing or wrong).

mod common;

use common::generated::atomix::counter::counter_service_client::CounterServiceClient;
use common::generated::atomix::counter::IncrementRequest;
use common::generated::atomix::headers::RequestHeader;
use common::generated::atomix::primitive::Name;
use common::*;
use std::process::Command;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

fn increment(name: &str, request_id: u64) -> IncrementRequest {
    IncrementRequest {
        header: Some(RequestHeader {
            name: Some(Name {
                name: name.into(),
                namespace: "test".into(),
            }),
            session_id: 1,
            request_id,
            ..Default::default()
        }),
        delta: 1,
    }
}

/// A tonic channel to `addr` over TLS that trusts `pki`'s CA, presenting `identity`.
async fn tls_channel(
    pki: &Pki,
    addr: &str,
    identity: Option<&str>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(pki.read("ca.pem")))
        .domain_name("localhost");
    if let Some(name) = identity {
        tls = tls.identity(Identity::from_pem(
            pki.read(&format!("{name}.pem")),
            pki.read(&format!("{name}.key")),
        ));
    }
    let port = addr.rsplit_once(':').unwrap().1;
    Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

fn upstream_args(pki: &Pki, with_identity: bool) -> Vec<String> {
    let mut a = args(&[
        "--upstream-tls",
        "--upstream-ca",
        &pki.path("ca.pem"),
        "--upstream-server-name",
        "localhost",
    ]);
    if with_identity {
        a.extend(args(&[
            "--upstream-cert",
            &pki.path("client.pem"),
            "--upstream-key",
            &pki.path("client.key"),
        ]));
    }
    a
}

fn listener_args(pki: &Pki, client_ca: bool) -> Vec<String> {
    let mut a = args(&[
        "--tls-cert",
        &pki.path("server.pem"),
        "--tls-key",
        &pki.path("server.key"),
    ]);
    if client_ca {
        a.extend(args(&["--tls-client-ca", &pki.path("ca.pem")]));
    }
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_clients_over_tls_reach_tls_replicas_with_mutual_tls_both_ways() {
    let pki = pki("both-ways");
    // Replicas that require the proxy's client certificate.
    let options = ReplicaOptions {
        tls: Some(server_config(&pki, "server", Some("ca.pem"))),
        ..Default::default()
    };
    let g = group_with(3, 1, options).await;
    let proxy = Proxy::start(
        &[
            partition_args(&[&g]),
            upstream_args(&pki, true),
            listener_args(&pki, true),
        ]
        .concat(),
        0,
    );
    let channel = tls_channel(&pki, &proxy.addr, Some("client"))
        .await
        .expect("a TLS connection with a client certificate");
    let mut client = CounterServiceClient::new(channel);
    for id in 1..=50u64 {
        let response = client
            .increment(increment("tls", id))
            .await
            .expect("the call succeeds over TLS both ways");
        assert_eq!(response.into_inner().header.unwrap().status, 0);
    }
    // The leader (replica 2) applied every call; NOT_LEADER from replica 1 was
    // followed over TLS too.
    assert_eq!(g.applied_total(), 50);
    assert!(
        g.replicas_seen().contains(&0),
        "the first try met the follower"
    );
    // Every request said how it travelled: `:scheme` https.
    assert_eq!(
        g.https.load(std::sync::atomic::Ordering::SeqCst),
        g.arrived.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert!(g.https.load(std::sync::atomic::Ordering::SeqCst) >= 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_refuses_a_client_without_a_certificate() {
    let pki = pki("mtls-refuses");
    let g = group(1, 0).await;
    let proxy = Proxy::start(
        &[
            partition_args(&[&g]),
            listener_args(&pki, true),
            args(&["--metrics", "127.0.0.1:0"]),
        ]
        .concat(),
        0,
    );
    // The metrics listener speaks TLS too, and asks no client certificate (probes and
    // scrapers have none).
    let health = https_get(&pki, proxy.metrics.as_ref().unwrap(), "/healthz").await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    // A client that opens a TCP connection and says nothing does not hold the exit.
    let _silent = tokio::net::TcpStream::connect(&proxy.addr).await.unwrap();
    // No certificate: the handshake (or the first call on it) fails, and nothing
    // reaches the replica.
    let refused = match tls_channel(&pki, &proxy.addr, None).await {
        Err(_) => true,
        Ok(channel) => CounterServiceClient::new(channel)
            .increment(increment("no-cert", 1))
            .await
            .is_err(),
    };
    assert!(refused, "a client without a certificate was served");
    // A certificate from a CA the proxy does not trust is refused as well.
    let stranger = match tls_channel(&pki, &proxy.addr, Some("stranger")).await {
        Err(_) => true,
        Ok(channel) => CounterServiceClient::new(channel)
            .increment(increment("stranger", 1))
            .await
            .is_err(),
    };
    assert!(
        stranger,
        "a client with an untrusted certificate was served"
    );
    assert_eq!(g.applied_total(), 0);
    // A plaintext client gets nowhere either.
    let plain = Channel::from_shared(format!("http://{}", proxy.addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(channel) = plain {
        let r = CounterServiceClient::new(channel)
            .increment(increment("plain", 1))
            .await;
        assert!(r.is_err(), "a plaintext call was served on a TLS listener");
    }
    // With the certificate, the same proxy serves.
    let channel = tls_channel(&pki, &proxy.addr, Some("client"))
        .await
        .unwrap();
    let r = CounterServiceClient::new(channel)
        .increment(increment("with-cert", 1))
        .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(g.applied_total(), 1);
    let mut proxy = proxy;
    let asked = std::time::Instant::now();
    proxy.signal("TERM");
    let status = proxy.wait_exit(std::time::Duration::from_secs(8));
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    assert!(asked.elapsed() < std::time::Duration::from_secs(8));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_that_cannot_be_trusted_fails_the_call_unavailable_naming_it() {
    let pki = pki("untrusted-replica");
    for (cert, why) in [("expired", "expired"), ("stranger", "UnknownIssuer")] {
        let options = ReplicaOptions {
            tls: Some(server_config(&pki, cert, None)),
            ..Default::default()
        };
        let g = group_with(1, 0, options).await;
        let proxy = Proxy::start(
            &[partition_args(&[&g]), upstream_args(&pki, false)].concat(),
            0,
        );
        let mut client = Client::connect(&proxy.addr).await;
        let r = client
            .call(INCREMENT, &request("c", 1, 1, None, &[]), &[])
            .await;
        assert_eq!(r.code(), 14, "{cert}: {}", r.message());
        assert!(r.message().contains(&g.addrs[0]), "{cert}: {}", r.message());
        assert!(r.message().contains("TLS"), "{cert}: {}", r.message());
        let logged = proxy.wait_logged("TLS handshake with a replica failed", 1);
        let error = logged
            .first()
            .and_then(|l| l["error"].as_str())
            .unwrap_or_default()
            .to_owned();
        assert!(
            error.to_lowercase().contains(&why.to_lowercase()),
            "{cert}: the log says why: {error:?}"
        );
        assert_eq!(g.applied_total(), 0);
        if cert == "expired" {
            // Each worker's probe tries every second; the reason is logged once.
            tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
            let lines = proxy.logged("TLS handshake with a replica failed");
            assert_eq!(lines.len(), 1, "{lines:?}");
        }
    }
}

#[test]
fn bad_or_missing_files_stop_the_start_naming_the_file() {
    let pki = pki("bad-files");
    let not_pem = pki.path("not-pem.pem");
    std::fs::write(&not_pem, "this is no certificate\n").unwrap();
    let missing = pki.path("missing.pem");
    for (extra, needle) in [
        (
            args(&["--tls-cert", &missing, "--tls-key", &pki.path("server.key")]),
            missing.clone(),
        ),
        (
            args(&["--tls-cert", &not_pem, "--tls-key", &pki.path("server.key")]),
            not_pem.clone(),
        ),
        (
            // A key that is not the certificate's.
            args(&[
                "--tls-cert",
                &pki.path("server.pem"),
                "--tls-key",
                &pki.path("client.key"),
            ]),
            pki.path("server.pem"),
        ),
        (
            args(&["--upstream-tls", "--upstream-ca", &missing]),
            missing.clone(),
        ),
        (
            args(&[
                "--tls-cert",
                &pki.path("server.pem"),
                "--tls-key",
                &pki.path("server.key"),
                "--tls-client-ca",
                &not_pem,
            ]),
            not_pem.clone(),
        ),
    ] {
        let out = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--partition", "127.0.0.1:1"])
            .args(&extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(stderr.contains(&needle), "{extra:?}: {stderr}");
    }
    // Options that do not go together are usage errors (exit 2).
    for extra in [
        args(&["--tls-cert", &pki.path("server.pem")]),
        args(&["--tls-client-ca", &pki.path("ca.pem")]),
        args(&["--upstream-ca", &pki.path("ca.pem")]),
        args(&["--upstream-tls"]),
    ] {
        let out = Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--partition", "127.0.0.1:1"])
            .args(&extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}");
    }
}

/// GET `path` over TLS from `addr`, trusting `pki`'s CA, with no client certificate.
async fn https_get(pki: &Pki, addr: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tls = tls_connect(pki, addr).await;
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tls.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}
