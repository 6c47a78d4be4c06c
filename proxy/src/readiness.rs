//! Readiness: whether every partition has a replica the proxy can reach. A partition
//! without one fails every call routed to it, so a load balancer or Kubernetes should
//! send no client here meanwhile (`/ready`, and gRPC health). Liveness (`/healthz`)
//! says only that the process serves.
//!
//! Replica connections are otherwise made when a call needs one; the probe makes one
//! for each partition that has none, so that readiness is known before the first call
//! and comes back without one.

use crate::proxy::Proxy;
use std::sync::Arc;
use std::time::Duration;

/// How often partitions without a live connection are tried.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// The partitions (their labels) with no live replica connection now, on any worker.
pub fn unreachable(proxy: &Proxy) -> Vec<&'static str> {
    proxy
        .now()
        .partitions
        .iter()
        .filter(|p| !p.replicas.iter().any(|r| r.connected()))
        .map(|p| p.label)
        .collect()
}

/// Keeps `Proxy::ready` true exactly while every partition has a live connection to
/// a replica, connecting where there is none, until the shutdown. Every worker runs
/// one, for its own connections; the first worker's says what `ready` is.
pub async fn probe(proxy: Arc<Proxy>) {
    let mut first = true;
    let worker = crate::worker::current();
    loop {
        let live = proxy.live();
        for partition in &live.partitions {
            if partition.replicas.iter().any(|r| r.connected_here()) {
                continue;
            }
            for replica in &partition.replicas {
                if replica.ready(&live.connect).await.is_ok() {
                    break;
                }
            }
        }
        drop(live);
        if worker != 0 {
            tokio::select! {
                _ = proxy.shutdown.cancelled() => return,
                _ = tokio::time::sleep(PROBE_INTERVAL) => {}
            }
            continue;
        }
        let missing = unreachable(&proxy);
        let ready = missing.is_empty();
        // The first probe's answer is logged whatever it is.
        let changed = proxy.ready.send_if_modified(|was| {
            let changed = *was != ready;
            *was = ready;
            changed
        }) || std::mem::take(&mut first);
        if changed && ready {
            tracing::info!("ready: every partition has a reachable replica");
        } else if changed {
            tracing::warn!(
                partitions = ?missing,
                "not ready: these partitions have no reachable replica"
            );
        }
        tokio::select! {
            _ = proxy.shutdown.cancelled() => return,
            _ = tokio::time::sleep(PROBE_INTERVAL) => {}
        }
    }
}
