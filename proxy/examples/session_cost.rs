//! What a call on a proxy session costs the proxy, in instructions (callgrind), against
//! the same call passed through: three partitions of the workspace's test server run in
//! this process; the proxy runs under valgrind as a child.
//!
//! ```sh
//! apt-get install valgrind                 # once
//! cargo build --release -p atomix-proxy --bin atomix-proxy --example session_cost
//! target/release/examples/session_cost target/release/atomix-proxy [CALLS]
//! SESSION_COST_CPU=1 target/release/examples/session_cost target/release/atomix-proxy 30000
//! ```
//!
//! With `SESSION_COST_CPU` set, the proxy runs without valgrind and each row is its CPU
//! time (user and system, from /proc, in 10 ms ticks) per call instead: use enough
//! calls that a tick is a small part of a row.
//!
//! Each row: 300 calls of warm-up, the counters zeroed, CALLS calls (default 3,000) from
//! 8 clients at once, counted. A passed-through Put names its partition (header field
//! 6) and carries that partition's own session; a Put on a proxy session names none.

use atomix_testserver::client::{map, request, Client, Head};
use atomix_testserver::{bytes_field, Group};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().expect("usage: session_cost PROXY_BIN [CALLS]");
    let calls: u64 = args
        .next()
        .map_or(3_000, |n| n.parse().expect("a number of calls"));
    let mut groups = Vec::new();
    for _ in 0..3 {
        groups.push(Group::start(1).await);
    }
    for g in &groups {
        tokio::net::TcpStream::connect(&g.addrs[0])
            .await
            .expect("a test server replica listens");
    }
    let dir = std::env::temp_dir().join(format!("session-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let listen = "127.0.0.1:7521";
    let cpu = std::env::var_os("SESSION_COST_CPU").is_some();
    let mut command = if cpu {
        Command::new(&bin)
    } else {
        let mut c = Command::new("valgrind");
        c.arg("--tool=callgrind")
            .arg(format!("--callgrind-out-file={}/out.%p", dir.display()))
            .arg(&bin);
        c
    };
    let mut proxy = command
        .args(["--listen", listen])
        .args(
            groups
                .iter()
                .flat_map(|g| ["--partition".to_owned(), g.addrs[0].clone()]),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("valgrind");
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(listen).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = proxy.id();
    let clients: Vec<Client> = {
        let mut v = Vec::new();
        for _ in 0..8 {
            v.push(Client::connect(listen).await);
        }
        v
    };
    // A proxy session, and partition 1's own session for the passed-through Puts.
    // Sessions that outlive the run without KeepAlives: a timeout of an hour.
    let mut hour = Vec::new();
    atomix_testserver::varint_field(1, 3600, &mut hour);
    let mut create = Vec::new();
    atomix_testserver::message_field(2, &hour, &mut create);
    let r = clients[0]
        .call(
            &map("Create"),
            &request(
                &Head {
                    name: "m",
                    ..Default::default()
                },
                &create,
            ),
        )
        .await;
    assert_eq!(r.code, 0, "Create: {}", r.message);
    let proxy_session = r.head(0).session_id;
    let r = clients[0]
        .call(
            &map("Create"),
            &request(
                &Head {
                    name: "m",
                    partition: 1,
                    ..Default::default()
                },
                &create,
            ),
        )
        .await;
    assert_eq!(r.code, 0, "Create on partition 1: {}", r.message);
    let own_session = r.head(0).session_id;
    let mut next = [0u64; 2];
    let mut rows = Vec::new();
    for (label, method, session) in [
        ("Put, passed through", "Put", Some(own_session)),
        ("Put on a proxy session", "Put", None),
        ("Size on a proxy session (3 partitions)", "Size", None),
    ] {
        let run = |n: u64, next: &mut [u64; 2]| {
            let mut tasks = Vec::new();
            for i in 0..n {
                let client = clients[(i % 8) as usize].clone();
                let (session_id, partition, counter) = match session {
                    Some(id) => (id, 1, 0),
                    None => (proxy_session, 0, 1),
                };
                let request_id = if method == "Size" {
                    next[counter]
                } else {
                    next[counter] += 1;
                    next[counter]
                };
                let mut body = Vec::new();
                bytes_field(2, format!("k{i}").as_bytes(), &mut body);
                bytes_field(3, b"value", &mut body);
                let m = request(
                    &Head {
                        name: "m",
                        session_id,
                        request_id,
                        partition,
                        ..Default::default()
                    },
                    &body,
                );
                tasks.push((client, m));
            }
            tasks
        };
        // Commands must arrive in order per session: sent in batches of 8 at a time,
        // each batch in order, which the server's gap wait keeps ordered anyway.
        async fn drive(tasks: Vec<(Client, Vec<u8>)>, path: &str) {
            for chunk in tasks.chunks(8) {
                let mut handles = Vec::new();
                for (client, m) in chunk {
                    let (client, m) = (client.clone(), m.clone());
                    let path = path.to_owned();
                    handles.push(tokio::spawn(async move {
                        let r = client.call(&path, &m).await;
                        (r.code, r.message)
                    }));
                }
                for h in handles {
                    let (code, message) = h.await.unwrap();
                    assert_eq!(code, 0, "{path}: {message}");
                }
            }
        }
        drive(run(300, &mut next), &map(method)).await;
        let ticks = cpu_ticks(pid);
        if !cpu {
            callgrind(pid, "-z");
        }
        drive(run(calls, &mut next), &map(method)).await;
        if !cpu {
            callgrind(pid, "-d");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        if cpu {
            // Microseconds per call, at 100 ticks a second.
            rows.push((label, (cpu_ticks(pid) - ticks) * 10_000 / calls));
        } else {
            rows.push((label, newest_total(&dir) / calls));
        }
    }
    let _ = proxy.kill();
    let _ = proxy.wait();
    drop(groups);
    let base = rows[0].1 as f64;
    let unit = if cpu {
        "CPU µs per call"
    } else {
        "instructions per call"
    };
    println!("| call | {unit} | against a passed-through Put |");
    println!("| --- | ---: | ---: |");
    for (label, n) in rows {
        println!("| {label} | {n} | {:.2}x |", n as f64 / base);
    }
    // SESSION_COST_KEEP=1 keeps the dumps, one per row, for callgrind_annotate.
    if std::env::var_os("SESSION_COST_KEEP").is_some() {
        println!("dumps in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The process's CPU time so far, user and system, in ticks of 10 ms.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc");
    let after = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn callgrind(pid: u32, what: &str) {
    let ok = Command::new("callgrind_control")
        .args([what, &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("callgrind_control")
        .success();
    assert!(ok, "callgrind_control {what}");
}

/// The instruction total of the newest dump in `dir`.
fn newest_total(dir: &std::path::Path) -> u64 {
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .max_by_key(|e| e.metadata().and_then(|m| m.modified()).ok())
        .expect("a dump");
    let text = std::fs::read_to_string(newest.path()).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("summary:"))
        .expect("a summary");
    line[8..].trim().parse().unwrap()
}
