"""The live figures' browser modules on the static site: served once, in the widget manager.

A live figure (:mod:`widgets.live`) carries its whole browser module in its
widget state, as anywidget's ``_esm``: the shared layer module, the DOM
helpers and the figure's own code, 35-45 KB, with its stylesheet in ``_css``.
That is what JupyterLab needs. On the static site the widget manager bundles
those modules once for the whole site (``frontend/live.js``), and this
extension replaces, in each page's saved widget state, a figure's module by a
reference to the bundled copy (:data:`~widgets.live.platform.SITE_MODULE_PREFIX`
and the figure's name) and its stylesheet by nothing (the bundle adds it).

An anywidget module that is not exactly one of the figures' modules as they
are now (say, a chapter executed before a figure's module changed) is a build
warning, which the strict build turns into an error. Before any page is
written, ``_vendor/`` is made again (scripts/vendor_assets.py) if its sources
changed since it was made, so the pages and the bundle come from the same modules.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from functools import cache
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

ROOT = Path(__file__).resolve().parents[2]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
logger = logging.getLogger(__name__)


@cache
def _bundled() -> tuple[dict[str, str], str, str]:
    """Each figure's module text by figure name, the figures' stylesheet, and the reference prefix."""
    from widgets.live import platform

    modules = {platform.esm(name): name for name in platform.figures()}
    return modules, platform.STYLESHEET, platform.SITE_MODULE_PREFIX


def site_state(state: dict) -> tuple[dict, list[str]]:
    """A page's saved widget state as the static site serves it, and what could not be replaced.

    Each anywidget model whose module is a live figure's gets the reference to
    the bundled figure instead, and its stylesheet, when it is the figures' own,
    is emptied. ``state`` itself is left unchanged. Every other anywidget
    model is kept as it is and named in the returned list.
    """
    if not isinstance(state, dict) or not isinstance(state.get("state"), dict):
        raise ValueError(f"state must be a saved widget state, a dict with a 'state' dict, got {state!r:.80}")
    modules, css, prefix = _bundled()
    result = copy.copy(state)
    result["state"] = dict(state["state"])
    problems = []
    for model_id, model in state["state"].items():
        if model.get("model_module") != "anywidget":
            continue
        values = model.get("state", {})
        figure = modules.get(values.get("_esm"))
        if figure is None:
            problems.append(f"widget {model_id}: its anywidget module is none of the live figures' modules "
                            f"as they are now ({', '.join(sorted(modules.values()))}); a stale execution?")
            continue
        values = {**values, "_esm": prefix + figure}
        if values.get("_css") == css:
            values["_css"] = ""
        result["state"][model_id] = {**model, "state": values}
    return result, problems


def serve_bundled_figures(app, pagename, templatename, context, doctree):
    """Rewrite the page's widget state script (added by myst-nb just before) with :func:`site_state`."""
    scripts = context.get("script_files") or []
    for i, script in enumerate(scripts):
        attributes = getattr(script, "attributes", {})
        if attributes.get("type") != WIDGET_STATE or "body" not in attributes:
            continue
        state, problems = site_state(json.loads(attributes["body"]))
        for problem in problems:
            logger.warning(problem, location=pagename)
        body = json.dumps(state).replace("</script>", r"<\/script>")
        scripts[i] = type(script)(None, priority=script.priority, **{**attributes, "body": body})


def _vendor_assets():
    spec = importlib.util.spec_from_file_location("vendor_assets", ROOT / "scripts" / "vendor_assets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def refresh_vendor(app):
    """Make ``_vendor/`` again when its sources (the widget manager's, the live figures') have changed."""
    if app.builder.format != "html":
        return
    vendor = _vendor_assets()
    if vendor.is_current():
        return
    logger.info("live_figures: the front-end sources changed; making _vendor/ again")
    if vendor.main() != 0:
        raise ExtensionError("scripts/vendor_assets.py could not make _vendor/")


def setup(app):
    app.connect("builder-inited", refresh_vendor)
    # After myst-nb's handler (priority 500) has added the page's widget state.
    app.connect("html-page-context", serve_bundled_figures, priority=510)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
