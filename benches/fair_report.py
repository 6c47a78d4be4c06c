#!/usr/bin/env python3
"""Reports the fair suite (benches/fair/main.rs and benches/fair/envelopes.rs): instructions per message from callgrind, and
medians per message from criterion, ours against the best peer of each group.

    bash benches/fair.sh                      # criterion: target/fair/criterion/.../estimates.json
    python3 benches/fair_report.py counts     # callgrind: target/fair/fair_counts.json
    FAIR_TARGET=target python3 benches/fair_report.py counts   # a plain `cargo bench` build
    python3 benches/fair_report.py table      # both, as a markdown table

The counts run the same binary and the same loop functions as the timings: each
benchmark runs A times (FAIR_RUN, FAIR_ITERS) under `valgrind --tool=callgrind`, which
counts only the instructions inside the runner's `measured` (one run of the benchmark:
its loop function and a call), and that count divided by A times the messages per run is
the count per message. The set-up is left out. (Counts taken before 2026-12-07's third
round of issue 34 subtracted the totals of A and 2A runs instead: that left the set-up
out too, but added what differed between the two runs' set-ups, up to 12 instructions
per message on a 256-message group and 13 to 18 on a one-message group.)
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

OURS = "atomix-headers"
FLOOR = "floor"


# Where benches/fair.sh builds: FAIR_TARGET names another build to count.
TARGET = os.environ.get("FAIR_TARGET", "target/fair")


def binaries():
    """The newest build of each fair-suite binary: the headers' and the envelopes'."""
    found = []
    for bench in ("fair", "fair_envelopes"):
        paths = [p for p in glob.glob("%s/release/deps/%s-*" % (TARGET, bench)) if not p.endswith(".d")]
        if paths:
            found.append(max(paths, key=os.path.getmtime))
    if not found:
        sys.exit("build them first: bash benches/fair.sh --no-run (or set FAIR_TARGET)")
    return found


def total_instructions(exe, name, iters):
    """Instructions inside the runner's `measured`, over `iters` runs of `name`."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, FAIR_RUN=name, FAIR_ITERS=str(iters))
        subprocess.run(["valgrind", "--tool=callgrind", "--toggle-collect=*runner::measured",
                        "--callgrind-out-file=" + out, exe],
                       env=env, check=True, capture_output=True)
        with open(out) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("no total in callgrind output")


def counts(filters):
    result = {}
    path = TARGET + "/fair_counts.json"
    # A filtered run adds to the counts on file; a whole run starts afresh, so that no
    # group keeps a count from an older build.
    if filters and os.path.exists(path):
        with open(path) as f:
            result = json.load(f)
    for exe in binaries():
        listing = subprocess.run([exe], env=dict(os.environ, FAIR_LIST="1"), check=True,
                                 capture_output=True, text=True).stdout.split("\n")
        for line in filter(None, listing):
            name, messages = line.rsplit(" ", 1)
            if filters and not any(re.search(f, name) for f in filters):
                continue
            messages = int(messages)
            a = max(2, 4000 // messages)
            inside = total_instructions(exe, name, a)
            if inside == 0:
                sys.exit("nothing counted inside runner::measured: rebuild the suite")
            result[name] = inside / (a * messages)
            print("%s: %.0f instructions per message" % (name, result[name]), flush=True)
            with open(path, "w") as f:
                json.dump(result, f, indent=1, sort_keys=True)


def medians():
    result = {}
    for est in glob.glob(TARGET + "/criterion/**/new/estimates.json", recursive=True):
        parts = est.split(os.sep)
        rel = "/".join(parts[parts.index("criterion") + 1:-2])
        with open(est) as f:
            ns = json.load(f)["median"]["point_estimate"]
        bench = os.path.join(os.path.dirname(os.path.dirname(est)), "new", "benchmark.json")
        with open(bench) as f:
            meta = json.load(f)
        elements = (meta.get("throughput") or {}).get("Elements", 1)
        if not meta["group_id"].startswith("fair/"):
            continue
        name = meta["group_id"][len("fair/"):] + "/" + meta["function_id"]
        result[name] = ns / elements
    return result


def table():
    with open(TARGET + "/fair_counts.json") as f:
        count = json.load(f)
    time = medians()
    groups = {}
    for name in set(count) | set(time):
        group, contender = name.rsplit("/", 1)
        groups.setdefault(group, {})[contender] = (time.get(name), count.get(name))
    print("| operation | ours ns | best peer ns | ratio | ours instr | best peer instr | floor instr | ours / floor | behind |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    behind = 0
    for group in sorted(groups):
        entries = groups[group]
        if OURS not in entries:
            continue
        ours_t, ours_c = entries[OURS]
        # The floor (a bare tag walk, benches/fair/suite.rs) is a limit, not a peer.
        floor = entries.get(FLOOR, (None, None))[1]
        peers = {c: v for c, v in entries.items() if c not in (OURS, FLOOR)}
        timed = [(v[0], c) for c, v in peers.items() if v[0] is not None]
        counted = [(v[1], c) for c, v in peers.items() if v[1] is not None]
        best_t = min(timed) if timed else None
        best_c = min(counted) if counted else None
        flags = []
        if ours_t is not None and best_t and ours_t > best_t[0]:
            flags.append("time")
        if ours_c is not None and best_c and ours_c > best_c[0]:
            flags.append("instr")
        behind += bool(flags)
        fmt = lambda v: "-" if v is None else "%.1f" % v
        ratio = "-" if not best_t or ours_t is None else "%.2fx" % (best_t[0] / ours_t)
        over_floor = "-" if not floor or ours_c is None else "%.2fx" % (ours_c / floor)
        print("| %s | %s | %s (%s) | %s | %s | %s (%s) | %s | %s | %s |" % (
            group, fmt(ours_t), fmt(best_t and best_t[0]), best_t and best_t[1], ratio,
            "-" if ours_c is None else "%.0f" % ours_c,
            "-" if not best_c else "%.0f" % best_c[0], best_c and best_c[1],
            "-" if not floor else "%.0f" % floor, over_floor,
            ", ".join(flags) or ""))
    print("\n%d operations behind the best peer" % behind)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("counts", "table"):
        sys.exit(__doc__)
    if sys.argv[1] == "counts":
        counts(sys.argv[2:])
    else:
        table()
