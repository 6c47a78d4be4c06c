//! The command line and the TOML file behind `--config`: every flag can be set in the
//! file under the same name (`partition` is a list there), and a flag given on the
//! command line wins over the file.

use clap::Parser;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  # three partitions of three replicas each, clients on 127.0.0.1:5678
  atomix-proxy --listen 127.0.0.1:5678 \\
      --partition 10.0.0.1:5678,10.0.0.2:5678,10.0.0.3:5678 \\
      --partition 10.0.1.1:5678,10.0.1.2:5678,10.0.1.3:5678 \\
      --partition 10.0.2.1:5678,10.0.2.2:5678,10.0.2.3:5678 \\
      --metrics 127.0.0.1:9090

  # two partitions; partition 1 also served alone on 127.0.0.1:7001 (for whole-map
  # calls that name no partition)
  atomix-proxy --partition 127.0.0.1:7001=10.0.0.1:5678,10.0.0.2:5678 --partition 10.0.1.1:5678

  # everything from a file (flags given as well win); --check reads it and exits
  atomix-proxy --check --config proxy.toml
  atomix-proxy --config proxy.toml

  # TLS both ways, clients with certificates (mTLS), 4 worker threads
  atomix-proxy --partition 10.0.0.1:5678,10.0.0.2:5678 --workers 4 \\
      --tls-cert proxy.pem --tls-key proxy.key --tls-client-ca clients-ca.pem \\
      --upstream-tls --upstream-ca atomix-ca.pem

A proxy.toml:
  listen = \"0.0.0.0:5678\"
  partition = [\"10.0.0.1:5678,10.0.0.2:5678\", \"10.0.1.1:5678,10.0.1.2:5678\"]
  timeout = \"5s\"
  metrics = \"0.0.0.0:9090\"

Routing: a partition's own listener first; then header field 6 (partition, from 1);
then the Atomix Go client's rule (FNV-1a 32 of the name, or of the key for map and set
entries). Map and set calls that span every partition (Create, KeepAlive, Close, Size,
Clear, Entries, Events, Iterate) must name their partition when there are several.
Logs go to stderr; RUST_LOG=debug logs every call. SIGHUP reloads the file: replicas,
timeouts, limits, log level and certificates. proxy/deploy/ has a file with every
option and a systemd unit.";

/// The command line. Every option is optional here, so that the file can give it.
#[derive(Parser, Debug, Default, Clone)]
#[command(
    name = "atomix-proxy",
    version,
    about = "A gRPC proxy in front of an Atomix cluster: routes every call to its partition's leader",
    after_help = EXAMPLES
)]
pub struct Args {
    /// Where clients connect [default: 0.0.0.0:5678]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// One partition, in order (the first is partition 1): its replicas, the first
    /// taken as leader until a NOT_LEADER names another; `LISTEN=` also serves that
    /// partition alone on its own address
    #[arg(long = "partition", value_name = "[LISTEN=]REPLICA[,REPLICA...]")]
    pub partitions: Vec<String>,
    /// Bounds a unary call that carries no grpc-timeout [default: 30s]
    #[arg(long, value_name = "DUR")]
    pub timeout: Option<String>,
    /// Bounds connecting to a replica [default: 2s]
    #[arg(long, value_name = "DUR")]
    pub connect_timeout: Option<String>,
    /// After SIGTERM or SIGINT, how long open streams may go on [default: 10s]
    #[arg(long, value_name = "DUR")]
    pub drain_timeout: Option<String>,
    /// Closes a client connection with no call for this long [default: 5m]
    #[arg(long, value_name = "DUR")]
    pub idle_timeout: Option<String>,
    /// HTTP/2 PING interval on replica connections; a PING unanswered as long closes the
    /// connection [default: 10s]
    #[arg(long, value_name = "DUR")]
    pub keepalive: Option<String>,
    /// Serves Prometheus metrics at http://ADDR/metrics [default: off]
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// The largest request message accepted [default: 4194304]
    #[arg(long, value_name = "BYTES")]
    pub max_message_size: Option<usize>,
    /// How many NOT_LEADER redirects one call follows [default: 3]
    #[arg(long, value_name = "N")]
    pub max_redirects: Option<u32>,
    /// The largest header list a client may send with a call, counted as HTTP/2 counts
    /// it (each header's name and value and 32); a larger one is refused with HTTP 431
    /// [default: 16384]
    #[arg(long, value_name = "BYTES")]
    pub max_header_list_size: Option<u32>,
    /// The request headers all open calls together may hold; a call past it is
    /// refused with RESOURCE_EXHAUSTED [default: 8388608]
    #[arg(long, value_name = "BYTES")]
    pub max_headers_held: Option<usize>,
    /// text or json [default: text]
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// What to log, as RUST_LOG says it (`debug`, `info,h2=debug`); a bare level is the
    /// proxy's own. Reloaded on SIGHUP [default: RUST_LOG, else info]
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Threads serving clients, each with its own listening socket (SO_REUSEPORT) and
    /// replica connections [default: the CPUs this process may use]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Serve clients (every listener, and metrics) over TLS with this certificate
    /// chain (PEM)
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by these CAs (PEM) on the client listeners
    /// (mutual TLS)
    #[arg(long, value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Connect to replicas over TLS
    #[arg(long)]
    pub upstream_tls: bool,
    /// The CAs (PEM) that sign the replicas' certificates
    #[arg(long, value_name = "FILE")]
    pub upstream_ca: Option<PathBuf>,
    /// A client certificate chain (PEM) to present to replicas
    #[arg(long, value_name = "FILE")]
    pub upstream_cert: Option<PathBuf>,
    /// The private key of --upstream-cert
    #[arg(long, value_name = "FILE")]
    pub upstream_key: Option<PathBuf>,
    /// The name replicas' certificates are checked against [default: each replica's
    /// host, an IP address checked as one]
    #[arg(long, value_name = "NAME")]
    pub upstream_server_name: Option<String>,
    /// A TOML file with any of the options above
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also reload when the --config file or a certificate or key file changes
    /// (checked every 2 seconds), as on SIGHUP
    #[arg(long)]
    pub watch: bool,
    /// Check the configuration, certificates included, and exit: 0 if it would serve,
    /// else 1 (or 2 for a usage error) with the reason
    #[arg(long)]
    pub check: bool,
}

