//! `atomix-proxy`: a gRPC proxy in front of an Atomix cluster. Every call is routed to
//! its partition's leader by the Atomix Go client's rule (`atomix_headers::partition`),
//! NOT_LEADER is followed to the leader it names, and everything else of the call
//! (metadata, messages, trailers) passes through as it came.
//!
//! `--workers` threads serve clients, each a current-thread runtime with its own
//! listening sockets (SO_REUSEPORT: the kernel spreads connections over them) and its
//! own replica connections: a call costs no cross-thread wake-up. The main thread
//! watches signals, serves metrics, reloads and drains.

mod attempt;
mod body;
mod call;
mod call_metrics;
mod config;
mod health;
mod leaders;
mod logs;
mod metrics;
mod peer_settings;
mod proxy;
mod readiness;
mod relay;
mod reload;
mod respond;
mod server;
mod sessions;
mod status;
mod tls;
mod upstream;
mod waiters;
mod worker;

use clap::Parser;

// A call allocates a few dozen small objects (frames, header maps, stream slots) in
// the HTTP/2 stack; mimalloc serves them from per-size free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use config::{Args, Config};
use proxy::Proxy;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            return usage_error(&one_line(&e.to_string()));
        }
    };
    let config = match Config::from_args(args.clone()) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    if let Err(e) = logs::filter(config.log_level.as_deref()) {
        return usage_error(&e);
    }
    if args.check {
        return check(config);
    }
    let logs = logs::init(config.log_format, config.log_level.as_deref());
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args, config, logs)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `--check`: whether `config` would serve, its certificates read and checked as
/// at start-up, without binding anything.
fn check(config: Config) -> ExitCode {
    let labels: Vec<&'static str> = vec![""; config.partitions.len()];
    match proxy::Live::build(config, &labels, None) {
        Ok(_) => {
            println!("atomix-proxy: the configuration is good");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("atomix-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// clap's error as one line: its reason without the usage block that follows.
fn one_line(text: &str) -> String {
    let reason = text.split("\n\nUsage:").next().unwrap_or(text);
    let reason = reason
        .split("\n\nFor more information")
        .next()
        .unwrap_or(reason);
    let words: Vec<&str> = reason.split_whitespace().collect();
    words.join(" ").trim_start_matches("error: ").to_owned()
}

fn usage_error(reason: &str) -> ExitCode {
    eprintln!("atomix-proxy: {reason} (see atomix-proxy --help)");
    ExitCode::from(2)
}

/// A listening socket that other sockets may share (SO_REUSEPORT): each worker has its
/// own, and the kernel spreads new connections over them.
fn listen_shared(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// Each worker's sockets: the main listener, then each partition's own (with its
/// partition). The first worker's socket fixes the port (`:0` picks one), and the
/// others bind that port.
type Sockets = Vec<(std::net::TcpListener, Option<usize>)>;

fn bind_all(config: &Config) -> Result<Vec<Sockets>, String> {
    let mut wanted = vec![(config.listen, None)];
    for (i, p) in config.partitions.iter().enumerate() {
        if let Some(addr) = p.listen {
            wanted.push((addr, Some(i)));
        }
    }
    let mut workers: Vec<Sockets> = (0..config.workers).map(|_| Vec::new()).collect();
    for (addr, pinned) in wanted {
        let what = match pinned {
            None => String::new(),
            Some(p) => format!(" (partition {})", p + 1),
        };
        let fail = |e: std::io::Error| format!("cannot listen on {addr}{what}: {e}");
        let first = listen_shared(addr).map_err(fail)?;
        let bound = first.local_addr().map_err(fail)?;
        match pinned {
            None => tracing::info!(
                address = %bound,
                partitions = config.partitions.len(),
                workers = config.workers,
                "listening"
            ),
            Some(p) => {
                tracing::info!(address = %bound, partition = p + 1, "listening for one partition")
            }
        }
        workers[0].push((first, pinned));
        for sockets in workers.iter_mut().skip(1) {
            sockets.push((listen_shared(bound).map_err(fail)?, pinned));
        }
    }
    Ok(workers)
}

async fn run(args: Args, config: Config, logs: logs::Handle) -> Result<(), String> {
    let metrics = Arc::new(metrics::Metrics::new(config.workers));
    let proxy = Proxy::new(config.clone(), metrics.clone())?;
    // Bind everything before serving anything: a listener that cannot be had is a
    // start-up failure, not a partition silently missing. (The metrics address is
    // logged first: "listening" tells a supervisor the proxy is up.)
    if let Some(addr) = config.metrics {
        let l = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
        tracing::info!(address = %l.local_addr().map_err(|e| e.to_string())?, "metrics at /metrics");
        let ready = {
            let proxy = proxy.clone();
            move || {
                let missing = readiness::unreachable(&proxy);
                (
                    proxy.serving.load(Ordering::Relaxed) && missing.is_empty(),
                    missing,
                )
            }
        };
        let tls = {
            let proxy = proxy.clone();
            move || proxy.now().metrics_tls.clone()
        };
        tokio::spawn(metrics::serve(
            l,
            metrics,
            proxy.serving.clone(),
            ready,
            tls,
        ));
    }
    let sockets = bind_all(&config)?;
    let workers = sockets
        .into_iter()
        .enumerate()
        .map(|(n, sockets)| start_worker(proxy.clone(), n, sockets))
        .collect::<Result<Vec<_>, String>>()?;

    wait_for_signal(&proxy, &args, &logs).await?;
    let drain_timeout = proxy.now().config.drain_timeout;
    tracing::info!(
        ?drain_timeout,
        "draining: no new connections, in-flight calls finish"
    );
    proxy.serving.store(false, Ordering::Relaxed);
    proxy.shutdown.cancel();
    proxy.tracker.close();
    tokio::select! {
        _ = proxy.tracker.wait() => {}
        _ = tokio::time::sleep(drain_timeout) => {
            tracing::info!("drain time is up: ending open streams");
            proxy.streams_end.cancel();
            // Unary calls still run to their own deadline, bounded by --timeout.
            let grace = proxy.now().config.timeout + Duration::from_secs(1);
            if tokio::time::timeout(grace, proxy.tracker.wait()).await.is_err() {
                tracing::warn!("calls still open after the drain; exiting anyway");
            }
        }
    }
    proxy.exit.cancel();
    for worker in workers {
        if worker.join().is_err() {
            tracing::warn!("a worker ended in a panic");
        }
    }
    tracing::info!("stopped");
    Ok(())
}

/// Worker `n`: a thread with a current-thread runtime that accepts on its own sockets
/// and runs the connections it accepts, until the proxy exits.
fn start_worker(
    proxy: Arc<Proxy>,
    n: usize,
    sockets: Sockets,
) -> Result<std::thread::JoinHandle<()>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start worker {n}'s runtime: {e}"))?;
    std::thread::Builder::new()
        .name(format!("atomix-proxy-{n}"))
        .spawn(move || {
            worker::enter(n);
            runtime.block_on(async move {
                for (socket, pinned) in sockets {
                    match TcpListener::from_std(socket) {
                        Ok(l) => {
                            tokio::spawn(server::accept_loop(proxy.clone(), l, pinned));
                        }
                        Err(e) => {
                            tracing::error!(worker = n, error = %e, "cannot serve a listener")
                        }
                    }
                }
                tokio::spawn(readiness::probe(proxy.clone()));
                proxy.exit.cancelled().await;
            });
        })
        .map_err(|e| format!("cannot start worker {n}: {e}"))
}

/// How often `--watch` looks at the configuration's files.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

async fn wait_for_signal(proxy: &Proxy, args: &Args, logs: &logs::Handle) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    // --watch: the files are looked at every WATCH_INTERVAL; a change in any reloads.
    // Taken from the configuration in force, so a reload may turn it on or off.
    let watching = || {
        let now = proxy.now();
        now.config.watch.then(|| reload::fingerprint(&now.config))
    };
    let mut watched = watching();
    let mut tick = tokio::time::interval(WATCH_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let why = tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM"); return Ok(()) }
            _ = int.recv() => { tracing::info!("SIGINT"); return Ok(()) }
            _ = hup.recv() => "SIGHUP",
            _ = tick.tick(), if watched.is_some() => {
                let now = reload::fingerprint(&proxy.now().config);
                if watched.as_ref() == Some(&now) {
                    continue;
                }
                "a configuration file changed"
            }
        };
        match reload::reload(proxy, args, logs) {
            Ok(changes) => tracing::info!(%changes, "{why}: reloaded"),
            Err(reason) => {
                tracing::error!(%reason, "{why}: reload refused; the configuration before it stays")
            }
        }
        // The files of the configuration now in force (a reload may name others).
        watched = watching();
    }
}
