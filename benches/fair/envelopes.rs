//! The fair suite's envelope groups (benches/fair/primitives.rs): real, varied Atomix
//! primitive messages routed, stamped and read, against the peers and the floor.
//!
//!     cargo bench --bench fair_envelopes [-- FILTER]
//!
//! A binary apart from `fair`, run and counted the same way (benches/fair/runner.rs,
//! benches/fair_report.py): in one binary, encoding envelopes gives `RequestHeader`'s
//! encoder a second caller, and the compiler then inlines it differently into the bare
//! header's encode loops, whose counts would no longer compare with earlier tables.

mod primitives;
mod runner;
mod suite;

fn main() {
    runner::main(primitives::benches(), 4);
}
