"""Figures' phone drawings as files of the site, fetched only by the windows that show them.

A figure laid out again for a phone (widgets.draw.style.narrow_layout) comes
to the page as a second image inside its ``<picture>``: a ``<source>`` that
windows up to 540 pixels wide show instead of the ``<img>``. In a notebook both
images are inline, as data URLs. On the site that would make every reader
download every phone drawing, an explorer's for each of its frames (about as
much again as the frames themselves), though a wide window shows none of them.

So, as each page is written, this extension moves every phone drawing (a
``<source srcset>`` data URL) into a file of its own under ``_phone/`` in the
site, named by a hash of its bytes, and points the ``srcset`` at it: in the
page's body (static figures, explorers' first frames) and in its widget state
(every explorer frame). A browser fetches a ``<source>`` only when its media
query picks it, and an explorer draws only the frame its controls select, so a
phone fetches the drawings it shows, one frame at a time, and a wide window
none. The ``<source>`` keeps its width and height: the page holds the room
before the file arrives.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import re
import tempfile
from pathlib import Path

FOLDER = "_phone"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# A srcset holding a data URL, in HTML (") or inside the widget state's JSON (\"); base64 has neither.
SRCSET = re.compile(r'srcset=(?P<q>\\?")data:image/(?P<kind>png|webp);base64,(?P<data>[A-Za-z0-9+/]+=*)(?P=q)')


def to_files(text: str, save) -> tuple[str, int]:
    """``text`` with every ``srcset`` data URL replaced by what ``save(name, data)`` returns, and how many.

    ``name`` is the file's name (a hash of the bytes and the image's kind), ``data`` the bytes.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be the page's HTML or widget state as a string, got {type(text).__name__}")
    count = 0

    def replace(match):
        nonlocal count
        data = base64.b64decode(match["data"], validate=True)
        name = f"{hashlib.sha256(data).hexdigest()[:20]}.{match['kind']}"
        count += 1
        return f"srcset={match['q']}{save(name, data)}{match['q']}"

    return SRCSET.sub(replace, text), count


def _writer(outdir: Path, pagename: str):
    """A ``save`` for :func:`to_files`: the file written once into the site, and its URL from the page."""
    folder = outdir / FOLDER
    here = posixpath.dirname(pagename) or "."

    def save(name, data):
        path = folder / name
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            # Written under another name first: pages written side by side may share a drawing.
            with tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp:
                tmp.write(data)
            # Readable by all, as the site's other files (a temporary file is its owner's alone).
            os.chmod(tmp.name, 0o644)
            os.replace(tmp.name, path)
        return posixpath.relpath(f"{FOLDER}/{name}", here)

    return save


def on_page(app, pagename, templatename, context, doctree):
    """Move the page's phone drawings into files: its body's and its widget state's."""
    if app.builder.format != "html":
        return
    save = _writer(Path(app.outdir), pagename)
    if context.get("body"):
        context["body"], _ = to_files(context["body"], save)
    for script in context.get("script_files") or []:
        attributes = getattr(script, "attributes", None)
        if attributes and attributes.get("type") == WIDGET_STATE and "body" in attributes:
            attributes["body"], _ = to_files(attributes["body"], save)


def setup(app):
    # After myst-nb (500) has added the widget state and first_frames (520) the explorers' first frames.
    app.connect("html-page-context", on_page, priority=530)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