/// The same options, as the TOML file spells them.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    listen: Option<String>,
    #[serde(alias = "partitions")]
    partition: Option<Vec<String>>,
    timeout: Option<String>,
    connect_timeout: Option<String>,
    drain_timeout: Option<String>,
    idle_timeout: Option<String>,
    keepalive: Option<String>,
    metrics: Option<String>,
    max_message_size: Option<usize>,
    max_redirects: Option<u32>,
    max_header_list_size: Option<u32>,
    max_headers_held: Option<usize>,
    log_format: Option<String>,
    log_level: Option<String>,
    workers: Option<usize>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    upstream_tls: Option<bool>,
    upstream_ca: Option<PathBuf>,
    upstream_cert: Option<PathBuf>,
    upstream_key: Option<PathBuf>,
    upstream_server_name: Option<String>,
    watch: Option<bool>,
}

/// The longest duration any option takes.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The shortest `--keepalive`.
const MIN_KEEPALIVE: Duration = Duration::from_secs(1);

/// One partition as configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionConfig {
    /// Its own listener, if any.
    pub listen: Option<SocketAddr>,
    /// Its replicas, `host:port` as NOT_LEADER names them, in `canonical_replica`'s
    /// spelling.
    pub replicas: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The proxy's settings, checked.
#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub partitions: Vec<PartitionConfig>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub drain_timeout: Duration,
    pub idle_timeout: Duration,
    pub keepalive: Duration,
    pub metrics: Option<SocketAddr>,
    pub max_message_size: usize,
    pub max_redirects: u32,
    pub max_header_list_size: u32,
    pub max_headers_held: usize,
    pub log_format: LogFormat,
    /// `--log-level`, if given here or in the file.
    pub log_level: Option<String>,
    pub workers: usize,
    /// TLS toward clients.
    pub tls: Option<ServerTls>,
    /// TLS toward replicas.
    pub upstream_tls: Option<UpstreamTls>,
    /// Reload when a file the configuration comes from changes.
    pub watch: bool,
    /// `--config`, if given.
    pub file: Option<PathBuf>,
}

/// The files of the listeners' TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTls {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// When set, clients must present a certificate these CAs signed.
    pub client_ca: Option<PathBuf>,
}

/// How replicas are reached over TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamTls {
    pub ca: PathBuf,
    /// The proxy's own certificate and key, for replicas that require one.
    pub identity: Option<(PathBuf, PathBuf)>,
    pub server_name: Option<String>,
}

