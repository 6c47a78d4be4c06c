//! `atomix-proxy`: a gRPC proxy in front of an Atomix cluster. Every call is routed to
//! its partition's leader by the Atomix Go client's rule (`atomix_headers::partition`),
//! NOT_LEADER is followed to the leader it names, and everything else of the call
//! (metadata, messages, trailers) passes through as it came.
//!
//! One thread serves everything (tokio's current-thread runtime): a call costs no
//! cross-thread wake-up, and a second core is better spent on a second process.

mod attempt;
mod body;
mod call;
mod config;
mod health;
mod leaders;
mod metrics;
mod peer_settings;
mod proxy;
mod readiness;
mod relay;
mod respond;
mod server;
mod sessions;
mod status;
mod upstream;
mod waiters;

use clap::Parser;

// A call allocates a few dozen small objects (frames, header maps, stream slots) in
// the HTTP/2 stack; mimalloc serves them from per-size free lists.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use config::{Config, LogFormat};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let args = match config::Args::try_parse() {
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
    let config = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    init_logs(config.log_format);
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
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
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

fn init_logs(format: LogFormat) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let directives = log_directives(std::env::var("RUST_LOG").ok().as_deref());
    let filter = EnvFilter::try_new(&directives)
        .unwrap_or_else(|_| EnvFilter::new("warn,atomix_proxy=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.with_target(false).init(),
        LogFormat::Json => builder.json().flatten_event(true).with_target(true).init(),
    }
}

/// `RUST_LOG` as an `EnvFilter`: a bare level (`debug`) is the proxy's own level, and
/// its dependencies stay at warn unless a directive names them (`h2=debug`), so that
/// `RUST_LOG=debug` gives the proxy's lines, not one per HTTP/2 frame.
fn log_directives(rust_log: Option<&str>) -> String {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let mut out = vec!["warn".to_owned()];
    let mut own = "atomix_proxy=info".to_owned();
    for d in rust_log.unwrap_or_default().split(',').map(str::trim) {
        if d.is_empty() {
            continue;
        }
        if LEVELS.contains(&d.to_ascii_lowercase().as_str()) {
            own = format!("atomix_proxy={d}");
        } else {
            out.push(d.to_owned());
        }
    }
    out.insert(1, own);
    out.join(",")
}

async fn run(config: Config) -> Result<(), String> {
    let metrics = Arc::new(metrics::Metrics::new());
    let proxy = proxy::Proxy::new(config.clone(), metrics.clone())?;
    // Bind everything before serving anything: a listener that cannot be had is a
    // start-up failure, not a partition silently missing.
    let main = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let mut listeners = vec![(main, None)];
    for (i, p) in config.partitions.iter().enumerate() {
        if let Some(addr) = p.listen {
            let l = TcpListener::bind(addr)
                .await
                .map_err(|e| format!("cannot listen on {addr} (partition {}): {e}", i + 1))?;
            listeners.push((l, Some(i)));
        }
    }
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
        tokio::spawn(metrics::serve(l, metrics, proxy.serving.clone(), ready));
    }
    for (listener, pinned) in listeners {
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        match pinned {
            None => tracing::info!(
                %address,
                partitions = config.partitions.len(),
                "listening"
            ),
            Some(p) => tracing::info!(%address, partition = p + 1, "listening for one partition"),
        }
        tokio::spawn(server::accept_loop(proxy.clone(), listener, pinned));
    }

    tokio::spawn(readiness::probe(proxy.clone()));
    wait_for_signal().await?;
    tracing::info!(drain_timeout = ?config.drain_timeout, "draining: no new connections, in-flight calls finish");
    proxy.serving.store(false, Ordering::Relaxed);
    proxy.shutdown.cancel();
    proxy.tracker.close();
    tokio::select! {
        _ = proxy.tracker.wait() => {}
        _ = tokio::time::sleep(config.drain_timeout) => {
            tracing::info!("drain time is up: ending open streams");
            proxy.streams_end.cancel();
            // Unary calls still run to their own deadline, bounded by --timeout.
            let grace = config.timeout + Duration::from_secs(1);
            if tokio::time::timeout(grace, proxy.tracker.wait()).await.is_err() {
                tracing::warn!("calls still open after the drain; exiting anyway");
            }
        }
    }
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot watch SIGINT: {e}"))?;
    // SIGHUP's default action ends a process; here it is caught and logged, so that an
    // operator's or a supervisor's reload signal does not drop every call.
    let mut hup = signal(SignalKind::hangup()).map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM"); return Ok(()) }
            _ = int.recv() => { tracing::info!("SIGINT"); return Ok(()) }
            _ = hup.recv() => tracing::info!("SIGHUP: there is nothing to reload; serving on"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::log_directives;

    #[test]
    fn a_bare_level_is_the_proxys_own() {
        assert_eq!(log_directives(None), "warn,atomix_proxy=info");
        assert_eq!(log_directives(Some("debug")), "warn,atomix_proxy=debug");
        assert_eq!(
            log_directives(Some("h2=trace, DEBUG")),
            "warn,atomix_proxy=DEBUG,h2=trace"
        );
    }
}
