"""Each live figure's first frame in the page's HTML, so it is on screen at first paint.

A live figure (:mod:`widgets.live`) is drawn by its browser module: fields,
menus, tables and canvases, laid out by its stylesheet. Until the widget
manager has loaded and run it, the page shows nothing in its place, and the
text below moves down when it appears. Unlike an explorer's frame
(book/_ext/first_frames.py), nothing in the widget state looks like the drawn figure.

So once the site is written, this extension opens each page that has a live
figure in Chromium (the browser the tests drive), lets the figures draw
themselves, and copies each one as drawn into the page, right after its view
script: the same elements and classes (so the same layout at every width, from
the figures' stylesheet, which comes along once per page), with each canvas
replaced by an image of its pixels and each field and menu showing its value.
The copy is ``inert``: nothing in it can be typed into or focused, so nothing a
reader does is lost when the widget manager draws the figure out of sight and
puts it in the copy's place (frontend/manager.js, as for an explorer).
Without JavaScript the copy stays: the figure as it opens.

The copy is taken in one window (1280 pixels wide), so a live figure must not
size itself from the width it finds when it draws: what changes with the width
is left to the stylesheet, which lays out the copy as it lays out the figure.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import threading
from pathlib import Path

from first_frames import after_views
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WINDOW = {"width": 1280, "height": 900}
#: How long a page may take to draw its live figures before the build fails.
DRAW_TIMEOUT_MS = 120_000
STYLE_MARK = "cw-live-first-style"

# In the page: whether every live figure is drawn (and no longer hidden), and the copies.
_LIVE = """(prefix) => {
    const tag = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
    const state = tag ? JSON.parse(tag.textContent).state : {};
    return [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
        .filter(view => (((state[JSON.parse(view.textContent).model_id] || {}).state || {})._esm || '')
                        .startsWith(prefix));
}"""
DRAWN = f"""(prefix) => ({_LIVE})(prefix).every(view => {{
    const area = view.previousElementSibling;
    return area && area.matches('.widget-subarea:not(.cw-drawing)') && area.querySelector('.cw-live');
}})"""
COPIES = f"""(prefix) => ({_LIVE})(prefix).map(view => {{
    const area = view.previousElementSibling, copy = area.cloneNode(true);
    const canvases = [...area.querySelectorAll('canvas')];
    [...copy.querySelectorAll('canvas')].forEach((still, i) => {{
        const canvas = canvases[i], img = document.createElement('img');
        for (const a of canvas.attributes) {{ img.setAttribute(a.name, a.value); }}
        img.setAttribute('src', canvas.toDataURL('image/png'));
        img.setAttribute('width', canvas.width);
        img.setAttribute('height', canvas.height);
        img.setAttribute('alt', canvas.getAttribute('aria-label') || '');
        for (const a of ['role', 'aria-roledescription', 'aria-label']) {{ img.removeAttribute(a); }}
        still.replaceWith(img);
    }});
    const fields = [...area.querySelectorAll('input, select, textarea')];
    [...copy.querySelectorAll('input, select, textarea')].forEach((still, i) => {{
        const field = fields[i];
        if (field.tagName === 'SELECT') {{
            [...still.options].forEach((o, k) => o.toggleAttribute('selected', k === field.selectedIndex));
        }} else if (field.type === 'checkbox' || field.type === 'radio') {{
            still.toggleAttribute('checked', field.checked);
        }} else {{
            still.setAttribute('value', field.value);
        }}
    }});
    // Nothing in the copy may share an id with the figure drawn beside it, or be
    // taken for a drawn widget (the widget's own element keeps its margins inline).
    const originals = [...area.querySelectorAll('*')];
    [...copy.querySelectorAll('*')].forEach((e, i) => {{
        for (const a of ['id', 'for', 'aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-live',
                         'tabindex']) {{ e.removeAttribute(a); }}
        if (e.classList.contains('jupyter-widgets')) {{
            const s = getComputedStyle(originals[i]);
            e.classList.replace('jupyter-widgets', 'cw-ff-widget');
            e.style.margin = s.margin;
            e.style.padding = s.padding;
        }}
    }});
    return {{model: JSON.parse(view.textContent).model_id, html: copy.innerHTML}};
}})"""


def add_copies(body: str, copies: dict[str, str], css: str) -> tuple[str, int]:
    """``body`` with each live figure's copy (model id to HTML) after its view script, and how many it now has.

    The figures' stylesheet comes once, before the first copy. A view script
    already followed by a first frame (a page written by an earlier build) keeps it.
    """
    if not isinstance(copies, dict) or not all(isinstance(v, str) for v in copies.values()):
        raise ValueError(f"copies must map model ids to HTML, got {copies!r:.80}")
    placed = set()

    def copy_for(model_id, following):
        if model_id not in copies:
            return None
        if following.lstrip().startswith('<div class="cw-first-frame'):
            placed.add(model_id)
            return None
        style = "" if placed or STYLE_MARK in body else f'<style class="{STYLE_MARK}">{css}</style>'
        placed.add(model_id)
        return style, f'<div class="cw-first-frame cw-live-first" inert>{copies[model_id]}</div>'

    body, _ = after_views(body, copy_for)
    return body, len(placed)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _serve(root: Path):
    """The folder ``root`` served on 127.0.0.1 (a free port); yields its base URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def write_first_frames(app, exception):
    """Once the site is written: a copy of each live figure, as drawn, in its page (see the module's text)."""
    if exception is not None or app.builder.format != "html":
        return
    from widgets.live import platform

    out = Path(app.outdir)
    prefix = platform.SITE_MODULE_PREFIX
    pages = [p for p in sorted(out.rglob("*.html")) if f'"_esm": "{prefix}' in p.read_text(encoding="utf-8")]
    if not pages:
        return
    if not Path(CHROMIUM).exists():
        raise ExtensionError(f"live_first_frames: the live figures' first frames are drawn in Chromium, "
                             f"and there is none at {CHROMIUM} (install Debian's chromium, or set CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with _serve(out) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for path in pages:
                page = browser.new_page(viewport=WINDOW, device_scale_factor=1)
                try:
                    page.goto(f"{base}/{path.relative_to(out).as_posix()}")
                    page.wait_for_function(DRAWN, arg=prefix, timeout=DRAW_TIMEOUT_MS)
                    copies = {c["model"]: c["html"] for c in page.evaluate(COPIES, prefix)}
                finally:
                    page.close()
                body, placed = add_copies(path.read_text(encoding="utf-8"), copies, platform.STYLESHEET)
                if placed != len(copies):
                    raise ExtensionError(f"live_first_frames: {path.name} has {len(copies)} live figures, "
                                         f"but {placed} of them could be placed")
                path.write_text(body, encoding="utf-8")
                logger.info(f"live_first_frames: {placed} live figure(s) in {path.name}")
        finally:
            browser.close()


def setup(app):
    app.connect("build-finished", write_first_frames)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
