"""A line in the page's HTML, inside each table and each display formula, for when it scrolls sideways.

A table or a formula wider than the column scrolls inside its own box (the
theme's ``pst-scrollable-table-container``, and ``div.math`` in
book/_static/book.css); on a phone most of it is then out of sight. A line
"Scroll sideways to see all of it" at the top of such a box says so.
book/_static/scroll-hints.js used to add that line once the page had loaded,
which on a slow phone was after the text had been drawn: the page moved down
under the reader (73 pixels in chapter 8).

So, as each page is written, this extension puts the line into every such box,
first, at no height. book.css gives it its height only in a box that scrolls,
which the browser knows when it first lays the page out (a scroll timeline is
active only in a box that can scroll), so the line is there at first paint and
nothing moves. Browsers without scroll timelines get the line from
scroll-hints.js, as before.
"""

from __future__ import annotations

import re

HINT = ('<p class="cw-scroll-hint cw-box-hint" aria-hidden="true">'
        "Scroll sideways to see all of it \u2192</p>")
# The opening tag of a box that scrolls: a table's (pydata-sphinx-theme's wrapper) or a display formula's.
BOX = re.compile(r'<div class="(?:pst-scrollable-table-container|math notranslate nohighlight)"[^>]*>')


def add_hints(body: str) -> tuple[str, int]:
    """``body`` with the hint line first in every table's and display formula's box, and how many."""
    if not isinstance(body, str):
        raise ValueError(f"body must be the page's HTML as a string, got {type(body).__name__}")
    count = 0

    def insert(match):
        nonlocal count
        if body.startswith(HINT, match.end()):
            return match.group(0)
        count += 1
        return match.group(0) + HINT

    return BOX.sub(insert, body), count


def on_page(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if body:
        context["body"], _ = add_hints(body)


def setup(app):
    app.connect("html-page-context", on_page, priority=950)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
