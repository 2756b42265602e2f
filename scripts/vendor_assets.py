"""Copy the front-end assets the site serves from its own folder into _vendor/.

Sphinx copies _vendor/ verbatim to the site root (``html_extra_path``), outside
``_static`` so that Jupyter Book does not inject these scripts into every page.
Sources are the npm packages pinned in frontend/package-lock.json. The folder
is rebuilt from scratch on every run, so it never keeps a file that is no
longer wanted.

The widget manager is the self-contained bundle ``embed.js`` (the widget
controls built in, no RequireJS), with one change: it draws the widgets as
soon as the page's HTML has been read, instead of waiting for the window's
``load`` event, which also waits for every image, font and stylesheet. The
bundle's state is all in the page by then (the widget-state script precedes
it), so nothing else differs. The change replaces one exact piece of text and
stops with an error if the pinned bundle no longer contains it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "frontend" / "node_modules"
OUT = ROOT / "_vendor"

MANAGER = "@jupyter-widgets/html-manager/dist"
# (source under node_modules, destination under the site root, files to leave out)
ASSETS = [
    # The widget manager's icon fonts; its script is written by write_manager().
    (MANAGER, "vendor/html-manager", ("*.js", "*.map", "*.LICENSE.txt")),
    ("mathjax/es5", "vendor/mathjax/es5", ("*.map",)),
]
# Files of our own, beside the assets they configure.
OWN = [
    ("frontend/widgets-setup.js", "vendor/widgets-setup.js"),
]

# embed.js registers its drawing on the window's load event; run it once the
# document has been parsed instead (at once if that has already happened, as it
# has for a deferred script).
ON_LOAD = 'window.addEventListener("load",(()=>{'
ON_PARSED = ('(f=>"loading"!==document.readyState?f():'
             'document.addEventListener("DOMContentLoaded",f,{once:!0}))((()=>{')


def write_manager(target: Path) -> None:
    source = MODULES / MANAGER / "embed.js"
    text = source.read_text(encoding="utf-8")
    if text.count(ON_LOAD) != 1:
        raise SystemExit(f"error: {source} no longer registers its drawing with {ON_LOAD!r} exactly once; "
                         "check scripts/vendor_assets.py against the pinned @jupyter-widgets/html-manager")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text.replace(ON_LOAD, ON_PARSED), encoding="utf-8")


def main() -> int:
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
    write_manager(OUT / "vendor" / "html-manager" / "embed.js")
    for src, dst in OWN:
        shutil.copy2(ROOT / src, OUT / dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
