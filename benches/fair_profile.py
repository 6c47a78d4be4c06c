#!/usr/bin/env python3
"""Where one fair-suite loop's instructions go, by part of the work: callgrind counts each
instruction of the loop function, addr2line gives each its chain of inlined calls, and
the first part whose pattern matches the chain takes its count.

    FAIR_TARGET=target/fair-dbg CARGO_PROFILE_BENCH_DEBUG=line-tables-only bash benches/fair.sh --no-run
    FAIR_TARGET=target/fair-dbg python3 benches/fair_profile.py envelope/responses/read/atomix-headers

Line tables do not change the code generated, so the total matches `fair_report.py
counts` on the build without them (set-up outside the loop is left out here). Needs
valgrind and binutils' addr2line.
"""
import collections
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fair_report import binaries  # noqa: E402

# The parts of each profiled group, first match wins; "other" takes the rest.
PARTS = {
    "envelope/responses/read": [
        ("checksum of the fields read (the suite's response_sum)", r"response_sum|suite::mix"),
        ("operation's fields walked after the header", r"rest_unknown|skip_simple|skip::"),
        ("header: leader, its length and UTF-8 check", r"utf8|try_string|string_if"),
        ("header: the four ids", r"try_varint_field"),
        ("header: status and type", r"try_varint@|try_varint_max"),
        ("header: tags and end of its fast path", r"ResponseHeader"),
        ("envelope: reader, field 1's tag and length", r"split_canonical|reader\.rs|envelope"),
        ("loop: next message, black_box", r"ours_response_loop|black_box|fold"),
    ],
}


def costs(exe, bench, iters, loop):
    """Instructions per address of the loop function `loop`, over `iters` runs."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, FAIR_RUN=bench, FAIR_ITERS=str(iters))
        subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes",
                        "--callgrind-out-file=" + out, exe], env=env, check=True, capture_output=True)
        names, counts = {}, collections.Counter()
        inside, last, call = False, 0, False
        for line in open(out):
            line = line.rstrip("\n")
            if line.startswith(("fn=", "cfn=")):
                m = re.match(r"c?fn=\((\d+)\)\s*(.*)", line)
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("fn="):
                    inside = loop in names[m.group(1)]
                continue
            if line.startswith("calls="):
                call = True  # the next line is the call's inclusive cost
                continue
            if not line or line[0] not in "+-*0123456789":
                continue
            fields = line.split()
            tok = fields[0]
            if tok.startswith("0x"):
                addr = int(tok, 16)
            elif tok == "*":
                addr = last
            elif tok[0] in "+-":
                step = int(tok[1:], 16) if tok[1:].startswith("0x") else int(tok[1:])
                addr = last + step if tok[0] == "+" else last - step
            else:
                addr = int(tok)
            last = addr
            if call:
                call = False
                continue
            if inside and len(fields) > 2:
                counts[addr] += int(fields[2])
        return counts


def chains(exe, addrs):
    """Each address's inlined call chain, innermost first, as one string."""
    out = subprocess.run(["addr2line", "-a", "-f", "-i", "-C", "-e", exe] + [hex(a) for a in addrs],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    result, cur, i = {}, None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur = int(out[i], 16)
            result[cur] = []
            i += 1
        elif cur is not None and out[i]:
            path = out[i + 1]
            ours = "/src/" in path and "/rustc/" not in path and "/.cargo/" not in path
            result[cur].append(out[i] + "@" + ("src:" if ours else "") + path.split("/")[-1])
            i += 2
        else:
            i += 1
    return {a: " | ".join(c) for a, c in result.items()}


# The loop function of each group that can be profiled.
LOOPS = {
    "envelope/responses/read": "ours_response_loop",
    "request": "ours_request_loop",
    "response": "ours_response_loop",
    "stream": "ours_stream_loop",
}


def part_of(group, chain):
    """A group with parts of its own takes the first that matches; any other group is
    split by the innermost line of the crate's own source (src/) that each instruction is in."""
    if group in PARTS:
        return next((label for label, pat in PARTS[group] if re.search(pat, chain)), "other")
    for frame in chain.split(" | "):
        where = frame.rsplit("@", 1)[-1]
        if where.startswith("src:"):
            return where[4:]
    return "other"


def main():
    usage = "usage: fair_profile.py GROUP/CONTENDER, GROUP one of: %s, or a decode group" % ", ".join(PARTS)
    if len(sys.argv) != 2:
        sys.exit(usage)
    bench = sys.argv[1]
    family = bench.split("/")[0]
    if bench.rsplit("/", 1)[0] not in PARTS and not (family in LOOPS and "/decode/" in bench):
        sys.exit(usage)
    group, contender = bench.rsplit("/", 1)
    if contender != "atomix-headers":
        sys.exit("the parts name our functions: profile atomix-headers")
    listing = {}
    for exe in binaries():
        env = dict(os.environ, FAIR_LIST="1")
        for line in subprocess.run([exe], env=env, capture_output=True, text=True).stdout.splitlines():
            name, _, messages = line.rpartition(" ")
            listing[name] = (exe, int(messages))
    exe, messages = listing[bench]
    iters = 200
    loop = LOOPS.get(group, LOOPS.get(family))
    counts = costs(exe, bench, iters, loop)
    where = chains(exe, sorted(counts))
    parts = collections.Counter()
    for addr, n in counts.items():
        parts[part_of(group, where.get(addr, ""))] += n
    per = iters * messages
    print("%s: %.1f instructions per message in %s" % (bench, sum(parts.values()) / per, loop))
    for label, n in parts.most_common():
        print("%8.1f  %s" % (n / per, label))


if __name__ == "__main__":
    main()
