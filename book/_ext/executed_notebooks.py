"""Offer every chapter's executed notebook (.ipynb) for download from its page.

Chapters are MyST Markdown notebooks; myst-nb executes them and writes the
executed notebooks, outputs and widget state included, to ``jupyter_execute/``
beside the site. This extension copies them into the site's ``_sources/``
folder and tells the theme about them, so the download menu of each chapter
offers ".ipynb" beside ".md" and ".pdf".
"""

from __future__ import annotations

import shutil
from pathlib import Path


def _executed(app) -> Path:
    return Path(app.outdir).parent / "jupyter_execute"


def announce(app, pagename, templatename, context, doctree):
    if (_executed(app) / f"{pagename}.ipynb").is_file():
        context["ipynb_source"] = f"{pagename}.ipynb"


def copy_notebooks(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for notebook in _executed(app).rglob("*.ipynb"):
        target = Path(app.outdir) / "_sources" / notebook.relative_to(_executed(app))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)


def setup(app):
    # Before the theme builds its header buttons (priority 501).
    app.connect("html-page-context", announce, priority=499)
    app.connect("build-finished", copy_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
