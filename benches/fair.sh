#!/usr/bin/env bash
# Builds and runs the fair suite (benches/fair/main.rs, benches/fair/envelopes.rs) as
# its figures are taken: every contender at the best code generation it reaches.
#
#   bash benches/fair.sh                    # build, then criterion on every group
#   bash benches/fair.sh --no-run           # build only (for fair_report.py counts)
#   bash benches/fair.sh -- 'stream/'       # criterion on some groups
#   python3 benches/fair_report.py counts   # then: callgrind on the same binaries
#
# FAIR_TARGET=DIR builds into DIR instead, as fair_report.py and fair_profile.py read
# it (fair_profile.py wants a build with CARGO_PROFILE_BENCH_DEBUG=line-tables-only).
#
# Two flags, for every crate of the build, in a target directory of its own
# (target/fair, so that other builds keep theirs):
# - `--cfg std`: quick-protobuf 0.8 marks its varint and tag reads
#   `#[cfg_attr(std, inline(always))]`, meaning its `std` feature, but `std` is a
#   cfg that cargo never sets, so without the flag none of them is inlined. No other
#   crate of the build reads that cfg.
# - `-C llvm-args=-inline-threshold=20000`: at LLVM's default threshold our decoders,
#   written with `#[inline]`, are inlined into the suite's loops and the peers' decode
#   functions (prost's `decode_varint` and `merge_field`, buffa's, quick-protobuf's
#   `from_reader`) are called; at 2,000 the peers' reads are inlined into one decode
#   function a message, still called; at 20,000 every contender's decode is inlined
#   into its loop, as callgrind's function lists show (benches/README.md, "Peers at
#   their best"). The build takes about four times as long.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg std -C llvm-args=-inline-threshold=20000 ${FAIR_RUSTFLAGS:-}"
export CARGO_TARGET_DIR=${FAIR_TARGET:-target/fair}
exec cargo bench --bench fair --bench fair_envelopes "$@"
