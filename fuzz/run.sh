#!/usr/bin/env bash
# Runs fuzz targets for a bounded time each, seeded from testdata/, after replaying the
# crashes kept under fuzz/regressions/. Stable toolchain: RUSTC_BOOTSTRAP lets cargo-fuzz
# use its nightly flags (AddressSanitizer, sanitizer coverage).
#
#   fuzz/run.sh SECONDS [TARGET...]      (default: every target)
#
# Builds with debug assertions and overflow checks (cargo fuzz's default, -a). Exits
# non-zero on the first crash; libFuzzer leaves the input under fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
seconds=${1:-30}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo fuzz list)
fi
python3 seed_corpus.py
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  if compgen -G "regressions/$t/*" >/dev/null; then
    cargo fuzz run -a "$t" regressions/"$t"/* -- -runs=0
  fi
  # grep hides libFuzzer's progress lines (and finds none when the build fails); the
  # target's own exit status decides.
  set +e
  cargo fuzz run -a "$t" "corpus/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::peak_rss|INFO: seed corpus|==[0-9]+==ERROR|SUMMARY|panicked|Done [0-9]+ runs|error)"
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "fuzz target $t failed to build or run (exit $status)" >&2
    exit 1
  fi
  if compgen -G "artifacts/$t/crash-*" >/dev/null || compgen -G "artifacts/$t/oom-*" >/dev/null || compgen -G "artifacts/$t/timeout-*" >/dev/null; then
    echo "fuzz target $t found a failing input:" >&2
    ls artifacts/"$t" >&2
    exit 1
  fi
done
