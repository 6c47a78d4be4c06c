//! What both fair-suite binaries run: listing, one benchmark under `FAIR_RUN`, the
//! checksum check without `--bench`, criterion with it (see benches/fair/main.rs).

use crate::suite::{push_varint, skip_varint, walk_varint, Bench};
use criterion::Criterion;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `benches` as the environment and arguments ask. Without `--bench`, checks that
/// there are at least `min_groups` groups and that each group's contenders agree.
pub fn main(benches: Vec<Bench>, min_groups: usize) {
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
            sum = sum.wrapping_add(measured(&bench.run));
        }
        println!("{name} {} {sum}", bench.messages);
        return;
    }
    if !std::env::args().any(|arg| arg == "--bench") {
        return check_checksums(&benches, min_groups);
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

/// One run of a benchmark under `FAIR_RUN`, out of line: `fair_report.py counts` counts
/// only what runs inside it (callgrind's `--toggle-collect`), so that the set-up and the
/// runner's own work, which vary from run to run, stay out of the count.
#[inline(never)]
fn measured(run: &dyn Fn() -> u64) -> u64 {
    run()
}

/// How many peers a group must have: three, but for the envelope groups that only some
/// peers can do (benches/fair/primitives.rs says which).
fn peers(group: &str) -> usize {
    if group.starts_with("envelope/") {
        1
    } else {
        3
    }
}

/// The check `cargo test` runs: the contenders of a group agree.
fn check_checksums(benches: &[Bench], min_groups: usize) {
    let mut groups: std::collections::BTreeMap<&str, Vec<(&str, u64)>> = Default::default();
    // The floor counts tags, not fields: it does not take part.
    for bench in benches.iter().filter(|b| b.contender != "floor") {
        groups
            .entry(&bench.group)
            .or_default()
            .push((bench.contender, (bench.run)()));
    }
    assert!(groups.len() >= min_groups, "{} groups", groups.len());
    check_floor_varints();
    for (group, results) in &groups {
        assert!(
            results.iter().any(|(c, _)| *c == "atomix-headers") && results.len() > peers(group),
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

/// The floor's varint reads agree with the values written, at every length, with and
/// without 8 bytes of input behind the varint.
fn check_floor_varints() {
    for bits in 0..64 {
        for value in [1u64 << bits, (1u64 << bits) - 1, (1u64 << bits) | 0x55] {
            let mut bytes = Vec::new();
            push_varint(&mut bytes, value);
            let len = bytes.len();
            for tail in [0, 9] {
                let mut input = bytes.clone();
                input.resize(len + tail, 0);
                let mut pos = 0;
                assert_eq!(walk_varint(&input, &mut pos), Some(value), "{value}");
                assert_eq!(pos, len, "{value}");
                let mut pos = 0;
                skip_varint(&input, &mut pos);
                assert_eq!(pos, len, "{value}");
            }
        }
    }
}
