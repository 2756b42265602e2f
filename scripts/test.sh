#!/usr/bin/env bash
# Run the whole test suite: unit tests, a strict build from clean, and browser
# tests in headless Chromium. Installs what is missing first (Debian's chromium
# needs root or sudo). Extra arguments go to pytest, e.g. -k controls.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
ensure_chromium
cd "$ROOT"
# Lint first (configuration in pyproject.toml): it takes a second.
python -m ruff check .
exec python -m pytest "$@"
