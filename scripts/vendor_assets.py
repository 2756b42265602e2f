"""Copy the front-end assets the site serves from its own folder into _vendor/.

Sphinx copies _vendor/ verbatim to the site root (``html_extra_path``), outside
``_static`` so that Jupyter Book does not inject these scripts into every page.
Sources are the npm packages pinned in frontend/package-lock.json.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "frontend" / "node_modules"
OUT = ROOT / "_vendor"

# (source under node_modules, destination under the site root)
ASSETS = [
    ("requirejs/require.js", "vendor/requirejs/require.js"),
    ("@jupyter-widgets/html-manager/dist", "vendor/html-manager"),
    ("mathjax/es5", "vendor/mathjax/es5"),
]
# Files of our own, beside the assets they configure.
OWN = [
    ("frontend/widgets-setup.js", "vendor/widgets-setup.js"),
]
# Not needed by a browser: source maps and the non-AMD bundle.
SKIP = ("*.map", "embed.js", "*.LICENSE.txt")


def main() -> int:
    if not MODULES.is_dir():
        print(f"error: {MODULES} is missing; run scripts/setup.sh", file=sys.stderr)
        return 1
    pairs = [(MODULES / src, dst) for src, dst in ASSETS] + [(ROOT / src, dst) for src, dst in OWN]
    for source, dst in pairs:
        target = OUT / dst
        if not source.exists():
            print(f"error: {source} is missing; run scripts/setup.sh", file=sys.stderr)
            return 1
        if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(*SKIP))
        else:
            shutil.copy2(source, target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
