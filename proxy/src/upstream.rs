//! The partitions and their replicas: one pooled HTTP/2 connection per replica and
//! worker, made when first needed and again after it is lost, with PINGs that find a
//! dead one, over TLS when `--upstream-tls` says so.

use crate::peer_settings::{PeerLimit, Watched};
use crate::waiters::Waiters;
use bytes::Bytes;
use h2::client::SendRequest;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// The HTTP/2 window of each upstream stream: what an upstream may send before the
/// proxy passes it on (`relay`), and more than the proxy reads of a response before
/// it relays (`body::FIRST_MESSAGE_HOLD`).
pub const STREAM_WINDOW: u32 = 256 * 1024;

/// Why a replica could not take a request. Nothing was sent to it, so the next replica
/// may be tried.
#[derive(Debug)]
pub struct ConnectError(pub String);

/// One replica of a partition.
pub struct Replica {
    /// `host:port`, as the configuration and NOT_LEADER's `leader` name it.
    pub addr: String,
    pub authority: http::uri::Authority,
    /// Each worker's pooled connection (`worker::current`): a worker's calls use its
    /// own, so no lock is contended. The connection's task empties the slot when the
    /// connection ends, if the slot still holds it (the same generation).
    conns: Box<[Slot]>,
    /// Numbers the replica's connections, across workers.
    generation: AtomicU64,
    /// Taken out of the configuration by a reload: a call that started before may
    /// still connect, but the connection is not pooled.
    retired: AtomicBool,
    /// The last TLS handshake failure logged (its text less digits), until a
    /// handshake succeeds.
    tls_failure: Mutex<Option<String>>,
}

/// A worker's pooled connection to a replica, on cache lines of its own: another
/// worker's calls never touch them.
#[repr(align(128))]
struct Slot(Mutex<Option<Pooled>>);

/// One partition: its replicas and which one is believed to lead. Every worker shares
/// it, so a leader one worker learns is the one every worker calls next.
pub struct Partition {
    /// 1..n, as Atomix numbers partitions; the metrics' label.
    pub label: &'static str,
    pub replicas: Vec<Arc<Replica>>,
    leader: AtomicUsize,
}

impl Replica {
    /// A replica with no connection yet, for `workers` workers.
    pub fn new(addr: &str, workers: usize) -> Result<Arc<Self>, String> {
        let authority = addr.parse().map_err(|e| format!("replica {addr:?}: {e}"))?;
        Ok(Arc::new(Replica {
            addr: addr.to_owned(),
            authority,
            conns: (0..workers.max(1))
                .map(|_| Slot(Mutex::new(None)))
                .collect(),
            generation: AtomicU64::new(0),
            retired: AtomicBool::new(false),
            tls_failure: Mutex::new(None),
        }))
    }

    /// This worker's pooled connection.
    fn conn(&self) -> &Mutex<Option<Pooled>> {
        &self.conns[crate::worker::current() % self.conns.len()].0
    }
}

impl Partition {
    /// Partition `label` of `replicas`, `leader` believed to lead.
    pub fn new(label: &'static str, replicas: Vec<Arc<Replica>>, leader: usize) -> Self {
        Partition {
            label,
            replicas,
            leader: AtomicUsize::new(leader),
        }
    }

    pub fn leader(&self) -> usize {
        self.leader.load(Ordering::Relaxed)
    }

    /// Makes `replica` the leader; whether that changed anything.
    pub fn set_leader(&self, replica: usize) -> bool {
        self.leader.swap(replica, Ordering::Relaxed) != replica
    }

    /// The configured replica named `addr`, spelled as the configuration is
    /// (`config::canonical_replica`: `A:01` is `a:1`).
    pub fn find(&self, addr: &str) -> Option<usize> {
        let found = self.replicas.iter().position(|r| r.addr == addr);
        found.or_else(|| {
            let canonical = crate::config::canonical_replica(addr).ok()?;
            self.replicas.iter().position(|r| r.addr == canonical)
        })
    }
}

/// A replica connection, ready to open a stream.
#[derive(Clone)]
pub struct Pooled {
    generation: u64,
    pub send: SendRequest<Bytes>,
    /// What the replica allows of a request's header list.
    pub header_limit: PeerLimit,
    pub streams: Arc<Streams>,
}

/// The streams the proxy has open on one connection, against the replica's
/// SETTINGS_MAX_CONCURRENT_STREAMS. h2 queues a request past that limit and sends it
/// when a stream frees, even if its call was cancelled meanwhile; the proxy waits
/// here instead, where a cancelled call leaves without a trace.
#[derive(Default)]
pub struct Streams {
    open: AtomicUsize,
    freed: Waiters,
}

/// One of a connection's streams, held from before the request is sent until the
/// answer is dropped.
pub struct StreamSlot(Arc<Streams>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::Relaxed);
        self.0.freed.wake_one();
    }
}

impl Streams {
    /// Waits until the replica behind `send` takes one more stream.
    pub async fn slot(this: &Arc<Self>, send: &SendRequest<Bytes>) -> StreamSlot {
        let take = || {
            let max = send.current_max_send_streams();
            let taken = this
                .open
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                    (open < max).then_some(open + 1)
                });
            taken.ok().map(|_| StreamSlot(this.clone()))
        };
        // Taken at once almost always: the common path builds no waiting future.
        match take() {
            Some(slot) => slot,
            None => this.freed.until(take).await,
        }
    }
}

