#!/usr/bin/env bash
# Build the whole book into _build/html, strictly: any warning or cell error fails.
# Usage: bash scripts/build.sh [--clean] [--serve]
#   --clean  drop the execution cache and previous build first
#   --serve  afterwards, serve the site on http://127.0.0.1:8000 until Ctrl-C
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
clean=0 serve=0
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    --serve) serve=1 ;;
    *) echo "usage: bash scripts/build.sh [--clean] [--serve]" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/setup.sh"
# The live figures' first frames are copied from the figures as Chromium draws
# them (book/_ext/live_first_frames.py).
ensure_chromium
cd "$ROOT"
# One thread per kernel: the chapters' tensors are small, and extra threads only
# fight each other (and anything else running) for the cores.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
if [ "$clean" = 1 ]; then rm -rf _build; fi
# The execution cache knows the chapters' code, not the widgets package they call:
# when the package changes, every chapter must run and be read again.
package_hash="$(find src/widgets -name '*.py' -print0 | sort -z | xargs -0 cat | sha256sum | cut -d' ' -f1)"
if [ "$(cat _build/.widgets-hash 2>/dev/null)" != "$package_hash" ]; then
  rm -rf _build/.jupyter_cache _build/.doctrees
fi
# Sphinx does not overwrite files it copied on an earlier build (the vendored
# assets among them), so the site folder is always written afresh; the execution
# cache in _build/.jupyter_cache is kept unless --clean.
rm -rf _build/html
# jupyter-book build, reading (and so executing) one chapter per core at a time.
python scripts/jupyter_book_build.py . --warningiserror --nitpick --keep-going
echo "$package_hash" > _build/.widgets-hash
echo "The site is in $ROOT/_build/html (open _build/html/index.html, or: bash scripts/build.sh --serve)"
if [ "$serve" = 1 ]; then
  python -m http.server --bind 127.0.0.1 --directory _build/html 8000
fi
