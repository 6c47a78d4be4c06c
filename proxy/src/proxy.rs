//! The proxy's shared state: its configuration, partitions, routes and metrics, and
//! the tokens and tracker of a shutdown. Every connection and call reads it.

use crate::config::Config;
use crate::metrics::{Metrics, PartitionLabels, RetryLabels};
use crate::sessions::Sessions;
use crate::upstream::{ConnectOptions, Partition};
use atomix_headers::partition::{self, Method};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Weak};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The proxy's state, shared by every connection and call.
pub struct Proxy {
    pub config: Config,
    pub partitions: Vec<Partition>,
    pub metrics: Arc<Metrics>,
    /// Every Atomix method by its path, with its metrics label.
    pub routes: HashMap<String, (Method, &'static str)>,
    /// Service names the health service reports on.
    pub services: Vec<&'static str>,
    /// Cancelled on SIGTERM or SIGINT: stop accepting, GOAWAY every connection.
    pub shutdown: CancellationToken,
    /// Cancelled when the drain time is up: open streams end UNAVAILABLE.
    pub streams_end: CancellationToken,
    /// False from the shutdown on: health answers NOT_SERVING.
    pub serving: Arc<AtomicBool>,
    /// Whether every partition has a reachable replica (`readiness`); false until
    /// the first probe says so.
    pub ready: watch::Sender<bool>,
    /// Every connection and call, for the drain to wait on.
    pub tracker: TaskTracker,
    pub connect: ConnectOptions,
    /// Sessions the proxy holds for its clients.
    pub sessions: Sessions,
    /// This proxy, for the tasks it spawns.
    this: Weak<Proxy>,
    /// The request headers every open call holds, counted as HTTP/2 counts them; at
    /// most `--max-headers-held`.
    pub headers_held: AtomicUsize,
}

impl Proxy {
    pub fn new(config: Config, metrics: Arc<Metrics>) -> Result<Arc<Self>, String> {
        let partitions = config
            .partitions
            .iter()
            .enumerate()
            .map(|(i, p)| Partition::new(i + 1, &p.replicas))
            .collect::<Result<Vec<_>, _>>()?;
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
        for p in &partitions {
            let partition = p.label;
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
            connect: ConnectOptions {
                connect_timeout: config.connect_timeout,
                keepalive: config.keepalive,
            },
            config,
            partitions,
            metrics,
            routes,
            services,
            shutdown: CancellationToken::new(),
            streams_end: CancellationToken::new(),
            serving: Arc::new(AtomicBool::new(true)),
            ready: watch::Sender::new(false),
            tracker: TaskTracker::new(),
            headers_held: AtomicUsize::new(0),
        }))
    }

    /// This proxy, shared: for a task that outlives the call that starts it.
    pub fn this(&self) -> Arc<Proxy> {
        self.this.upgrade().expect("a proxy that serves is alive")
    }
}
