//! atomix-proxy end to end from the command line: --help, usage errors, exit codes, and
//! the --config file.
//!
//! The binary runs as a child process against fake Atomix partitions on 127.0.0.1
//! (`common`); every loop is bounded in count and time.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_gives_what_flags_do_not() {
    let g = group(1, 0).await;
    let dir = std::env::temp_dir().join(format!("atomix-proxy-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proxy.toml");
    std::fs::write(
        &file,
        format!(
            "partition = [\"{}\"]\ntimeout = \"50ms\"\nmetrics = \"127.0.0.1:0\"\n",
            g.addrs[0]
        ),
    )
    .unwrap();
    let config = file.to_str().unwrap();
    // The file's --timeout (50 ms) makes a slow call fail; the flag's (5 s) wins over it.
    let proxy = Proxy::start(&args(&["--config", config]), 0);
    assert!(proxy.metrics.is_some(), "metrics from the file");
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 1, None, &[])).await;
    assert_eq!(r.code(), 4, "{}", r.message());
    let proxy = Proxy::start(&args(&["--config", config, "--timeout", "5s"]), 0);
    let r = call(&proxy.addr, INCREMENT, &request("slow", 1, 2, None, &[])).await;
    assert_eq!(r.code(), 0, "{}", r.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_version_and_usage_errors() {
    let run = |a: &[&str]| std::process::Command::new(BIN).args(a).output().unwrap();
    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8(help.stdout).unwrap();
    for needle in [
        "--partition",
        "--timeout",
        "--drain-timeout",
        "--metrics",
        "--config",
        "Examples:",
    ] {
        assert!(text.contains(needle), "{needle}");
    }
    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert!(String::from_utf8(version.stdout)
        .unwrap()
        .starts_with("atomix-proxy "));
    for bad in [
        &[][..],
        &["--partition", "x"],
        &["--nope"],
        &["--partition", "a:1", "--timeout", "x"],
        &["--partition", "a b:1"],
        &["--partition", "http://a:1"],
        &["--partition", "::1:5000"],
        &["--partition", "a:1;b:2"],
        &["--partition", "a:1,A:1"],
        &["--partition", "a:01,a:1"],
        &["--partition", "a:1", "--timeout", "18446744073709551615s"],
        &["--partition", "a:1", "--keepalive", "1ns"],
    ] {
        let out = run(bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
    // Cannot listen: a runtime failure, exit 1.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["--listen", &addr, "--partition", "127.0.0.1:1"]);
    assert_eq!(out.status.code(), Some(1));
}

/// `--check` reads the deployment file (proxy/deploy/atomix-proxy.toml) with its
/// certificates: good with them in place, exit 1 naming the first missing one.
#[test]
fn check_reads_the_deployment_file_and_its_certificates() {
    let pki = pki("check");
    let example = include_str!("../deploy/atomix-proxy.toml");
    let file = pki.dir.join("atomix-proxy.toml");
    std::fs::write(&file, example).unwrap();
    let check = |file: &std::path::Path| {
        std::process::Command::new(BIN)
            .args(["--check", "--config", file.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let out = check(&file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/etc/atomix-proxy/tls/"), "{stderr}");
    // The same file with the test's certificates.
    let mut text = example.to_owned();
    for (from, to) in [
        ("proxy.pem", "server.pem"),
        ("proxy.key", "server.key"),
        ("clients-ca.pem", "ca.pem"),
        ("atomix-ca.pem", "ca.pem"),
        ("proxy-client.pem", "client.pem"),
        ("proxy-client.key", "client.key"),
    ] {
        text = text.replace(&format!("/etc/atomix-proxy/tls/{from}"), &pki.path(to));
    }
    std::fs::write(&file, text).unwrap();
    let out = check(&file);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A usage error is 2, as at start.
    std::fs::write(&file, "partition = [\"a:1\"]\ntimeout = \"soon\"\n").unwrap();
    assert_eq!(check(&file).status.code(), Some(2));
}

/// proxy/deploy/atomix-proxy.service passes `systemd-analyze verify` with nothing to
/// say (it exits 0 on keys it ignores, so its output must be empty too), and its
/// reload first checks the file. Without systemd-analyze the test is skipped, and
/// says so; under CI (`CI` set), where .ci/run installs it, it fails instead.
#[test]
fn the_systemd_unit_verifies() {
    let unit = include_str!("../deploy/atomix-proxy.service");
    assert!(unit.contains("ExecReload=/usr/local/bin/atomix-proxy --check --config"));
    assert!(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"));
    let analyze = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output();
    if analyze.is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "systemd-analyze is missing under CI"
        );
        eprintln!("SKIPPED the_systemd_unit_verifies: systemd-analyze is missing (apt-get install systemd)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("atomix-proxy-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("atomix-proxy.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/atomix-proxy", BIN)).unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", path.to_str().unwrap()])
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(said.trim().is_empty(), "systemd-analyze says: {said}");
    // The check is able to fail: a misspelt key is reported.
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/atomix-proxy", BIN)
            .replace("NoNewPrivileges", "NoNewPrivilege"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("NoNewPrivilege"));
    std::fs::remove_dir_all(&dir).unwrap();
}
