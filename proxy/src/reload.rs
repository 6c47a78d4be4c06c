//! Reloading on SIGHUP (and with `--watch`, when a file changes): the command line again, with the file it names read anew (a
//! flag still wins over the file). Replicas, timeouts, limits, the log filter and the
//! certificates change; a call in flight finishes with the settings it started with.
//! A replica taken out gets no new call, and its connections close once the calls on
//! them have ended. A configuration that does not parse or validate, or that changes
//! what only a restart can (the listeners, the workers, the number of partitions), is
//! refused whole and the one before it stays.

use crate::config::{Args, Config};
use crate::metrics::ReloadLabels;
use crate::proxy::{Live, Proxy};
use std::sync::Arc;

/// Reloads; what changed, or why nothing did. Counted in `atomix_proxy_reloads`.
pub fn reload(proxy: &Proxy, args: &Args, logs: &crate::logs::Handle) -> Result<String, String> {
    let result = apply(proxy, args, logs);
    let label = if result.is_ok() { "ok" } else { "failed" };
    proxy
        .metrics
        .reloads
        .get_or_create(&ReloadLabels { result: label })
        .inc();
    result
}

fn apply(proxy: &Proxy, args: &Args, logs: &crate::logs::Handle) -> Result<String, String> {
    let config = Config::from_args(args.clone())?;
    let before = proxy.live();
    needs_no_restart(&before.config, &config)?;
    let filter = crate::logs::filter(config.log_level.as_deref())?;
    let live = Live::build(config, &proxy.labels, Some(&before))?;
    let mut changes = Vec::new();
    for (old, new) in before.partitions.iter().zip(&live.partitions) {
        for r in &new.replicas {
            if !old.replicas.iter().any(|o| Arc::ptr_eq(o, r)) {
                changes.push(format!("partition {}: +{}", new.label, r.addr));
            }
        }
        for r in &old.replicas {
            if !new.replicas.iter().any(|n| Arc::ptr_eq(n, r)) {
                changes.push(format!("partition {}: -{}", old.label, r.addr));
                r.retire();
            }
        }
    }
    proxy.swap(live);
    logs.reload(filter)
        .map_err(|e| format!("the log filter: {e}"))?;
    if changes.is_empty() {
        changes.push("no replica changed".into());
    }
    Ok(changes.join(", "))
}

/// The files a configuration comes from (`--config` and the TLS files), each with its
/// modification time and length, or `None` while it cannot be read: a change in any is
/// what `--watch` reloads on.
pub fn fingerprint(config: &Config) -> Vec<Option<(std::time::SystemTime, u64)>> {
    let mut files: Vec<&std::path::Path> = config.file.iter().map(|f| f.as_path()).collect();
    if let Some(tls) = &config.tls {
        files.extend([tls.cert.as_path(), tls.key.as_path()]);
        files.extend(tls.client_ca.as_deref());
    }
    if let Some(tls) = &config.upstream_tls {
        files.push(&tls.ca);
        if let Some((cert, key)) = &tls.identity {
            files.extend([cert.as_path(), key.as_path()]);
        }
    }
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(f).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// Refuses a configuration that only a restart could serve.
fn needs_no_restart(before: &Config, after: &Config) -> Result<(), String> {
    if before.partitions.len() != after.partitions.len() {
        return Err(format!(
            "the number of partitions cannot change on a reload ({} now, {} asked): every key would move to another partition; restart to change it",
            before.partitions.len(),
            after.partitions.len()
        ));
    }
    let listeners = |c: &Config| c.partitions.iter().map(|p| p.listen).collect::<Vec<_>>();
    for (what, same) in [
        ("--listen", before.listen == after.listen),
        (
            "a partition's listener",
            listeners(before) == listeners(after),
        ),
        ("--metrics", before.metrics == after.metrics),
        ("--workers", before.workers == after.workers),
        ("--log-format", before.log_format == after.log_format),
    ] {
        if !same {
            return Err(format!("{what} changed, which needs a restart"));
        }
    }
    Ok(())
}
