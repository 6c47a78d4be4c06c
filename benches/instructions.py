#!/usr/bin/env python3
"""Counts the instructions one criterion benchmark executes per iteration, in the
benchmark binary itself, so that ours and the peers are counted the same way, compiled
and inlined as `cargo bench` runs them. Unlike a time, the count does not drift with the
load of a shared machine.

    cargo bench --bench headers --no-run
    python3 benches/instructions.py request/typical/decode/atomix-headers \\
        request/typical/decode/quick-protobuf ...

Each benchmark runs for 2 seconds of criterion's profiling mode under `valgrind
--tool=callgrind --dump-instr=yes` (a few seconds to a quarter of a minute each).
Criterion picks how many iterations it runs, so the script works the count out from the
profile. The closure's body runs once per iteration: loops inside it run more often,
and rare paths less often (in our StreamHeader frames, one ran 12,678 times against 4.2
million frames, and was shared by enough instructions to fool a fixed threshold). So
the iteration count is taken as the smallest
execution count shared by at least SHARE of as many instructions as the most common
count is (checked by hand on every benchmark of the issue's targets). For a
`frames_1000` benchmark that count is the number of frames, so the figure is per frame.
The instructions that run at least MIN_COUNT times are summed and divided by it:
start-up and criterion's per-sample work, which run far fewer times, are left out;
criterion's loop around each iteration (a few instructions) is counted.
"""
import collections
import glob
import os
import re
import subprocess
import sys
import tempfile

SHARE = 0.4
MIN_COUNT = 10_000
POSITION = re.compile(r"^(0x[0-9a-fA-F]+|[+-][0-9]+|\*)$")


def bench_binary():
    """The most recently built criterion binary of benches/headers.rs, or of the bench
    named by INSTRUCTIONS_BENCH (`envelopes`, say)."""
    bench = os.environ.get("INSTRUCTIONS_BENCH", "headers")
    candidates = [
        path
        for path in glob.glob("target/release/deps/%s-*" % bench)
        if os.access(path, os.X_OK) and not path.endswith(".d")
    ]
    if not candidates:
        sys.exit("no benchmark binary: run `cargo bench --bench %s --no-run` first" % bench)
    return max(candidates, key=os.path.getmtime)


def instruction_counts(profile):
    """Execution count of each instruction address in a callgrind profile written with
    --dump-instr=yes (positions are absolute, relative to the previous one, or `*`)."""
    counts = collections.Counter()
    last = 0
    skip_next = False
    with open(profile, encoding="utf-8") as f:
        for line in f:
            if line.startswith("calls="):
                # The next cost line is the inclusive cost of a call, not an instruction's.
                skip_next = True
                continue
            parts = line.split()
            if len(parts) < 3 or not POSITION.match(parts[0]):
                continue
            pos = parts[0]
            if pos.startswith("0x"):
                addr = int(pos, 16)
            elif pos == "*":
                addr = last
            else:
                addr = last + int(pos)
            last = addr
            if skip_next:
                skip_next = False
                continue
            counts[addr] += int(parts[2])
    return counts


def per_iteration(counts):
    shared = collections.Counter(n for n in counts.values() if n >= MIN_COUNT)
    if not shared:
        return None
    most = max(shared.values())
    iterations = min(n for n, k in shared.items() if k >= SHARE * most)
    total = sum(n for n in counts.values() if n >= MIN_COUNT)
    return total / iterations, iterations


def main(ids):
    if not ids:
        sys.exit(__doc__)
    binary = bench_binary()
    for bench_id in ids:
        with tempfile.TemporaryDirectory() as tmp:
            profile = os.path.join(tmp, "callgrind.out")
            subprocess.run(
                [
                    "valgrind",
                    "--tool=callgrind",
                    "--dump-instr=yes",
                    f"--callgrind-out-file={profile}",
                    binary,
                    "--bench",
                    "--profile-time",
                    "2",
                    f"^{re.escape(bench_id)}$",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            result = per_iteration(instruction_counts(profile))
        if result is None:
            print(f"{bench_id}: no iteration count found (did the id match a benchmark?)")
            continue
        per, iterations = result
        unit = "per frame" if "/frames_" in bench_id else "per iteration"
        print(f"{bench_id}: {per:,.0f} instructions {unit} ({iterations:,} {unit[4:]}s)")


if __name__ == "__main__":
    main(sys.argv[1:])
