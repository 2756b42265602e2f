"""Each explorer's first frame in the page's HTML, so it is on screen at first paint.

An explorer (:func:`widgets.controls.explore`) reaches the static site as a
widget view script, ``<script type="application/vnd.jupyter.widget-view+json">``,
which the widget manager replaces by the drawn widget once it has loaded:
until then the reader sees the text without the figure, and the page moves
when it appears. This extension puts, right after each explorer's view script, a still copy of
the explorer as its controls open it: a row of empty boxes as wide and high as
the controls (book/_static/book.css), and the frame those controls select (the
``<img>`` the nested stacks show first). The widget manager draws the explorer
out of sight and, once its frame is decoded, puts it in the copy's place in one
change of the page (frontend/manager.js), so nothing moves. Without
JavaScript, the copy stays: the figure is still there, and in place of the empty
boxes a line says which setting it shows and that the controls need JavaScript.

The frame's image is in the page twice (in the widget state and in the copy):
one image per explorer, about 15-60 KB.
"""

from __future__ import annotations

import html
import json
import re

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
VIEW = re.compile(r'<script type="application/vnd\.jupyter\.widget-view\+json">(?P<json>.*?)</script>', re.S)
EXPLORER_CLASS = "cw-explorer"
_REF = "IPY_MODEL_"


def _model(models: dict, ref: str) -> dict | None:
    return models.get(ref.removeprefix(_REF))


def _first_frame(models: dict, model: dict) -> str | None:
    """The image HTML the stacks under ``model`` show first (with its hint, if it has one), or None."""
    for _ in range(64):   # a stack per parameter; a cycle would be a broken state
        values = model.get("state", {})
        name = values.get("_model_name") or model.get("model_name")
        if name == "StackModel":
            children, index = values.get("children") or [], values.get("selected_index")
            if not isinstance(index, int) or not 0 <= index < len(children):
                return None
            model = _model(models, children[index])
        elif name == "HTMLModel":
            value = values.get("value", "")
            return value if value.lstrip().startswith(("<img", "<picture", '<p class="cw-scroll-hint')) else None
        else:
            return None
        if model is None:
            return None
    return None


def _control(model: dict) -> str:
    """An empty box as wide and high as one control (its text kept, invisible, for its width)."""
    values = model.get("state", {})
    name = values.get("_model_name") or model.get("model_name")
    text = html.escape(str(values.get("description", "")))
    if name == "PlayModel":
        return '<span class="cw-ff-play"></span>'
    if name == "ToggleButtonsModel":
        buttons = "".join(f"<span>{html.escape(str(label))}</span>" for label in values.get("_options_labels", []))
        return f'<span class="cw-ff-toggle"><span>{text}</span>{buttons}</span>'
    return '<span class="cw-ff-slider"></span>'


def _setting(model: dict) -> str | None:
    """What one control is set to, as "its label value" (None for a play button)."""
    values = model.get("state", {})
    name = values.get("_model_name") or model.get("model_name")
    if name == "PlayModel":
        return None
    label = str(values.get("description", "")).strip().rstrip(":")
    value = values.get("value")
    if "_options_labels" in values:
        labels, index = values.get("_options_labels") or [], values.get("index")
        value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
    if value is None:
        return None
    return html.escape(f"{label} {value}".strip())


def placeholder(models: dict, model_id: str) -> str | None:
    """The still copy of the explorer ``model_id`` (see the module's text), or None if it is none."""
    model = models.get(model_id)
    if model is None:
        return None
    values = model.get("state", {})
    if EXPLORER_CLASS not in (values.get("_dom_classes") or []):
        return None
    children = [_model(models, ref) for ref in values.get("children") or []]
    if len(children) != 2 or None in children:
        return None
    row, stack = children
    frame = _first_frame(models, stack)
    if frame is None:
        return None
    row = [m for m in (_model(models, r) for r in row.get("state", {}).get("children", [])) if m is not None]
    controls = "".join(_control(m) for m in row)
    settings = ", ".join(s for s in map(_setting, row) if s)
    shown = f"Shown: {settings}. " if settings else ""
    # For a reader without JavaScript, whose controls never come (book.css shows one or the other).
    still = f'<p class="cw-ff-still">{shown}Changing it needs JavaScript.</p>'
    return (f'<div class="cw-first-frame"><div class="cw-ff-controls" aria-hidden="true">{controls}</div>'
            f'{still}<div class="cw-ff-frame">{frame}</div></div>')


def after_views(body: str, copy_for) -> tuple[str, int]:
    """``body`` with HTML put around each widget view script, and how many scripts got some.

    ``copy_for(model_id, following)`` gets each view script's model id and the
    text that follows the script, and returns the HTML to put before and after
    the script, as a pair, or None to leave it alone.
    """
    added = 0

    def insert(match):
        nonlocal added
        try:
            model_id = json.loads(match.group("json")).get("model_id")
        except (json.JSONDecodeError, AttributeError):
            return match.group(0)
        around = copy_for(model_id, body[match.end():match.end() + 40]) if isinstance(model_id, str) else None
        if around is None:
            return match.group(0)
        added += 1
        before, after = around
        return before + match.group(0) + after

    return VIEW.sub(insert, body), added


def add_first_frames(body: str, state: dict) -> tuple[str, int]:
    """``body`` with a still first frame after each explorer's view script, and how many were added."""
    if not isinstance(state, dict) or not isinstance(state.get("state"), dict):
        raise ValueError(f"state must be a saved widget state, a dict with a 'state' dict, got {state!r:.80}")
    models = state["state"]

    def copy_for(model_id, following):
        copy = placeholder(models, model_id)
        return None if copy is None else ("", copy)

    return after_views(body, copy_for)


def on_page(app, pagename, templatename, context, doctree):
    """Add the first frames to the page's body, from the widget state myst-nb added to its scripts."""
    body = context.get("body")
    if not body or "widget-view+json" not in body:
        return
    for script in context.get("script_files") or []:
        attributes = getattr(script, "attributes", {})
        if attributes.get("type") == WIDGET_STATE and "body" in attributes:
            context["body"], _ = add_first_frames(body, json.loads(attributes["body"]))
            return


def setup(app):
    # After myst-nb's handler (priority 500) has added the page's widget state.
    app.connect("html-page-context", on_page, priority=520)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
