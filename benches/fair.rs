//! The fair suite (testkit/src/fair.rs): every contender on the same varied inputs,
//! reading every field, timed on the same loop functions that benches/fair_counts.py
//! counts.
//!
//!     cargo bench --bench fair [-- FILTER]
//!
//! With `FAIR_RUN=<group>/<contender>` and `FAIR_ITERS=<n>` set, the binary runs that one
//! loop function `n` times and exits instead: what the instruction counts measure.
//! `FAIR_LIST=1` lists the benchmarks and how many messages one run of each handles.

use criterion::Criterion;
use std::hint::black_box;
use std::time::{Duration, Instant};

use testkit::fair as suite;

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
