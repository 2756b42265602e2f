#!/usr/bin/env bash
# Measure the book against its performance budgets (see benchmarks/run.py).
# Usage: bash scripts/benchmark.sh [--quick] [--site PATH]
#   full mode writes benchmarks/RESULTS.md; exits 1 when a budget is exceeded.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
ensure_chromium
cd "$ROOT"
exec python benchmarks/run.py "$@"
