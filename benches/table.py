#!/usr/bin/env python3
"""Turns `cargo bench --bench headers` output into the README's table of medians and
ratios: for each operation, our median, the best peer's median, and best peer / ours.

    cargo bench --bench headers | tee bench.log
    python3 benches/table.py bench.log
"""
import re
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}


def parse(path):
    medians = {}
    name = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^(\S+/\S+)\s*(time:.*)?$", line)
        if m and not line.startswith(" "):
            name = m.group(1)
            line = m.group(2) or ""
        t = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
        if t and name:
            medians[name] = float(t.group(1)) * UNITS[t.group(2)]
            name = None
    return medians


def main():
    medians = parse(sys.argv[1])
    groups = {}
    for full, ns in medians.items():
        group, impl = full.rsplit("/", 1)
        groups.setdefault(group, {})[impl] = ns
    print("| operation | atomix-headers | best peer | peer median | ratio |")
    print("| --- | ---: | --- | ---: | ---: |")
    for group, impls in groups.items():
        ours = impls.get("atomix-headers")
        if ours is None:
            continue
        peers = {k: v for k, v in impls.items() if k != "atomix-headers"}
        best = min(peers, key=peers.get)
        print("| %s | %s | %s | %s | %.1fx |" % (group, fmt(ours), best, fmt(peers[best]), peers[best] / ours))


def fmt(ns):
    return "%.1f ns" % ns if ns < 1000 else "%.2f µs" % (ns / 1000)


if __name__ == "__main__":
    main()