impl Pooled {
    /// Which of the replica's connections this is.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

/// How replica connections are made and watched.
#[derive(Clone)]
pub struct ConnectOptions {
    pub connect_timeout: Duration,
    pub keepalive: Duration,
    /// TLS toward replicas, when configured.
    pub tls: Option<crate::tls::Upstream>,
}

impl Replica {
    /// A handle ready to open a stream: the pooled connection, or a new one. Errors
    /// mean nothing was sent.
    pub async fn ready(self: &Arc<Self>, options: &ConnectOptions) -> Result<Pooled, ConnectError> {
        let pooled = self.conn().lock().expect("not poisoned").clone();
        if let Some(mut pooled) = pooled {
            match pooled.send.clone().ready().await {
                Ok(send) => {
                    pooled.send = send;
                    return Ok(pooled);
                }
                Err(e) => {
                    tracing::debug!(replica = %self.addr, error = %e, "pooled connection gone");
                    self.forget(pooled.generation);
                }
            }
        }
        // Boxed: the handshake future is large and rarely needed, and inline it
        // would make every call's future (copied when spawned) as large.
        let mut pooled = Box::pin(self.connect(options)).await?;
        pooled.send = pooled
            .send
            .ready()
            .await
            .map_err(|e| ConnectError(format!("{}: {e}", self.addr)))?;
        Ok(pooled)
    }

    /// Whether this worker has a live connection to the replica now.
    pub fn connected_here(&self) -> bool {
        self.conn().lock().expect("not poisoned").is_some()
    }

    /// Whether the replica has a live connection now, on any worker.
    pub fn connected(&self) -> bool {
        self.conns
            .iter()
            .any(|c| c.0.lock().expect("not poisoned").is_some())
    }

    /// Drops the pooled connection of `generation` (`Pooled::generation`), if it is
    /// still the pooled one: the next call connects anew.
    pub fn forget(&self, generation: u64) {
        for conn in self.conns.iter() {
            let mut slot = conn.0.lock().expect("not poisoned");
            if slot.as_ref().is_some_and(|p| p.generation == generation) {
                *slot = None;
            }
        }
    }

    /// Drops every worker's pooled connection: a replica no longer configured. Calls
    /// still on a connection finish on it; it closes when they have.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
        for conn in self.conns.iter() {
            conn.0.lock().expect("not poisoned").take();
        }
    }

    async fn connect(self: &Arc<Self>, options: &ConnectOptions) -> Result<Pooled, ConnectError> {
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            ConnectError(format!("{}: {what}: {e}", self.addr))
        };
        let connect = async {
            let tcp = TcpStream::connect(self.addr.as_str())
                .await
                .map_err(|e| fail("connect", &e))?;
            let _ = tcp.set_nodelay(true);
            let Some(tls) = &options.tls else {
                return self.handshake(tcp, options).await;
            };
            let name = tls.name_of(&self.addr).map_err(|e| fail("TLS", &e))?;
            let stream = tls.connector.connect(name, tcp).await.map_err(|e| {
                // The reason (an expired or untrusted certificate, say) is the
                // operator's to fix: logged, and named in the call's status. Each
                // worker's probe tries every second, so a reason is logged when it
                // changes, not at every try. Reasons are compared without their
                // digits: an expired certificate's names the time of each try.
                let reason = e.to_string();
                let kind: String = reason.chars().filter(|c| !c.is_ascii_digit()).collect();
                let mut last = self.tls_failure.lock().expect("not poisoned");
                if last.as_deref() != Some(kind.as_str()) {
                    tracing::warn!(replica = %self.addr, error = %reason, "TLS handshake with a replica failed");
                    *last = Some(kind);
                }
                fail("TLS handshake", &e)
            })?;
            self.tls_failure.lock().expect("not poisoned").take();
            self.handshake(stream, options).await
        };
        tokio::time::timeout(options.connect_timeout, connect)
            .await
            .map_err(|_| {
                fail(
                    "connect",
                    &format!("no answer within {:?}", options.connect_timeout),
                )
            })?
    }

    /// HTTP/2 over `io`, and the connection's task.
    async fn handshake<T>(
        self: &Arc<Self>,
        io: T,
        options: &ConnectOptions,
    ) -> Result<Pooled, ConnectError>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (io, header_limit) = Watched::new(io);
        let (send, mut connection) = h2::client::Builder::new()
            // Bounds what a stream whose client reads slowly can hold here: the
            // upstream may send this much before the proxy passes it on.
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(4 << 20)
            .handshake::<_, Bytes>(io)
            .await
            .map_err(|e| ConnectError(format!("{}: HTTP/2 handshake: {e}", self.addr)))?;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let pooled = Pooled {
            generation,
            send,
            header_limit,
            streams: Arc::default(),
        };
        if !self.retired.load(Ordering::Relaxed) {
            *self.conn().lock().expect("not poisoned") = Some(pooled.clone());
        }
        tracing::debug!(replica = %self.addr, "connected");
        let addr = self.addr.clone();
        let ping_pong = connection.ping_pong();
        // The connection's task ends when it fails or every handle is dropped; a PING
        // unanswered for a keepalive interval ends it too, so that a replica that went
        // silent fails its calls instead of holding them.
        let keepalive = options.keepalive;
        let slot = self.clone();
        tokio::spawn(async move {
            let watch = async move {
                let Some(mut ping_pong) = ping_pong else {
                    return std::future::pending::<String>().await;
                };
                loop {
                    tokio::time::sleep(keepalive).await;
                    match tokio::time::timeout(keepalive, ping_pong.ping(h2::Ping::opaque())).await
                    {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return format!("PING failed: {e}"),
                        Err(_) => return format!("PING unanswered for {keepalive:?}"),
                    }
                }
            };
            let reason = tokio::select! {
                result = &mut connection => match result {
                    Ok(()) => "closed".to_owned(),
                    Err(e) => e.to_string(),
                },
                reason = watch => reason,
            };
            tracing::debug!(replica = %addr, %reason, "connection ended");
            slot.forget(generation);
        });
        Ok(pooled)
    }
}
