//! Logs to stderr, as text or JSON lines, with a filter that a reload replaces.

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// Replaces the log filter of a running proxy.
pub type Handle = reload::Handle<EnvFilter, Registry>;

/// Starts logging; `level` is `--log-level`, else `RUST_LOG` is read.
pub fn init(format: LogFormat, level: Option<&str>) -> Handle {
    use std::io::IsTerminal;
    let fallback = EnvFilter::new("warn,atomix_proxy=info");
    let (filter, handle) = reload::Layer::new(filter(level).unwrap_or(fallback));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into a file or a pipe.
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(filter);
    match format {
        LogFormat::Text => registry.with(fmt.with_target(false)).init(),
        LogFormat::Json => registry
            .with(fmt.json().flatten_event(true).with_target(true))
            .init(),
    }
    handle
}

/// The filter `level` (else `RUST_LOG`) says, or why it says none.
pub fn filter(level: Option<&str>) -> Result<EnvFilter, String> {
    let from_env = std::env::var("RUST_LOG").ok();
    let text = level.or(from_env.as_deref());
    EnvFilter::try_new(directives(text)).map_err(|e| format!("--log-level {text:?}: {e}"))
}

/// A `RUST_LOG`-like text as an `EnvFilter`'s directives: a bare level (`debug`) is
/// the proxy's own level, and its dependencies stay at warn unless a directive names
/// them (`h2=debug`), so that `debug` gives the proxy's lines, not one per HTTP/2
/// frame.
pub fn directives(text: Option<&str>) -> String {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let mut out = vec!["warn".to_owned()];
    let mut own = "atomix_proxy=info".to_owned();
    for d in text.unwrap_or_default().split(',').map(str::trim) {
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

#[cfg(test)]
mod tests {
    use super::{directives, filter};

    #[test]
    fn a_bare_level_is_the_proxys_own() {
        assert_eq!(directives(None), "warn,atomix_proxy=info");
        assert_eq!(directives(Some("debug")), "warn,atomix_proxy=debug");
        assert_eq!(
            directives(Some("h2=trace, DEBUG")),
            "warn,atomix_proxy=DEBUG,h2=trace"
        );
    }

    #[test]
    fn a_filter_that_does_not_parse_is_refused_by_name() {
        let e = filter(Some("h2=loud")).unwrap_err();
        assert!(e.contains("--log-level"), "{e}");
        assert!(filter(Some("debug")).is_ok());
    }
}
