"""The live figures on the static site: their browser modules are served once,
inside the widget manager (frontend/live.js, book/_ext/live_figures.py).
"""

from __future__ import annotations

import copy
import json
import re
from types import SimpleNamespace

import live_figures
import pytest
from conftest import ROOT, WIDGETS_DRAWN, chapter_files
from sphinx.errors import ExtensionError

from widgets import live

LIVE_JS = (ROOT / "frontend" / "live.js").read_text()
CSS = (live.JS_DIR / "live.css").read_text()
STATE_TAG = re.compile(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', re.S)
# The chapters with a live figure, and the figure each shows.
LIVE_PAGES = {"book/01_conv_layer": "kernel_playground", "book/04_receptive_fields": "field_stack",
              "book/05_equivariance": "shift_figure", "book/10_position": "digit_pad"}


def anywidget_model(esm, css=CSS):
    return {"model_name": "AnyModel", "model_module": "anywidget", "model_module_version": "~0.11.*",
            "state": {"_esm": esm, "_css": css, "_anywidget_id": "x", "side": 16}}


def saved_state(*models):
    layout = {"model_name": "LayoutModel", "model_module": "@jupyter-widgets/base",
              "model_module_version": "2.0.0", "state": {"width": "10px"}}
    return {"version_major": 2, "version_minor": 0,
            "state": {"layout": layout, **{f"m{i}": m for i, m in enumerate(models)}}}


# --------------------------------------------------------------------------
# The bundle and the build agree on the figures and on how a page names one.


def test_the_bundle_holds_every_figure_under_the_prefix_the_build_writes():
    imported = re.findall(r'^import \* as (\w+) from "\.\./src/widgets/live/(\w+)\.js";', LIVE_JS, re.M)
    assert all(alias == name for alias, name in imported)
    assert sorted(name for _, name in imported) == list(live.figures())
    assert re.search(r"const FIGURES = new Map\(Object\.entries\(\{ ([\w, ]+) \}\)\);", LIVE_JS).group(1) \
        .split(", ") == [name for _, name in imported]
    assert f'const PREFIX = "{live.platform.SITE_MODULE_PREFIX}";' in LIVE_JS
    assert 'import "../src/widgets/live/live.css";' in LIVE_JS


def test_figures_are_the_modules_beside_the_shared_ones():
    assert live.figures() == ("digit_pad", "field_stack", "kernel_playground", "shift_figure")
    assert not set(live.figures()) & set(live.SHARED_MODULES)


# --------------------------------------------------------------------------
# The build's rewrite of a page's widget state.


def test_a_figure_module_becomes_a_reference_to_the_bundle_and_its_stylesheet_goes():
    state = saved_state(anywidget_model(live.esm("field_stack")), anywidget_model(live.esm("digit_pad")))
    before = copy.deepcopy(state)
    result, problems = live_figures.site_state(state)
    assert problems == []
    assert state == before, "the page's state itself is left as it was"
    assert result["state"]["m0"]["state"]["_esm"] == "widgets.live:field_stack"
    assert result["state"]["m1"]["state"]["_esm"] == "widgets.live:digit_pad"
    assert result["state"]["m0"]["state"]["_css"] == result["state"]["m1"]["state"]["_css"] == ""
    assert result["state"]["m0"]["state"]["side"] == 16 and result["state"]["layout"] == state["state"]["layout"]
    assert result["version_major"] == 2
    assert len(json.dumps(result)) < len(json.dumps(state)) - 2 * 30_000


def test_a_module_that_is_not_a_figure_as_it_is_now_is_kept_and_reported():
    stale = live.esm("shift_figure").replace("export default", "// an older version\nexport default")
    other_css = anywidget_model(live.esm("field_stack"), css=".x { color: red; }")
    state = saved_state(anywidget_model(stale), other_css)
    result, problems = live_figures.site_state(state)
    assert len(problems) == 1 and problems[0].startswith("widget m0: its anywidget module is none of")
    assert "shift_figure" in problems[0] and "stale execution" in problems[0]
    assert result["state"]["m0"] == state["state"]["m0"]
    assert result["state"]["m1"]["state"]["_esm"] == "widgets.live:field_stack"
    assert result["state"]["m1"]["state"]["_css"] == ".x { color: red; }", "only the figures' own stylesheet goes"


@pytest.mark.parametrize("state", [None, [], {"version_major": 2}, {"state": []}])
def test_site_state_refuses_what_is_not_a_saved_widget_state(state):
    with pytest.raises(ValueError, match=r"state must be a saved widget state, a dict with a 'state' dict, got "):
        live_figures.site_state(state)


# --------------------------------------------------------------------------
# The built site.


@pytest.mark.build
@pytest.mark.parametrize("doc", chapter_files())
def test_pages_carry_no_browser_module_only_a_reference_to_the_bundled_figure(site, doc):
    html = (site / f"{doc}.html").read_text()
    for module in (*live.SHARED_MODULES, *live.figures()):
        source = (live.JS_DIR / f"{module}.js").read_text()
        first = re.search(r"^(?:export )?function \w+\(.*$", source, re.M).group(0)
        assert first not in html, f"{doc} carries {module}.js"
    modules = [m["state"]["_esm"] for tag in STATE_TAG.findall(html)
               for m in json.loads(tag)["state"].values() if m["model_module"] == "anywidget"]
    assert modules == ([f"widgets.live:{LIVE_PAGES[doc]}"] if doc in LIVE_PAGES else [])


@pytest.mark.build
def test_the_site_serves_the_figures_once_inside_the_manager(site):
    manager = (site / "vendor" / "widget-manager" / "manager.js").read_text()
    assert "no such live figure in this site's widget manager" in manager
    for name in live.figures():
        assert f"cw-{name.replace('_', '-')}" in manager, f"{name} is not in the bundle"
    assert "cw-live" in manager, "the figures' stylesheet is not in the bundle"
    assert not (site / ".sources.sha256").exists(), "the _vendor/ stamp is copied into the site"


# --------------------------------------------------------------------------
# In the browser: the figures come from the bundle.


@pytest.mark.browser
@pytest.mark.parametrize("doc", list(LIVE_PAGES))
def test_live_figures_draw_from_the_bundle(browser, site_url, doc):
    page = browser.new_page()
    modules = []
    page.on("request", lambda r: r.url.startswith("blob:") and modules.append(r.url))
    try:
        page.goto(f"{site_url}/{doc}.html", wait_until="load")
        page.wait_for_function(f"() => {WIDGETS_DRAWN}", timeout=15_000)
        assert page.locator(f".cw-live.cw-{LIVE_PAGES[doc].replace('_', '-')}").count() == 1
        assert modules == [], "a figure's module was loaded from a blob: URL, not taken from the bundle"
    finally:
        page.close()


# --------------------------------------------------------------------------
# The build remakes _vendor/ when its sources changed, so pages and bundle agree.


class FakeVendor:
    def __init__(self, current, status=0):
        self.current, self.status, self.made = current, status, 0

    def is_current(self):
        return self.current

    def main(self):
        self.made += 1
        return self.status


@pytest.mark.parametrize("current, made", [(True, 0), (False, 1)])
def test_the_build_remakes_vendor_only_when_its_sources_changed(monkeypatch, current, made):
    vendor = FakeVendor(current)
    monkeypatch.setattr(live_figures, "_vendor_assets", lambda: vendor)
    live_figures.refresh_vendor(SimpleNamespace(builder=SimpleNamespace(format="html")))
    assert vendor.made == made


def test_a_vendor_folder_that_cannot_be_made_stops_the_build(monkeypatch):
    monkeypatch.setattr(live_figures, "_vendor_assets", lambda: FakeVendor(False, status=1))
    with pytest.raises(ExtensionError, match="scripts/vendor_assets.py could not make _vendor/"):
        live_figures.refresh_vendor(SimpleNamespace(builder=SimpleNamespace(format="html")))


def test_the_digest_of_vendor_sources_changes_with_a_figure_its_stylesheet_or_the_front_end(tmp_path, monkeypatch):
    vendor = live_figures._vendor_assets()
    figures = tmp_path / "src" / "widgets" / "live"
    files = [tmp_path / "frontend" / "manager.js", tmp_path / "frontend" / "package-lock.json",
             figures / "field_stack.js", figures / "live.css"]
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("one")
    monkeypatch.setattr(vendor, "ROOT", tmp_path)
    monkeypatch.setattr(vendor, "FRONTEND", tmp_path / "frontend")
    digests = [vendor.sources_digest()]
    for path in files:
        path.write_text("two")
        digests.append(vendor.sources_digest())
    (tmp_path / "frontend" / "notes.txt").write_text("not a source")
    assert vendor.sources_digest() == digests[-1]
    assert len(set(digests)) == len(digests) and all(len(d) == 64 for d in digests)
