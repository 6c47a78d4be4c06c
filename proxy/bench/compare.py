#!/usr/bin/env python3
"""What a hop costs: h2load against the same upstream, directly and through haproxy,
nghttpx and atomix-proxy, in rounds, on one machine.

    apt-get install haproxy nghttp2-proxy nghttp2-client   # once
    python3 proxy/bench/compare.py                         # 5 rounds, about 4 minutes
    python3 proxy/bench/compare.py --rounds 1 --calls 20000
    python3 proxy/bench/compare.py --baseline /tmp/atomix-proxy-old   # an older build too
    python3 proxy/bench/compare.py --tls          # TLS on both sides of every proxy
    python3 proxy/bench/compare.py --workers 2    # atomix-proxy with 2 workers as well

Each proxy runs alone on CPU 1 with one thread (haproxy nbthread 1; nghttpx one
worker, single thread; atomix-proxy --workers 1), h2load and the upstream
(proxy/examples/bench_upstream.rs) share CPU 0. With --workers N, "atomix-proxy-wN"
runs N workers on CPUs 0 and 1, and "one-wide" one worker on the same two CPUs: the
same placement, so that their ratio is what the workers themselves cost.

With --tls, every hop is TLS: h2load to the proxy, the proxy to the upstream, with the
same certificates for every proxy (an ECDSA P-256 CA and server key made here by
openssl), each side's default TLS 1.3 cipher order (AES-256-GCM first), and the proxy
checking the upstream's certificate against the CA. The request is a counter.Increment
with its header (name, session_id, delta) in one gRPC frame, the response an
IncrementResponse. atomix-proxy runs as shipped: metrics on, logs at info, default
timeouts; it decodes every request's header and every response's header.

Per round and target:
- loaded: h2load -c 16 -m 8, N calls: calls/s, and the proxy's CPU (user + system,
  from /proc) per call;
- paced: 16 clients at --rps each for --paced-seconds: CPU per call at an equal rate;
- sequential: h2load -c 1 -m 1: p50 and p99 latency from its per-request log;
- RSS of the proxy after the round.
Ratios are taken within each round (the machine is shared and noisy), then the median
over rounds is reported.
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RELEASE = os.path.join(ROOT, "target", "release")
PATH = "/atomix.counter.CounterService/Increment"
UPSTREAM = "127.0.0.1:7401"
PORTS = {"haproxy": 7402, "nghttpx": 7403, "atomix-proxy": 7404, "baseline": 7406, "workers": 7408,
         "one-wide": 7410}
METRICS = "127.0.0.1:7405"
BASELINE_METRICS = "127.0.0.1:7407"
WORKERS_METRICS = "127.0.0.1:7409"
ONE_WIDE_METRICS = "127.0.0.1:7411"


def make_certificates(tmp):
    """A CA and a server certificate for localhost and 127.0.0.1, ECDSA P-256, by
    openssl; haproxy takes the certificate and key in one file."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)
    path = lambda name: os.path.join(tmp, name)
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path("ca.key"))
    run("req", "-x509", "-new", "-key", path("ca.key"), "-subj", "/CN=bench CA", "-days", "30",
        "-out", path("ca.pem"))
    run("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path("server.ec"))
    run("pkcs8", "-topk8", "-nocrypt", "-in", path("server.ec"), "-out", path("server.key"))
    run("req", "-new", "-key", path("server.key"), "-subj", "/CN=localhost", "-out", path("server.csr"))
    with open(path("san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
        "-CAcreateserial", "-days", "30", "-extfile", path("san.ext"), "-out", path("server.pem"))
    with open(path("combined.pem"), "w") as f:
        f.write(open(path("server.pem")).read() + open(path("server.key")).read())
    return {name: path(name) for name in ["ca.pem", "server.pem", "server.key", "combined.pem"]}


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def request_body():
    # counter.IncrementRequest { header { name { name: "bench-counter" namespace: "bench" }
    # session_id: 7 request_id: 1 } delta: 1 }
    name = field(1, b"bench-counter") + field(2, b"bench")
    header = field(1, name) + b"\x10\x07\x18\x01"
    message = field(1, header) + b"\x10\x01"
    return b"\x00" + len(message).to_bytes(4, "big") + message


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        after = f.read().rsplit(")", 1)[1].split()
    return int(after[11]) + int(after[12])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def wait_port(port, limit=10.0):
    import socket

    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on {port}")


def start(target, tmp, a, certs):
    """Starts a proxy on CPU 1; returns (process, pid to measure, port). "baseline" is
    another atomix-proxy binary (--baseline), run with the same flags; "workers" is
    this one with --workers N on both CPUs."""
    port = PORTS[target]
    tls = certs is not None
    if target == "haproxy":
        cfg = os.path.join(tmp, "haproxy.cfg")
        bind = f"ssl crt {certs['combined.pem']} alpn h2" if tls else "proto h2"
        server = (f"ssl verify required ca-file {certs['ca.pem']} sni str(localhost) alpn h2"
                  if tls else "proto h2")
        with open(cfg, "w") as f:
            f.write(
                "global\n  nbthread 1\n  maxconn 4000\n"
                "defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n"
                "  timeout server 30s\n"
                f"frontend fe\n  bind 127.0.0.1:{port} {bind}\n  default_backend be\n"
                f"backend be\n  server up {UPSTREAM} {server}\n"
            )
        cmd = ["haproxy", "-f", cfg, "-db"]
    elif target == "nghttpx":
        backend = f"--backend={UPSTREAM.replace(':', ',')};;proto=h2"
        cmd = [
            "nghttpx",
            f"--frontend=127.0.0.1,{port}" + ("" if tls else ";no-tls"),
            backend + (";tls;sni=localhost" if tls else ""),
            "--workers=1",
            "--single-thread",
            "--errorlog-file=/dev/null",
            "--accesslog-file=/dev/null",
            "--no-ocsp",
        ]
        if tls:
            cmd += [f"--cacert={certs['ca.pem']}", certs["server.key"], certs["server.pem"]]
    else:
        binary = a.baseline if target == "baseline" else os.path.join(RELEASE, "atomix-proxy")
        metrics = {"baseline": BASELINE_METRICS, "workers": WORKERS_METRICS,
                   "one-wide": ONE_WIDE_METRICS}.get(target, METRICS)
        cmd = [binary, "--listen", f"127.0.0.1:{port}", "--partition", UPSTREAM, "--metrics", metrics]
        if target != "baseline":
            cmd += ["--workers", str(a.workers if target == "workers" else 1)]
        if tls:
            cmd += ["--tls-cert", certs["server.pem"], "--tls-key", certs["server.key"],
                    "--upstream-tls", "--upstream-ca", certs["ca.pem"],
                    "--upstream-server-name", "localhost"]
    cpus = "0,1" if target in ("workers", "one-wide") else "1"
    proc = subprocess.Popen(
        ["taskset", "-c", cpus] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_port(port)
    pid = proc.pid
    if target == "nghttpx":
        # nghttpx serves from a worker process under its master.
        out = subprocess.run(["pgrep", "-P", str(proc.pid), "nghttpx"], capture_output=True, text=True)
        pid = int(out.stdout.split()[0]) if out.stdout.split() else proc.pid
    return proc, pid, port


SCHEME = "http"


def h2load(port, args, body_file, log=None):
    cmd = ["taskset", "-c", "0", "h2load"] + args + [
        "-H", "content-type: application/grpc",
        "-H", "te: trailers",
        "-d", body_file,
    ]
    if log:
        cmd.append(f"--log-file={log}")
    cmd.append(f"{SCHEME}://127.0.0.1:{port}{PATH}")
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    done = re.search(r"(\d+) succeeded", out)
    rate = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    if not done or not rate:
        sys.exit("h2load failed:\n" + out)
    return int(done.group(1)), float(rate.group(1))


def percentiles(log):
    with open(log) as f:
        times = sorted(int(line.split("\t")[2]) for line in f if line.strip())
    pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
    return pick(0.5), pick(0.99)


def ok_calls():
    """atomix-proxy's count of OK calls, from its metrics."""
    import ssl
    import urllib.request

    # The metrics listener follows the client listeners' TLS; the bench's CA is not
    # the system's, and the count is all that is read.
    context = ssl._create_unverified_context()
    text = urllib.request.urlopen(f"{SCHEME}://{METRICS}/metrics", context=context).read().decode()
    return sum(
        float(m.group(1))
        for m in re.finditer(r'atomix_proxy_requests_total\{[^}]*code="OK"\} ([\d.e+]+)', text)
    )


def measure(target, port, pid, a, body, tmp):
    row = {}
    h2load(port, ["-n", "2000", "-c", "16", "-m", "8"], body)  # warm up
    t0 = cpu_ticks(pid) if pid else 0
    done, rate = h2load(port, ["-n", str(a.calls), "-c", "16", "-m", "8"], body)
    row["calls/s"] = rate
    if pid:
        row["cpu us/call"] = (cpu_ticks(pid) - t0) * 1e6 / os.sysconf("SC_CLK_TCK") / done
    t0 = cpu_ticks(pid) if pid else 0
    done, _ = h2load(
        port,
        ["-c", "16", "-m", "1", f"--rps={a.rps}", "-D", str(a.paced_seconds)],
        body,
    )
    if pid:
        row["paced cpu us/call"] = (cpu_ticks(pid) - t0) * 1e6 / os.sysconf("SC_CLK_TCK") / max(done, 1)
    log = os.path.join(tmp, f"{target}.log")
    h2load(port, ["-n", str(a.sequential), "-c", "1", "-m", "1"], body, log)
    row["p50 us"], row["p99 us"] = percentiles(log)
    if pid:
        row["rss KiB"] = rss_kib(pid)
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--calls", type=int, default=50000, help="calls of the loaded run")
    p.add_argument("--sequential", type=int, default=3000, help="calls of the sequential run")
    p.add_argument("--rps", type=int, default=250, help="paced rate per client (16 clients)")
    p.add_argument("--paced-seconds", type=int, default=4)
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--baseline", metavar="BIN", help="another atomix-proxy build to measure beside this one")
    p.add_argument("--tls", action="store_true", help="TLS on both sides of every proxy")
    p.add_argument("--workers", type=int, default=0, help="also atomix-proxy with this many workers")
    p.add_argument("--only", nargs="+", metavar="TARGET",
                   help="measure only these (direct haproxy nghttpx atomix-proxy baseline workers)")
    a = p.parse_args()
    global SCHEME
    for tool in ["haproxy", "nghttpx", "h2load", "taskset"]:
        if not shutil.which(tool):
            sys.exit(f"{tool} is missing: apt-get install haproxy nghttp2-proxy nghttp2-client")
    if not a.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "-q", "-p", "atomix-proxy", "--bin", "atomix-proxy",
             "--example", "bench_upstream"],
            cwd=ROOT, check=True,
        )
    tmp = tempfile.mkdtemp()
    certs = make_certificates(tmp) if a.tls else None
    SCHEME = "https" if a.tls else "http"
    body = os.path.join(tmp, "increment.bin")
    with open(body, "wb") as f:
        f.write(request_body())
    upstream = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(RELEASE, "examples", "bench_upstream"), UPSTREAM]
        + (["--tls", certs["server.pem"], certs["server.key"]] if a.tls else []),
        stderr=subprocess.DEVNULL,
    )
    wait_port(int(UPSTREAM.split(":")[1]))
    targets = (["direct", "haproxy", "nghttpx", "atomix-proxy"] + (["baseline"] if a.baseline else [])
               + (["workers", "one-wide"] if a.workers else []))
    if a.only:
        targets = [t for t in targets if t in a.only]
    rounds = []
    try:
        for r in range(a.rounds):
            results = {}
            for target in targets:
                if target == "direct":
                    results[target] = measure(target, int(UPSTREAM.split(":")[1]), None, a, body, tmp)
                    continue
                proc, pid, port = start(target, tmp, a, certs)
                try:
                    results[target] = measure(target, port, pid, a, body, tmp)
                    if target == "atomix-proxy":
                        results[target]["ok calls"] = ok_calls()
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(timeout=30)
            rounds.append(results)
            print(f"round {r + 1}: " + ", ".join(
                f"{t} {results[t].get('cpu us/call', 0):.1f} us/call p50 {results[t]['p50 us']} us"
                for t in targets), flush=True)
    finally:
        upstream.send_signal(signal.SIGTERM)
        upstream.wait()

    columns = ["calls/s", "cpu us/call", "paced cpu us/call", "p50 us", "p99 us", "rss KiB"]
    print(f"\nmedians over {a.rounds} rounds ({a.calls} loaded calls, 16x8; paced 16 x {a.rps}/s "
          f"for {a.paced_seconds} s; {a.sequential} sequential calls)\n")
    print("| target | " + " | ".join(columns) + " |")
    print("| --- |" + " ---: |" * len(columns))
    for t in targets:
        cells = []
        for c in columns:
            vals = [r[t][c] for r in rounds if c in r[t]]
            cells.append(f"{statistics.median(vals):,.1f}" if vals else "")
        print(f"| {t} | " + " | ".join(cells) + " |")
    print("\nratios within each round, median over rounds (atomix-proxy / reference; below 1 is cheaper):\n")

    def ratios(target, ref, columns):
        """`target` over `ref`, each column's median of the rounds' ratios."""
        parts = []
        for c in columns:
            each = [r[target][c] / r[ref][c] for r in rounds if r[ref].get(c)]
            parts.append(f"{c} {statistics.median(each):.2f}x")
        return ", ".join(parts)

    for ref in [t for t in ["haproxy", "nghttpx", "baseline"] if t in targets]:
        print(f"- vs {ref}: " + ratios("atomix-proxy", ref, ["cpu us/call", "paced cpu us/call", "p50 us", "p99 us"]))
    per_worker = ["cpu us/call", "paced cpu us/call", "calls/s"]
    if "workers" in targets and "atomix-proxy" in targets:
        print(f"- atomix-proxy --workers {a.workers} / --workers 1: " + ratios("workers", "atomix-proxy", per_worker))
    if "workers" in targets and "one-wide" in targets:
        print("- the same on CPUs 0 and 1 both: " + ratios("workers", "one-wide", per_worker))
    if "atomix-proxy" in targets:
        ok = rounds[-1]["atomix-proxy"]["ok calls"]
        print(f"\natomix-proxy answered OK (its metrics) {ok:.0f} calls in the last round")


if __name__ == "__main__":
    main()
