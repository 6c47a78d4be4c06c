//! Prometheus metrics, and the small HTTP/1.1 endpoint that serves them at `/metrics`,
//! with `/healthz` (liveness: 200 while serving, 503 while draining) and `/ready`
//! (readiness: 200 while serving and every partition has a reachable replica).

use crate::call_metrics::CallMetrics;
use prometheus_client::encoding::{text::encode, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::exponential_buckets;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// 1..n in the order of `--partition`; empty for a call refused before routing.
    pub partition: &'static str,
    /// `atomix.map.MapService/Put`; `other` for a path that is not an Atomix method.
    pub method: &'static str,
    /// The gRPC code's name.
    pub code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    pub partition: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RetryLabels {
    pub partition: &'static str,
    /// `not_leader` (a redirect to the named leader), `connect` (the next replica,
    /// before the request was sent) or `not_processed` (the same replica again after
    /// REFUSED_STREAM or a GOAWAY below the stream).
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok`, or `failed` (the configuration before it is kept).
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    /// The method's name, `Size` say.
    pub method: &'static str,
}

pub struct Metrics {
    /// Calls ended, by labels, and their durations: per worker (`call_metrics`).
    pub calls: Arc<CallMetrics>,
    pub leader_changes: Family<PartitionLabels, Counter>,
    pub retries: Family<RetryLabels, Counter>,
    /// Calls on the proxy's sessions, by method.
    pub session_calls: Family<MethodLabels, Counter>,
    /// Calls on the proxy's sessions sent to every partition, by method.
    pub fanouts: Family<MethodLabels, Counter>,
    /// Open client sessions, and partition sessions beneath them.
    pub sessions: Gauge,
    pub partition_sessions: Gauge,
    /// Reloads (SIGHUP), by result.
    pub reloads: Family<ReloadLabels, Counter>,
    registry: Registry,
}

impl Metrics {
    /// The metrics of a proxy with `workers` workers.
    pub fn new(workers: usize) -> Self {
        // 50 µs to about 13 s.
        let calls = Arc::new(CallMetrics::new(
            workers,
            exponential_buckets(0.000_05, 2.0, 19),
        ));
        let leader_changes = Family::<PartitionLabels, Counter>::default();
        let retries = Family::<RetryLabels, Counter>::default();
        let session_calls = Family::<MethodLabels, Counter>::default();
        let fanouts = Family::<MethodLabels, Counter>::default();
        let sessions = Gauge::default();
        let partition_sessions = Gauge::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        for result in ["ok", "failed"] {
            reloads.get_or_create(&ReloadLabels { result }).get();
        }
        let mut registry = Registry::default();
        registry.register(
            "atomix_proxy_reloads",
            "Configuration reloads (SIGHUP), by result; a failed one keeps the configuration before it",
            reloads.clone(),
        );
        registry.register(
            "atomix_proxy_session_calls",
            "Calls on sessions the proxy holds for its clients, by method",
            session_calls.clone(),
        );
        registry.register(
            "atomix_proxy_fanout_calls",
            "Calls on the proxy's sessions sent to every partition, by method",
            fanouts.clone(),
        );
        registry.register(
            "atomix_proxy_sessions",
            "Client sessions the proxy holds (each one session on every partition)",
            sessions.clone(),
        );
        registry.register(
            "atomix_proxy_partition_sessions",
            "Partition sessions the proxy holds for its clients",
            partition_sessions.clone(),
        );
        registry.register_collector(Box::new(calls.clone()));
        registry.register(
            "atomix_proxy_leader_changes",
            "Leaders taken from NOT_LEADER responses, by partition",
            leader_changes.clone(),
        );
        registry.register(
            "atomix_proxy_retries",
            "Requests sent again, by partition and reason",
            retries.clone(),
        );
        Metrics {
            calls,
            leader_changes,
            retries,
            session_calls,
            fanouts,
            sessions,
            partition_sessions,
            reloads,
            registry,
        }
    }

    /// Counts a call sent to every partition.
    pub fn fanout(&self, method: &'static str) {
        self.fanouts.get_or_create(&MethodLabels { method }).inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String does not fail");
        out
    }
}

/// Serves `/metrics` until the runtime stops. One request per connection, each bounded
/// in size and time, so a scraper cannot hold the proxy's single thread.
pub async fn serve<R, T>(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    serving: Arc<AtomicBool>,
    ready: R,
    tls: T,
) where
    R: Fn() -> (bool, Vec<&'static str>) + Clone + Send + 'static,
    T: Fn() -> Option<tokio_rustls::TlsAcceptor>,
{
    loop {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(e) => {
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        let serving = serving.clone();
        let ready = ready.clone();
        let tls = tls();
        tokio::spawn(async move {
            let answered = async {
                match tls {
                    None => answer(socket, &metrics, &serving, ready).await,
                    Some(tls) => answer(tls.accept(socket).await?, &metrics, &serving, ready).await,
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), answered).await;
        });
    }
}

async fn answer(
    mut socket: impl AsyncRead + AsyncWrite + Unpin,
    metrics: &Metrics,
    serving: &AtomicBool,
    ready: impl Fn() -> (bool, Vec<&'static str>) + Send,
) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || request.len() + n > 16 * 1024 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
    }
    let line = request.split(|&b| b == b'\r').next().unwrap_or_default();
    let path = line.split(|&b| b == b' ').nth(1).unwrap_or_default();
    let (status, kind, body) = match path {
        b"/metrics" => (
            "200 OK",
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            metrics.render(),
        ),
        b"/healthz" if serving.load(Ordering::Relaxed) => {
            ("200 OK", "text/plain", "SERVING\n".into())
        }
        b"/healthz" => (
            "503 Service Unavailable",
            "text/plain",
            "NOT_SERVING\n".into(),
        ),
        b"/ready" => match ready() {
            (true, _) => ("200 OK", "text/plain", "READY\n".into()),
            (false, missing) if missing.is_empty() => (
                "503 Service Unavailable",
                "text/plain",
                "NOT_READY: draining\n".into(),
            ),
            (false, missing) => (
                "503 Service Unavailable",
                "text/plain",
                format!("NOT_READY: no reachable replica in partitions {missing:?}\n"),
            ),
        },
        _ => ("404 Not Found", "text/plain", "try /metrics\n".into()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    socket.write_all(head.as_bytes()).await?;
    socket.write_all(body.as_bytes()).await?;
    socket.shutdown().await
}
