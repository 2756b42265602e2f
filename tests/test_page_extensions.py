"""The build's page rewrites: formulas typeset into the HTML (book/_ext/static_math.py),
each explorer's first frame put in the page (book/_ext/first_frames.py) and each
live figure's (book/_ext/live_first_frames.py), a hint line in each box that may
scroll (book/_ext/box_hints.py).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
from pathlib import Path
from types import SimpleNamespace

import box_hints
import first_frames
import ipywidgets.embed
import live_first_frames
import matplotlib.pyplot as plt
import phone_drawings
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


# --------------------------------------------------------------------------- hint lines


def test_each_table_and_display_formula_box_gets_its_hint_first_and_only_once():
    body = ('<div class="pst-scrollable-table-container"><table></table></div>'
            '<div class="math notranslate nohighlight"><mjx-container></mjx-container></div>'
            '<p><span class="math notranslate nohighlight">x</span></p><div class="highlight"><pre></pre></div>')
    out, count = box_hints.add_hints(body)
    assert count == 2
    assert out.count(box_hints.HINT) == 2
    assert f'<div class="pst-scrollable-table-container">{box_hints.HINT}<table>' in out
    assert f'<div class="math notranslate nohighlight">{box_hints.HINT}<mjx-container>' in out
    assert '<span class="math notranslate nohighlight">x</span>' in out, "inline formulas do not scroll"
    assert box_hints.add_hints(out) == (out, 0), "a page written twice keeps one line a box"


def test_box_hints_need_a_page_body():
    with pytest.raises(ValueError, match="body must be the page's HTML"):
        box_hints.add_hints(None)


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
    # For a reader without JavaScript: the setting the frame shows, in words.
    assert '<p class="cw-ff-still">Shown: side 3, kind a. Changing it needs JavaScript.</p>' in copy


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


# --------------------------------------------------------------------------- phone drawings


def _data_url(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def test_phone_drawings_leave_the_page_for_files_of_the_site_in_its_body_and_widget_state(tmp_path):
    one, two = b"\x89PNG one", b"RIFF two"
    body = (f'<picture><source media="(max-width: 540px)" srcset="{_data_url(one)}" width="3" height="4" />'
            f'<img src="{_data_url(one)}" /></picture>')
    state = json.dumps({"value": f'<source srcset="{_data_url(two, "webp")}" /><source srcset="{_data_url(one)}" />'})
    script = SimpleNamespace(attributes={"type": phone_drawings.WIDGET_STATE, "body": state})
    other = SimpleNamespace(attributes={"type": "text/javascript", "body": state})
    context = {"body": body, "script_files": [script, other]}
    app = SimpleNamespace(builder=SimpleNamespace(format="html"), outdir=str(tmp_path))
    phone_drawings.on_page(app, "book/chapter", "page.html", context, None)
    # The <source> points at a file; the <img> a wide window shows stays inline.
    url = re.fullmatch(r'<picture><source media="\(max-width: 540px\)" srcset="([^"]+)" width="3" height="4" />'
                       r'<img src="data:image/png;base64,[^"]+" /></picture>', context["body"]).group(1)
    assert url.startswith("../_phone/") and url.endswith(".png")
    assert (tmp_path / url.removeprefix("../")).read_bytes() == one
    assert (tmp_path / url.removeprefix("../")).stat().st_mode & 0o777 == 0o644, "a web server may read it"
    # In the widget state's JSON too; the same bytes are one file; other scripts are left alone.
    urls = re.findall(r'srcset=\\"([^"\\]+)\\"', script.attributes["body"])
    assert json.loads(script.attributes["body"])["value"].count("../_phone/") == 2
    assert urls[1] == url and urls[0].endswith(".webp") and (tmp_path / urls[0][3:]).read_bytes() == two
    assert other.attributes["body"] == state
    assert sorted(p.name for p in (tmp_path / "_phone").iterdir()) == sorted(u.split("/")[-1] for u in urls)
    # Written again (a page an earlier build wrote), nothing changes.
    again = dict(context)
    phone_drawings.on_page(app, "book/chapter", "page.html", again, None)
    assert again["body"] == context["body"]
    # A page at the top of the site points into the folder directly.
    top = {"body": body}
    phone_drawings.on_page(app, "index", "page.html", top, None)
    assert f'srcset="{url.removeprefix("../")}"' in top["body"]


def test_phone_drawings_need_the_page_as_text():
    with pytest.raises(ValueError, match="text must be the page's HTML"):
        phone_drawings.to_files(None, lambda name, data: name)
