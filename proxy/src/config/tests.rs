//! The options as the command line and the file give them, and what is refused.

use super::*;

fn config(args: &[&str]) -> Result<Config, String> {
    let args = Args::try_parse_from(std::iter::once("atomix-proxy").chain(args.iter().copied()))
        .map_err(|e| e.to_string())?;
    Config::from_args(args)
}

#[test]
fn defaults_and_partitions() {
    let c = config(&[
        "--partition",
        "a:1,b:2",
        "--partition",
        "127.0.0.1:7002=c:3",
    ])
    .unwrap();
    assert_eq!(c.listen, "0.0.0.0:5678".parse().unwrap());
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.drain_timeout, Duration::from_secs(10));
    assert_eq!(c.max_message_size, 4 << 20);
    assert_eq!(c.partitions[0].replicas, ["a:1", "b:2"]);
    assert_eq!(c.partitions[0].listen, None);
    assert_eq!(
        c.partitions[1].listen,
        Some("127.0.0.1:7002".parse().unwrap())
    );
    assert_eq!(c.log_format, LogFormat::Text);
}

#[test]
fn refusals_name_the_option() {
    for (args, needle) in [
        (&["--timeout", "2s"][..], "--partition"),
        (&["--partition", "nohost"], "HOST:PORT"),
        (&["--partition", "a:1,a:1"], "twice"),
        (&["--partition", "a:1", "--timeout", "soon"], "--timeout"),
        (&["--partition", "a:1", "--timeout", "0s"], "--timeout"),
        (&["--partition", "a:1", "--listen", "x"], "--listen"),
        (
            &["--partition", "a:1", "--log-format", "xml"],
            "--log-format",
        ),
        (&["--partition", "bad=a:1"], "listener"),
    ] {
        let e = config(args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn replicas_are_host_port_in_one_spelling() {
    for bad in [
        "a b:1",
        "http://a:1",
        "::1:5000",
        "a:1;b:2",
        "a:0",
        "a:+1",
        "a-:1",
        ":1",
    ] {
        let e = config(&["--partition", bad]).unwrap_err();
        assert!(e.contains("HOST:PORT"), "{bad}: {e}");
    }
    for twice in ["a:1,A:1", "a:01,a:1", "[::1]:1,[0::1]:1"] {
        let e = config(&["--partition", twice]).unwrap_err();
        assert!(e.contains("twice"), "{twice}: {e}");
    }
    let c = config(&["--partition", "Node-1.Example:05678,[::1]:7,10.0.0.1:9"]).unwrap();
    assert_eq!(
        c.partitions[0].replicas,
        ["node-1.example:5678", "[::1]:7", "10.0.0.1:9"]
    );
    assert_eq!(
        canonical_replica("NODE-1.example:5678").unwrap(),
        "node-1.example:5678"
    );
}

#[test]
fn durations_are_bounded() {
    for (args, needle) in [
        (&["--timeout", "18446744073709551615s"][..], "--timeout"),
        (&["--drain-timeout", "400d"], "--drain-timeout"),
        (&["--keepalive", "1ns"], "--keepalive"),
        (&["--keepalive", "999ms"], "--keepalive"),
    ] {
        let args: Vec<&str> = ["--partition", "a:1"].iter().chain(args).copied().collect();
        let e = config(&args).unwrap_err();
        assert!(e.contains(needle), "{args:?}: {e}");
    }
    assert!(config(&[
        "--partition",
        "a:1",
        "--timeout",
        "365d",
        "--keepalive",
        "1s"
    ])
    .is_ok());
}

/// Every command in `--help`'s examples parses as written; `proxy.toml` is the
/// file the help shows.
#[test]
fn help_examples_parse() {
    let (commands, file) = EXAMPLES.split_once("A proxy.toml:").unwrap();
    let file: String = file
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| format!("{}\n", l.trim()))
        .collect();
    let dir = std::env::temp_dir().join(format!("atomix-proxy-help-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml = dir.join("proxy.toml");
    std::fs::write(&toml, &file).unwrap();
    let joined = commands.replace("\\\n", " ");
    let mut n = 0;
    for line in joined.lines().map(str::trim) {
        let Some(rest) = line.strip_prefix("atomix-proxy ") else {
            continue;
        };
        let args: Vec<&str> = rest
            .split_whitespace()
            .map(|a| {
                if a == "proxy.toml" {
                    toml.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect();
        config(&args).unwrap_or_else(|e| panic!("{line}: {e}"));
        n += 1;
    }
    assert_eq!(n, 5, "the examples' commands");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_file_gives_what_flags_do_not() {
    let dir = std::env::temp_dir().join(format!("atomix-proxy-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("proxy.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:1\"\npartition = [\"a:1\", \"b:2\"]\ntimeout = \"5s\"\nlog-format = \"json\"\n",
    )
    .unwrap();
    let p = path.to_str().unwrap();
    let c = config(&["--config", p, "--timeout", "7s"]).unwrap();
    assert_eq!(c.listen, "127.0.0.1:1".parse().unwrap());
    assert_eq!(c.partitions.len(), 2);
    assert_eq!(c.timeout, Duration::from_secs(7), "the flag wins");
    assert_eq!(c.log_format, LogFormat::Json);
    std::fs::write(&path, "timeuot = \"5s\"\n").unwrap();
    let e = config(&["--config", p, "--partition", "a:1"]).unwrap_err();
    assert!(e.contains("timeuot"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// proxy/deploy/atomix-proxy.toml sets every option the command line has, and is a
/// configuration the proxy takes.
#[test]
fn the_deployment_file_sets_every_option() {
    use clap::CommandFactory;
    let text = include_str!("../../deploy/atomix-proxy.toml");
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
        .collect();
    let mut options = 0;
    for arg in Args::command().get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if ["help", "version", "config", "check"].contains(&long) {
            continue;
        }
        options += 1;
        assert!(
            keys.contains(&long),
            "atomix-proxy.toml does not set {long}"
        );
    }
    assert!(options >= 20, "{options} options: the loop saw the flags");
    let dir = std::env::temp_dir().join(format!("atomix-proxy-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("atomix-proxy.toml");
    std::fs::write(&path, text).unwrap();
    let c = config(&["--config", path.to_str().unwrap()]).unwrap();
    assert_eq!(c.partitions.len(), 3);
    assert_eq!(c.workers, 2);
    assert!(c.tls.as_ref().unwrap().client_ca.is_some());
    assert!(c.upstream_tls.as_ref().unwrap().identity.is_some());
    std::fs::remove_dir_all(&dir).unwrap();
}
