#!/usr/bin/env bash
# Instructions per call of an atomix-proxy build, counted by callgrind: the figure that
# stays put on a shared, noisy machine, where compare.py's CPU times move by several
# percent. The proxy runs under valgrind in front of proxy/examples/bench_upstream.rs;
# h2load sends 500 counter.Increment calls to warm it up, the counters are zeroed, then
# CALLS more (4 connections x 4 streams) are counted.
#
#   apt-get install valgrind nghttp2-client          # once
#   cargo build --release -p atomix-proxy --bin atomix-proxy --example bench_upstream
#   bash proxy/bench/instructions.sh                  # this tree's release build
#   bash proxy/bench/instructions.sh /tmp/atomix-proxy-old 5000
#   bash proxy/bench/instructions.sh target/release/atomix-proxy 5000 "--workers 2"
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/target/release/atomix-proxy}
calls=${2:-5000}
# More flags for the proxy (a build older than --workers takes none).
read -r -a extra <<<"${3:-}"
up=127.0.0.1:7511 px=127.0.0.1:7512 metrics=127.0.0.1:7513
work=$(mktemp -d)
trap 'kill $proxy $upstream 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
python3 -c "
import sys; sys.path.insert(0, '$root/proxy/bench')
import compare
open('$work/body.bin', 'wb').write(compare.request_body())"
"$root/target/release/examples/bench_upstream" $up 2>/dev/null &
upstream=$!
valgrind --tool=callgrind --callgrind-out-file="$work/out.%p" \
  "$bin" --listen $px --partition $up --metrics $metrics "${extra[@]}" 2>"$work/valgrind.log" &
proxy=$!
for _ in $(seq 1 100); do
  (echo >/dev/tcp/${px%:*}/${px#*:}) 2>/dev/null && break
  sleep 0.2
done
load() {
  h2load -n "$1" -c 4 -m 4 -H content-type:application/grpc -H te:trailers \
    -d "$work/body.bin" "http://$px/atomix.counter.CounterService/Increment" |
    grep -E '^requests:'
}
load 500 >/dev/null
callgrind_control -z $proxy >/dev/null 2>&1
load "$calls"
callgrind_control -d $proxy >/dev/null 2>&1
sleep 1
total=$(grep -h '^summary:' "$work"/out.$proxy.1 | awk '{print $2}')
echo "$bin: $((total / calls)) instructions per call ($total for $calls calls)"
