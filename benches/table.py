#!/usr/bin/env python3
"""Prints the benchmark table from the medians criterion saved in
target/criterion/*/*/new/estimates.json: for each operation, our median, the best peer's
median, and best peer / ours (how many times faster we are).

    cargo bench --bench headers          (and/or --bench envelopes)
    python3 benches/table.py [target/criterion]

Criterion's console line shows an interval around its typical (mean or slope)
estimate; the table uses the median of the samples instead, as the issue asks.
"""
import glob
import json
import os
import sys

OURS = "atomix-headers"

# The targets: ours faster than the best peer by at least this much.
TARGETS = {
    "response/typical/decode": 3,
    "request/typical/decode": 5,
    "stream/typical/decode": 2,
    "response/typical/encode": 2,
    "request/typical/encode": 2,
    "response/frames_1000/decode": 3,
    "request/frames_1000/decode": 3,
    "stream/frames_1000/decode": 3,
    # benches/envelopes.rs
    "envelope/increment/read": 5,
    "envelope/put_100/read": 5,
    "envelope/put_100/rewrite": 5,
    "envelope/put_frames_1000/read": 5,
}


def load(root):
    groups = {}
    for path in sorted(glob.glob(os.path.join(root, "*", "*", "new", "benchmark.json"))):
        with open(path, encoding="utf-8") as f:
            bench = json.load(f)
        with open(os.path.join(os.path.dirname(path), "estimates.json"), encoding="utf-8") as f:
            median = json.load(f)["median"]["point_estimate"]
        groups.setdefault(bench["group_id"], {})[bench["function_id"]] = median
    return groups


def fmt(ns):
    return "%.1f ns" % ns if ns < 1000 else "%.2f µs" % (ns / 1000)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
    groups = load(root)
    if not groups:
        sys.exit("no criterion results under %s: run `cargo bench --bench headers` first" % root)
    print("| operation | atomix-headers | best peer | its median | ratio | target |")
    print("| --- | ---: | --- | ---: | ---: | ---: |")
    for group in sorted(groups):
        impls = groups[group]
        ours = impls.get(OURS)
        # Our other contenders (a bare header beside an envelope) are not peers.
        peers = {k: v for k, v in impls.items() if not k.startswith(OURS)}
        if ours is None:
            continue
        if not peers:
            print("| %s | %s | | | | |" % (group, fmt(ours)))
            continue
        best = min(peers, key=peers.get)
        ratio = peers[best] / ours
        target = TARGETS.get(group)
        verdict = ""
        if target:
            # Two decimals, so that a ratio just under its target does not print as met.
            verdict = "%dx, %s" % (target, "met" if ratio >= target else "missed")
        print("| %s | %s | %s | %s | %.2fx | %s |" % (
            group, fmt(ours), best, fmt(peers[best]), ratio, verdict))


if __name__ == "__main__":
    main()