impl Config {
    /// The settings from the command line and the file it names: a one-line reason when
    /// they do not make a proxy.
    pub fn from_args(args: Args) -> Result<Self, String> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read --config {}: {e}", path.display()))?;
                toml::from_str::<File>(&text).map_err(|e| {
                    let e = e.to_string().replace('\n', " ");
                    format!("--config {}: {}", path.display(), e.trim())
                })?
            }
            None => File::default(),
        };
        let partitions = if args.partitions.is_empty() {
            file.partition.unwrap_or_default()
        } else {
            args.partitions
        };
        if partitions.is_empty() {
            return Err("at least one --partition is needed".into());
        }
        let partitions = partitions
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                parse_partition(spec).map_err(|e| format!("--partition {} ({spec:?}): {e}", i + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if u32::try_from(partitions.len()).is_err() {
            return Err("too many partitions".into());
        }
        let listen = args.listen.or(file.listen);
        let listen = addr("--listen", listen.as_deref().unwrap_or("0.0.0.0:5678"))?;
        let metrics = match args.metrics.or(file.metrics) {
            Some(a) => Some(addr("--metrics", &a)?),
            None => None,
        };
        let dur = |name: &str, flag: Option<String>, file: Option<String>, default: &str| {
            let text = flag.or(file).unwrap_or_else(|| default.to_owned());
            let d = humantime::parse_duration(text.trim())
                .map_err(|e| format!("{name} {text:?}: {e} (say 2s, 500ms, 1m)"))?;
            if d.is_zero() {
                return Err(format!("{name} must be more than 0"));
            }
            // Every duration is added to the clock; a bound keeps that sum from
            // overflowing, and no operator means more than a year.
            if d > MAX_DURATION {
                return Err(format!("{name} {text:?} is more than a year (365d)"));
            }
            Ok(d)
        };
        let log_format = match args.log_format.or(file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(format!("--log-format {other:?}: say text or json")),
        };
        let max_message_size = args
            .max_message_size
            .or(file.max_message_size)
            .unwrap_or(4 << 20);
        if max_message_size == 0 || max_message_size > u32::MAX as usize {
            return Err("--max-message-size must be from 1 to 4294967295".into());
        }
        // gRPC C-core refuses metadata over 16 KiB and hyper's server limit is 16 KiB;
        // Envoy allows 60 KiB. Under 1 KiB no gRPC call's own headers fit.
        let max_header_list_size = args
            .max_header_list_size
            .or(file.max_header_list_size)
            .unwrap_or(16 * 1024);
        if max_header_list_size < 1024 {
            return Err("--max-header-list-size must be at least 1024".into());
        }
        let max_headers_held = args
            .max_headers_held
            .or(file.max_headers_held)
            .unwrap_or(8 << 20);
        if max_headers_held < max_header_list_size as usize {
            return Err("--max-headers-held must be at least --max-header-list-size".into());
        }
        let keepalive = dur("--keepalive", args.keepalive, file.keepalive, "10s")?;
        // A PING must have time to come back: grpc-go refuses keepalive times under
        // 10 s from clients; 1 s is the floor here, for tests and fast detection.
        if keepalive < MIN_KEEPALIVE {
            return Err(format!(
                "--keepalive {keepalive:?} is under {MIN_KEEPALIVE:?}: a PING needs time to come back"
            ));
        }
        let workers = match args.workers.or(file.workers) {
            Some(0) => return Err("--workers must be at least 1".into()),
            Some(n) if n > 1024 => return Err("--workers must be at most 1024".into()),
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let tls = server_tls(
            args.tls_cert.or(file.tls_cert),
            args.tls_key.or(file.tls_key),
            args.tls_client_ca.or(file.tls_client_ca),
        )?;
        let upstream_tls = upstream_tls(
            args.upstream_tls || file.upstream_tls.unwrap_or(false),
            args.upstream_ca.or(file.upstream_ca),
            args.upstream_cert.or(file.upstream_cert),
            args.upstream_key.or(file.upstream_key),
            args.upstream_server_name.or(file.upstream_server_name),
        )?;
        Ok(Config {
            watch: args.watch || file.watch.unwrap_or(false),
            file: args.config.clone(),
            log_level: args.log_level.or(file.log_level),
            workers,
            tls,
            upstream_tls,
            listen,
            partitions,
            timeout: dur("--timeout", args.timeout, file.timeout, "30s")?,
            connect_timeout: dur(
                "--connect-timeout",
                args.connect_timeout,
                file.connect_timeout,
                "2s",
            )?,
            drain_timeout: dur(
                "--drain-timeout",
                args.drain_timeout,
                file.drain_timeout,
                "10s",
            )?,
            idle_timeout: dur("--idle-timeout", args.idle_timeout, file.idle_timeout, "5m")?,
            keepalive,
            metrics,
            max_message_size,
            max_redirects: args.max_redirects.or(file.max_redirects).unwrap_or(3),
            max_header_list_size,
            max_headers_held,
            log_format,
        })
    }
}

/// The listeners' TLS files: a certificate needs its key, and a client CA needs both.
fn server_tls(
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    client_ca: Option<PathBuf>,
) -> Result<Option<ServerTls>, String> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(ServerTls {
            cert,
            key,
            client_ca,
        })),
        (Some(_), None) => Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => Err("--tls-key needs --tls-cert".into()),
        (None, None) if client_ca.is_some() => {
            Err("--tls-client-ca needs --tls-cert and --tls-key".into())
        }
        (None, None) => Ok(None),
    }
}

