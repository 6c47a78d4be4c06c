//! The fair suite (benches/fair/suite.rs): every contender on the same varied inputs,
//! reading every field, timed on the same loop functions that benches/fair_report.py
//! counts.
//!
//!     cargo bench --bench fair [-- FILTER]
//!
//! Run without `--bench`, as `cargo test` runs it, it checks instead that the contenders
//! do the same work: in every group, every contender returns the same checksum (of every
//! field read, or of the bytes written), and every group has ours and three peers.
//! benches/fair/runner.rs does all this for both suite binaries; benches/fair/envelopes.rs
//! is the other.
//!
//! With `FAIR_RUN=<group>/<contender>` and `FAIR_ITERS=<n>` set, the binary runs that one
//! loop function `n` times and exits instead: what the instruction counts measure.
//! `FAIR_LIST=1` lists the benchmarks and how many messages one run of each handles.

mod runner;
mod suite;

fn main() {
    runner::main(suite::benches(), 44);
}
