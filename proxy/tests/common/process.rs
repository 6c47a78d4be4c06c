//! The proxy as a child process: started, signalled, its JSON logs and metrics read.

use atomix_headers::partition::fnv1a_32;
use atomix_headers::{Message, RequestEnvelope, ResponseHeader, ResponseStatus, ResponseType};
use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::*;

pub struct Proxy {
    pub child: Child,
    pub addr: String,
    pub partition_addrs: Vec<String>,
    pub metrics: Option<String>,
    pub logs: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Proxy {
    /// Starts the proxy with `args` (plus --listen 127.0.0.1:0 and JSON logs), and waits
    /// until it listens on its main address and `pinned` partition listeners.
    pub fn start(args: &[String], pinned: usize) -> Proxy {
        Self::start_with(Command::new(BIN), args, pinned)
    }

    pub fn start_with(mut command: Command, args: &[String], pinned: usize) -> Proxy {
        if !command.get_envs().any(|(k, _)| k == "RUST_LOG") {
            command.env("RUST_LOG", "info");
        }
        let mut child = command
            .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| serde_json::json!({ "message": line, "raw": true }));
                sink.lock().unwrap().push(value);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            {
                let lines = logs.lock().unwrap();
                let addr_of = |msg: &str| -> Vec<String> {
                    lines
                        .iter()
                        .filter(|l| l["message"] == msg)
                        .map(|l| l["address"].as_str().unwrap().to_owned())
                        .collect()
                };
                let main = addr_of("listening");
                let parts = addr_of("listening for one partition");
                if main.len() == 1 && parts.len() == pinned {
                    let metrics = addr_of("metrics at /metrics").pop();
                    drop(lines);
                    return Proxy {
                        child,
                        addr: main[0].clone(),
                        partition_addrs: parts,
                        metrics,
                        logs,
                    };
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the proxy exited at start: {status}: {:?}",
                    logs.lock().unwrap()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the proxy did not start: {:?}",
                logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    pub fn logged(&self, message: &str) -> Vec<serde_json::Value> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l["message"].as_str().is_some_and(|m| m.contains(message)))
            .cloned()
            .collect()
    }

    /// The log lines containing `message`, once there are `count` (or after 5 s).
    pub fn wait_logged(&self, message: &str, count: usize) -> Vec<serde_json::Value> {
        self.wait_logged_within(message, count, Duration::from_secs(5))
    }

    /// The log lines containing `message`, once there are `count` (or after `limit`).
    pub fn wait_logged_within(
        &self,
        message: &str,
        count: usize,
        limit: Duration,
    ) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + limit;
        loop {
            let lines = self.logged(message);
            if lines.len() >= count || Instant::now() > deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits up to `limit` for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The process's resident set, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// CPU time the process has used (user + system).
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
    }

    /// Waits until the proxy says every partition has a reachable replica.
    pub fn wait_ready(&self) {
        let ready = self.wait_logged("ready: every partition", 1);
        assert!(!ready.is_empty(), "{:?}", self.logs.lock().unwrap());
    }

    /// GET `path` from the metrics listener: the status line and body.
    pub async fn http_get(&self, path: &str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.metrics.as_ref().unwrap())
            .await
            .unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    pub async fn metrics_text(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.metrics.as_ref().unwrap())
            .await
            .unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        out
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--partition` arguments for these groups.
pub fn partition_args(groups: &[&Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| ["--partition".to_owned(), g.addrs.join(",")])
        .collect()
}
