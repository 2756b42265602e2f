"""The build's page rewrites: formulas typeset into the HTML (book/_ext/static_math.py),
each explorer's first frame put in the page (book/_ext/first_frames.py) and each
live figure's (book/_ext/live_first_frames.py).
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import first_frames
import ipywidgets.embed
import live_first_frames
import matplotlib.pyplot as plt
import pytest
import static_math
from sphinx.errors import ExtensionError

from widgets import controls

# --------------------------------------------------------------------------- formulas


def test_formulas_are_typeset_into_the_page_and_the_rest_is_left_alone():
    body = ('<p>Size <span class="math notranslate nohighlight">\\(n &lt; k^2\\)</span> here.</p>\n'
            '<div class="math notranslate nohighlight" id="equation-r"><span class="eqno">(1)</span>\n'
            '\\[r = 1 + \\sum_l (k_l - 1)\\]</div>\n<p>After.</p>')
    out, css, count = static_math.typeset_page(body)
    assert count == 2
    assert "\\(" not in out and "\\[" not in out, "TeX left in the page"
    assert out.startswith("<p>Size ") and out.endswith("<p>After.</p>")
    assert '<span class="eqno">(1)</span>' in out, "the equation number is kept"
    containers = re.findall(r'<mjx-container class="MathJax" jax="SVG"( display="true")?', out)
    assert [bool(d) for d in containers] == [False, True], "inline, then display"
    # The escaped < was read as TeX's <, and the MathML for screen readers says so.
    assert "<mo>&lt;</mo>" in out and out.count("<mjx-assistive-mml") == 2
    assert "mjx-assistive-mml" in css and 'mjx-container[jax="SVG"]' in css


def test_a_page_without_formulas_is_returned_as_it_is():
    body = "<p>No mathematics, only $5 and a backslash \\ here.</p>"
    assert static_math.typeset_page(body) == (body, "", 0)


def test_a_formula_mathjax_cannot_read_fails_the_build():
    with pytest.raises(ExtensionError, match=r"nosuchcommand"):
        static_math.typeset_page('<span class="math notranslate nohighlight">\\(\\nosuchcommand{x}\\)</span>')


@pytest.mark.parametrize("bad", ["x^2", [("x", "yes")], [["x", True]]])
def test_typeset_rejects_what_is_not_a_list_of_formulas(bad):
    with pytest.raises(ValueError, match="formulas must be a list of"):
        static_math.typeset(bad)


def test_the_page_keeps_no_mathjax_script():
    app = SimpleNamespace(config=SimpleNamespace(mathjax_path="https://cdn.example/mathjax.js"))
    keep = SimpleNamespace(filename="_static/book.js", attributes={})
    scripts = [keep, SimpleNamespace(filename="https://cdn.example/mathjax.js", attributes={"defer": "defer"}),
               SimpleNamespace(filename="", attributes={"body": 'window.MathJax = {"options": {}}'})]
    context = {"body": "<p>x</p>", "script_files": scripts}
    static_math.on_page(app, "book/x", "page.html", context, None)
    assert context["script_files"] == [keep] and context["body"] == "<p>x</p>"


# --------------------------------------------------------------------------- first frames


def _drawing(side, kind):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot(range(side), "o-" if kind == "a" else "s--")
    return fig


@pytest.fixture(scope="module")
def explorer_page():
    """A page body with one explorer's view script, and the explorer's saved widget state."""
    explorer = controls.explore(_drawing, {"side": [2, 3, 4], "kind": ["a", "b"]}, play="side", start={"side": 3})
    state = {"version_major": 2, "version_minor": 0, "state": ipywidgets.embed.dependency_state(explorer)}
    view = json.dumps({"version_major": 2, "version_minor": 0, "model_id": explorer.model_id})
    body = f'<figure><script type="application/vnd.jupyter.widget-view+json">{view}</script></figure>'
    return explorer, state, body


def test_each_explorer_gets_its_opening_frame_after_its_view_script(explorer_page):
    explorer, state, body = explorer_page
    out, added = first_frames.add_first_frames(body, state)
    assert added == 1
    copy = re.search(r'</script>(<div class="cw-first-frame">.*</div>)</figure>', out, re.S).group(1)
    # The frame the controls open on: side 3 (start), kind "a" (the first value).
    assert explorer.frames[(3, "a")].value in copy
    assert sum(f.value in copy for f in explorer.frames.values()) == 1
    # One empty box per control, in their order: play button, slider, toggle buttons.
    boxes = re.findall(r'<span class="cw-ff-(\w+)"', copy)
    assert boxes == ["play", "slider", "toggle"]
    assert 'aria-hidden="true"' in copy


def test_other_widgets_and_unknown_views_are_left_alone(explorer_page):
    explorer, state, _ = explorer_page
    other = json.dumps({"model_id": explorer.controls["side"].model_id})
    body = (f'<script type="application/vnd.jupyter.widget-view+json">{other}</script>'
            '<script type="application/vnd.jupyter.widget-view+json">{"model_id": "nosuch"}</script>'
            '<script type="application/vnd.jupyter.widget-view+json">not json</script>')
    assert first_frames.add_first_frames(body, state) == (body, 0)


@pytest.mark.parametrize("bad", [None, [], {"state": []}])
def test_first_frames_need_a_saved_widget_state(bad):
    with pytest.raises(ValueError, match="state must be a saved widget state"):
        first_frames.add_first_frames("<p></p>", bad)


# --------------------------------------------------------------------------- live figures' first frames

def _view(model_id):
    return f'<script type="application/vnd.jupyter.widget-view+json">{{"model_id": "{model_id}"}}</script>'


def test_each_live_figure_gets_its_copy_after_its_view_script_and_the_stylesheet_once():
    body = f"<p>a</p>{_view('m1')}<p>b</p>{_view('other')}<p>c</p>{_view('m2')}"
    out, added = live_first_frames.add_copies(body, {"m1": "<div>one</div>", "m2": "<div>two</div>"}, ".x{}")
    assert added == 2
    assert out == (f'<p>a</p><style class="cw-live-first-style">.x{{}}</style>{_view("m1")}'
                   '<div class="cw-first-frame cw-live-first" inert><div>one</div></div>'
                   f'<p>b</p>{_view("other")}<p>c</p>{_view("m2")}'
                   '<div class="cw-first-frame cw-live-first" inert><div>two</div></div>')
    # Done again (a page an earlier build wrote), nothing more is added, and both are there.
    assert live_first_frames.add_copies(out, {"m1": "<div>one</div>", "m2": "<div>two</div>"}, ".x{}") == (out, 2)
    # A figure with no view script in the page is not placed.
    assert live_first_frames.add_copies(body, {"m3": "<div>three</div>"}, "") == (body, 0)
    # The benchmark that weighs the copies (benchmarks/live_copies.py) takes them out again, nested
    # elements and all, and leaves the page as it was.
    nested = {"m1": "<div><div>one</div><p>x</p></div>", "m2": "<div>two</div><div></div>"}
    out, _ = live_first_frames.add_copies(body, nested, ".x{}")
    assert _benchmark("live_copies").without_copies(out) == (body, 2)


def _benchmark(name):
    """A script of benchmarks/, loaded by path."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_book_benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("bad", [None, ["<div>"], {"m1": 3}])
def test_live_copies_must_map_model_ids_to_html(bad):
    with pytest.raises(ValueError, match="copies must map model ids to HTML"):
        live_first_frames.add_copies("<p></p>", bad, "")
