//! The proxy's shared state: its configuration, partitions, routes and metrics, and
//! the tokens and tracker of a shutdown. Every worker, connection and call reads it.
//! What a reload may change (`Live`) is one snapshot, swapped whole: a call reads the
//! snapshot it started with to its end.

use crate::config::Config;
use crate::metrics::{Metrics, PartitionLabels, RetryLabels};
use crate::sessions::Sessions;
use crate::upstream::{ConnectOptions, Partition, Replica};
use arc_swap::ArcSwap;
use atomix_headers::partition::{self, Method};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Weak};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a reload replaces: the settings, the partitions' replicas, and TLS.
pub struct Live {
    pub config: Config,
    pub partitions: Vec<Partition>,
    pub connect: ConnectOptions,
    /// TLS toward clients on the client listeners.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// TLS on the metrics listener.
    pub metrics_tls: Option<tokio_rustls::TlsAcceptor>,
}

impl Live {
    /// The snapshot `config` makes. Replicas also in `previous` are kept with their
    /// connections, and so is each partition's leader if it is still configured.
    /// (`config.workers` is the number of workers: a reload cannot change it.)
    pub fn build(
        config: Config,
        labels: &[&'static str],
        previous: Option<&Live>,
    ) -> Result<Self, String> {
        let mut partitions = Vec::with_capacity(config.partitions.len());
        for (i, p) in config.partitions.iter().enumerate() {
            let before = previous.and_then(|l| l.partitions.get(i));
            let mut replicas = Vec::with_capacity(p.replicas.len());
            for addr in &p.replicas {
                let kept = before.and_then(|b| b.replicas.iter().find(|r| &r.addr == addr));
                replicas.push(match kept {
                    Some(r) => r.clone(),
                    None => Replica::new(addr, config.workers)?,
                });
            }
            let leader = before
                .and_then(|b| {
                    let addr = &b.replicas[b.leader()].addr;
                    p.replicas.iter().position(|r| r == addr)
                })
                .unwrap_or(0);
            partitions.push(Partition::new(labels[i], replicas, leader));
        }
        let tls = match &config.tls {
            Some(files) => Some(crate::tls::server_config(files)?.into()),
            None => None,
        };
        let metrics_tls = match &config.tls {
            Some(files) => Some(crate::tls::metrics_config(files)?.into()),
            None => None,
        };
        let upstream_tls = match &config.upstream_tls {
            Some(files) => Some(crate::tls::upstream(files)?),
            None => None,
        };
        Ok(Live {
            connect: ConnectOptions {
                connect_timeout: config.connect_timeout,
                keepalive: config.keepalive,
                tls: upstream_tls,
            },
            config,
            partitions,
            tls,
            metrics_tls,
        })
    }
}

/// A worker's handle on the `Live` snapshot. Each worker has its own, so that taking
/// it (once a call) moves a reference count that no other worker touches.
pub struct Snapshot(Arc<Live>);

impl std::ops::Deref for Snapshot {
    type Target = Live;
    fn deref(&self) -> &Live {
        &self.0
    }
}

/// One worker's `Snapshot` and its share of `--max-headers-held`, on cache lines of
/// their own.
#[repr(align(128))]
pub struct PerWorker {
    live: ArcSwap<Snapshot>,
    /// The request headers this worker's open calls hold, counted as HTTP/2 counts
    /// them; at most its share of `--max-headers-held`.
    pub headers_held: AtomicUsize,
}

/// The proxy's state, shared by every worker, connection and call.
pub struct Proxy {
    /// The settings, partitions and TLS now, and headers held, by worker.
    per_worker: Box<[PerWorker]>,
    /// Each partition's label ("1".."n"): the number of partitions never changes.
    pub labels: Vec<&'static str>,
    pub metrics: Arc<Metrics>,
    /// Every Atomix method by its path, with its metrics label.
    pub routes: HashMap<String, (Method, &'static str)>,
    /// Service names the health service reports on.
    pub services: Vec<&'static str>,
    /// Cancelled on SIGTERM or SIGINT: stop accepting, GOAWAY every connection.
    pub shutdown: CancellationToken,
    /// Cancelled when the drain time is up: open streams end UNAVAILABLE.
    pub streams_end: CancellationToken,
    /// Cancelled when the drain is over: the workers stop.
    pub exit: CancellationToken,
    /// False from the shutdown on: health answers NOT_SERVING.
    pub serving: Arc<AtomicBool>,
    /// Whether every partition has a reachable replica (`readiness`); false until
    /// the first probe says so.
    pub ready: watch::Sender<bool>,
    /// Every connection and call, for the drain to wait on.
    pub tracker: TaskTracker,
    /// Sessions the proxy holds for its clients.
    pub sessions: Sessions,
    /// This proxy, for the tasks it spawns.
    this: Weak<Proxy>,
}

impl Proxy {
    pub fn new(config: Config, metrics: Arc<Metrics>) -> Result<Arc<Self>, String> {
        // Leaked once per partition at start-up: labels live as long as the process.
        let labels: Vec<&'static str> = (1..=config.partitions.len())
            .map(|n| &*Box::leak(n.to_string().into_boxed_str()))
            .collect();
        let workers = config.workers;
        let live = Live::build(config, &labels, None)?;
        let mut routes = HashMap::new();
        let mut services = vec![""];
        for m in partition::methods() {
            let path = format!("/{}/{}", m.service, m.name);
            // Leaked once per method at start-up: labels live as long as the process.
            let label: &'static str = Box::leak(path[1..].to_owned().into_boxed_str());
            routes.insert(path, (m, label));
            if !services.contains(&m.service) {
                services.push(m.service);
            }
        }
        // Every partition's series exist from the start, at 0, so that a rate over
        // them is defined before the first leader change.
        for &partition in &labels {
            metrics
                .leader_changes
                .get_or_create(&PartitionLabels { partition })
                .get();
            for reason in ["not_leader", "connect", "not_processed"] {
                metrics
                    .retries
                    .get_or_create(&RetryLabels { partition, reason })
                    .get();
            }
        }
        Ok(Arc::new_cyclic(|this| Proxy {
            this: this.clone(),
            sessions: Sessions::default(),
            per_worker: {
                let live = Arc::new(live);
                (0..workers.max(1))
                    .map(|_| PerWorker {
                        live: ArcSwap::from_pointee(Snapshot(live.clone())),
                        headers_held: AtomicUsize::new(0),
                    })
                    .collect()
            },
            labels,
            metrics,
            routes,
            services,
            shutdown: CancellationToken::new(),
            streams_end: CancellationToken::new(),
            exit: CancellationToken::new(),
            serving: Arc::new(AtomicBool::new(true)),
            ready: watch::Sender::new(false),
            tracker: TaskTracker::new(),
        }))
    }

    /// How many workers serve; fixed at start.
    pub fn workers(&self) -> usize {
        self.per_worker.len()
    }

    /// This worker's state.
    pub fn here(&self) -> &PerWorker {
        &self.per_worker[crate::worker::current() % self.per_worker.len()]
    }

    /// The settings, partitions and TLS now. Held, it stays what it was when taken.
    pub fn live(&self) -> Arc<Snapshot> {
        self.here().live.load_full()
    }

    /// Settings to read at once, without holding them.
    pub fn now(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.here().live.load()
    }

    /// Makes `live` every worker's snapshot.
    pub fn swap(&self, live: Live) {
        let live = Arc::new(live);
        for worker in self.per_worker.iter() {
            worker.live.store(Arc::new(Snapshot(live.clone())));
        }
    }

    /// This proxy, shared: for a task that outlives the call that starts it.
    pub fn this(&self) -> Arc<Proxy> {
        self.this.upgrade().expect("a proxy that serves is alive")
    }
}