/// TLS toward replicas: on with `--upstream-tls`, which needs the CA; the other
/// upstream options without it are refused rather than silently unused.
fn upstream_tls(
    on: bool,
    ca: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    server_name: Option<String>,
) -> Result<Option<UpstreamTls>, String> {
    if !on {
        return match (&ca, &cert, &key, &server_name) {
            (None, None, None, None) => Ok(None),
            _ => Err("--upstream-ca, --upstream-cert, --upstream-key and --upstream-server-name need --upstream-tls".into()),
        };
    }
    let ca = ca.ok_or(
        "--upstream-tls needs --upstream-ca: the CA that signs the replicas' certificates",
    )?;
    let identity = match (cert, key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        (Some(_), None) => return Err("--upstream-cert needs --upstream-key".into()),
        (None, Some(_)) => return Err("--upstream-key needs --upstream-cert".into()),
    };
    if let Some(name) = &server_name {
        if pki_types::ServerName::try_from(name.as_str()).is_err() {
            return Err(format!(
                "--upstream-server-name {name:?} is not a DNS name or an IP address"
            ));
        }
    }
    Ok(Some(UpstreamTls {
        ca,
        identity,
        server_name,
    }))
}

fn addr(name: &str, text: &str) -> Result<SocketAddr, String> {
    text.trim()
        .parse()
        .map_err(|e| format!("{name} {text:?}: {e} (say IP:PORT, 127.0.0.1:5678)"))
}

/// `[LISTEN=]REPLICA[,REPLICA...]`.
fn parse_partition(spec: &str) -> Result<PartitionConfig, String> {
    let (listen, replicas) = match spec.split_once('=') {
        Some((listen, replicas)) => (Some(addr("its listener", listen)?), replicas),
        None => (None, spec),
    };
    let replicas = replicas
        .split(',')
        .map(|r| canonical_replica(r.trim()))
        .collect::<Result<Vec<String>, String>>()?;
    let mut seen = replicas.clone();
    seen.sort();
    seen.dedup();
    if seen.len() != replicas.len() {
        return Err("a replica is named twice".into());
    }
    Ok(PartitionConfig { listen, replicas })
}

/// A replica's `host:port` in the one spelling the proxy compares: the host in lower
/// case (DNS names are case-insensitive), the port as a plain number. The host is a DNS
/// name, an IPv4 address, or an IPv6 address in brackets; anything else (a scheme, a
/// path, a space, an unbracketed IPv6 address) is refused. NOT_LEADER's `leader` is
/// read with the same rule, so `A:01` there finds a replica configured as `a:1`.
pub fn canonical_replica(text: &str) -> Result<String, String> {
    let bad = |why: &str| format!("replica {text:?} is not HOST:PORT ({why})");
    let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("no port"))?;
    let port: u16 = match port.parse() {
        Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => p,
        _ => return Err(bad("the port is a number from 1 to 65535")),
    };
    let host = if let Some(inner) = host.strip_prefix('[') {
        let ip = inner
            .strip_suffix(']')
            .and_then(|ip| ip.parse::<std::net::Ipv6Addr>().ok())
            .ok_or_else(|| bad("an IPv6 address goes in brackets: [::1]:5678"))?;
        format!("[{ip}]")
    } else {
        let dns_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if host.is_empty() || host.len() > 253 || !host.split('.').all(dns_label) {
            return Err(bad(if host.contains(':') {
                "an IPv6 address goes in brackets: [::1]:5678"
            } else {
                "the host is a DNS name or an IP address"
            }));
        }
        host.to_ascii_lowercase()
    };
    Ok(format!("{host}:{port}"))
}

#[cfg(test)]
mod tests;
