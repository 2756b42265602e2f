#!/usr/bin/env bash
# Run CI (bash .ci/run) on a busy machine: two CPU-bound processes run beside it for
# the whole run, as on a laptop that is doing other work. Prints the outcome and the
# wall time of each run. Usage: bash scripts/test_busy.sh [RUNS]   (default 1)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-1}"
PY="$(command -v python3)"
status=0
for run in $(seq 1 "$RUNS"); do
  burners=()
  for _ in 1 2; do
    # Pure Python arithmetic: one core each, no threads, no memory to speak of.
    "$PY" -c 'x = 0
while True:
    x = (x * 1103515245 + 12345) % 2147483648' &
    burners+=($!)
  done
  mkdir -p "$ROOT/_build"
  start=$(date +%s)
  (cd "$ROOT" && bash .ci/run) > "$ROOT/_build/busy-run-$run.log" 2>&1
  rc=$?
  kill "${burners[@]}" 2>/dev/null; wait "${burners[@]}" 2>/dev/null
  echo "busy run $run: exit $rc in $(( $(date +%s) - start )) s (log: _build/busy-run-$run.log)"
  [ "$rc" -eq 0 ] || status=1
done
exit "$status"
