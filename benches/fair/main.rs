//! The fair suite (benches/fair/suite.rs): every contender on the same varied inputs,
//! reading every field, timed on the same loop functions that benches/fair_report.py
//! counts.
//!
//!     cargo bench --bench fair [-- FILTER]
//!
//! Run without `--bench`, as `cargo test` runs it, it checks instead that the contenders
//! do the same work: in every group, every contender returns the same checksum (of every
//! field read, or of the bytes written), and every group has ours and three peers.
//!
//! With `FAIR_RUN=<group>/<contender>` and `FAIR_ITERS=<n>` set, the binary runs that one
//! loop function `n` times and exits instead: what the instruction counts measure.
//! `FAIR_LIST=1` lists the benchmarks and how many messages one run of each handles.

use criterion::Criterion;
use std::hint::black_box;
use std::time::{Duration, Instant};

mod suite;

fn main() {
    let benches = suite::benches();
    if std::env::var_os("FAIR_LIST").is_some() {
        for bench in &benches {
            println!("{}/{} {}", bench.group, bench.contender, bench.messages);
        }
        return;
    }
    if let Ok(name) = std::env::var("FAIR_RUN") {
        let iters: u64 = std::env::var("FAIR_ITERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        let bench = benches
            .iter()
            .find(|b| format!("{}/{}", b.group, b.contender) == name)
            .unwrap_or_else(|| panic!("no benchmark {name}"));
        let mut sum = 0u64;
        for _ in 0..iters {
            sum = sum.wrapping_add((bench.run)());
        }
        println!("{name} {} {sum}", bench.messages);
        return;
    }
    if !std::env::args().any(|arg| arg == "--bench") {
        return check_checksums(&benches);
    }
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let mut groups: Vec<&str> = benches.iter().map(|b| b.group.as_str()).collect();
    groups.dedup();
    for group in groups {
        let mut g = c.benchmark_group(format!("fair/{group}"));
        for bench in benches.iter().filter(|b| b.group == group) {
            g.throughput(criterion::Throughput::Elements(bench.messages as u64));
            g.bench_function(bench.contender, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        black_box((bench.run)());
                    }
                    start.elapsed()
                })
            });
        }
        g.finish();
    }
    c.final_summary();
}

/// The check `cargo test` runs: the contenders of a group agree.
fn check_checksums(benches: &[suite::Bench]) {
    let mut groups: std::collections::BTreeMap<&str, Vec<(&str, u64)>> = Default::default();
    // The floor counts tags, not fields: it does not take part.
    for bench in benches.iter().filter(|b| b.contender != "floor") {
        groups
            .entry(&bench.group)
            .or_default()
            .push((bench.contender, (bench.run)()));
    }
    assert!(groups.len() >= 30, "{} groups", groups.len());
    for (group, results) in &groups {
        assert!(
            results.iter().any(|(c, _)| *c == "atomix-headers") && results.len() >= 4,
            "{group}: {results:?}"
        );
        let (_, first) = results[0];
        assert!(
            results.iter().all(|(_, sum)| *sum == first),
            "{group}: the contenders disagree: {results:?}"
        );
        assert_ne!(first, 0, "{group}: nothing was read");
    }
    println!(
        "fair suite: {} groups, every contender agrees",
        groups.len()
    );
}
