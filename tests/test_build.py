"""The book builds strictly from clean, and what it builds keeps the book's promises."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, chapter_files, glued, toc_files

pytestmark = pytest.mark.build

PAGE_BUDGET_BYTES = 5 * 1024 * 1024


def test_build_is_strict_and_clean(book_build, executed):
    tail = "\n".join(book_build.log.splitlines()[-60:])
    assert book_build.returncode == 0, f"strict build failed:\n{tail}"
    assert "WARNING" not in book_build.log.replace("[IPKernelApp] WARNING", ""), tail
    # Built from clean: every chapter was executed in this build, none came from a cache.
    for doc in chapter_files():
        assert f"{doc}.md: Executing notebook" in book_build.log, f"{doc} was not executed"


@pytest.mark.parametrize("doc", toc_files())
def test_every_toc_page_is_built_and_light(site, doc):
    page = site / f"{doc}.html"
    assert page.is_file(), f"{page} missing"
    assert page.stat().st_size <= PAGE_BUDGET_BYTES, f"{doc}: {page.stat().st_size} bytes"


def test_vendored_assets_are_in_the_site(site):
    for asset in ["vendor/widget-manager/manager.js", "vendor/widgets-setup.js", "vendor/mathjax/es5/tex-chtml.js"]:
        assert (site / asset).is_file(), asset
    # Jupyter Book injects every .js under _static into every page: the vendored
    # bundles must not be there, or pages would load the widget manager twice.
    assert not list((site / "_static").rglob("manager*.js")) and not list((site / "_static").rglob("embed*.js"))
    # One widget manager, the project's own bundle: no RequireJS, no AMD bundle.
    assert sorted(p.name for p in (site / "vendor").rglob("*.js") if "mathjax" not in p.parts) == [
        "manager.js", "mathjax-loader.js", "widgets-setup.js"]
    page = (site / "book" / "01_conv_layer.html").read_text()
    assert len(re.findall(r'<script defer="defer" src="[^"]*vendor/widget-manager/manager\.js', page)) == 1
    assert "require.js" not in page and "embed-amd" not in page
    # MathJax comes through its loader, which waits for the widgets (tests/test_live_site.py).
    assert len(re.findall(r'<script defer="defer" src="[^"]*vendor/mathjax-loader\.js', page)) == 1
    assert "tex-chtml.js" not in page
    # It draws once the page is parsed, not at the window's load event; it carries
    # anywidget's front end, and its fonts are inlined (woff2 only, nothing fetched).
    manager = (site / "vendor" / "widget-manager" / "manager.js").read_text()
    assert 'window.addEventListener("load"' not in manager
    assert "[anywidget]" in manager and "data:font/woff2;base64," in manager
    # JupyterLab's output area (for Output widgets, which the book never shows) is left out.
    assert "Output widgets are not supported on this site" in manager and "jp-OutputArea" not in manager
    assert not re.search(r'url\(["\']?\.', manager), "the manager's stylesheets refer to a file"
    assert not re.search(r'<script[^>]+src="https?://', page), "a script is loaded from another host"
    assert not re.search(r'<link[^>]+href="https?://[^"]+\.css', page), "a stylesheet is loaded from another host"


def test_chapter_one_numbers(executed):
    """The numbers the first chapter's prose quotes, checked against closed forms."""
    g = glued(executed, "book/01_conv_layer")
    assert g["x_shape"] == "(1, 3, 64, 64)"
    assert g["gray_shape"] == "(1, 1, 64, 64)"
    assert g["loop_shape"] == "(1, 1, 62, 62)"          # 64 - 3 + 1
    assert float(g["loop_gap"]) < 1e-5
    assert g["layer_weight_shape"] == "(100, 3, 3, 3)"
    assert g["layer_out_shape"] == "(1, 100, 62, 62)"
    assert int(g["layer_weights"]) == 100 * 3 * 3 * 3
    assert int(g["layer_params"]) == 100 * 3 * 3 * 3 + 100
    assert int(g["field_inputs"]) == 3 * 3 * 3
    assert int(g["image_inputs"]) == 3 * 64 * 64
    assert g["grad_shape"] == "(100, 3, 3, 3)"
    assert int(g["grad_nonzero"]) == 100 * 3 * 3 * 3
    assert int(g["pool_params"]) == 0
    assert int(g["patch_frames"]) == 8 * 8
    assert int(g["filters_frames"]) == 6 * 2
    # Padding and stride: the output-size formula, and the frame zero padding adds.
    assert [int(g[f"size_s{s}_p{p}"]) for s, p in [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]] == [
        (64 + 2 * p - 3) // s + 1 for s, p in [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]]
    assert g["sizes_agree"] == "True"
    assert float(g["border_zero"]) > 2.0 > 1.5 > float(g["border_valid"])
    assert float(g["border_reflect"]) < 1.5
    # The depth column: every filter at one position reads the same 27 inputs.
    assert int(g["column_same"]) == 100 and int(g["column_inputs"]) == 27
    # Colour matters only to the colour-opponent filters.
    assert float(g["brightness_gap"]) < 1e-4
    assert float(g["opponent_on_gray"]) < 1e-6 < 0.1 < float(g["opponent_on_colour"])
    rg_sum = float(g["rg_red"]) + float(g["rg_green"]) + float(g["rg_blue"])
    assert rg_sum == pytest.approx(float(g["rg_value"]), abs=1e-5)
    assert float(g["rg_value"]) == pytest.approx(float(g["rg_map_value"]), abs=1e-5)
    assert float(g["rg_blue"]) == 0.0 and float(g["rg_red"]) > 0 > float(g["rg_green"])
    assert eval(g["rg_peak"])[1] < 20 and float(g["by_flag"]) > 0   # the flag: red stripes, blue field
    # Learning a kernel from input/output pairs: every seed recovers the edge detector.
    assert int(g["learn_seeds"]) >= 5 and int(g["learn_converged"]) == int(g["learn_seeds"])
    assert float(g["learn_error_max"]) < 0.05 < 1.0 < float(g["learn_initial_min"])
    # Exercise 6: the blur is recovered to about the edge detector's absolute precision.
    assert 0.5 < float(g["blur_error_max"]) / float(g["learn_error_max"]) < 2.0
    assert int(g["ex1_side"]) == 124 and g["ex1_out"] == "(16, 32, 124, 124)"
    assert int(g["ex2_weights"]) == 57_600 and int(g["ex2_params"]) == 57_664
    # Max pooling routes each window's gradient to its winner: 4 of 16 inputs.
    assert int(g["pool_nonzero"]) == 4 and int(g["pool_inputs"]) == 16


@pytest.mark.parametrize("doc", chapter_files())
def test_chapter_source_follows_the_conventions(doc):
    text = (ROOT / f"{doc}.md").read_text()
    assert text.startswith("---\njupytext:"), "chapters are MyST notebooks with a jupytext header"
    assert "from widgets import compute, controls, draw" in text, "the one import line"
    assert not re.search(r"^\s*(import ipywidgets|from ipywidgets)", text, re.M), "chapters use widgets, not ipywidgets"
    assert not re.search(r"^\s*[!%]pip", text, re.M), "no installs from a chapter"
    exercises = text.split("\n## Exercises", 1)
    assert len(exercises) == 2, "a chapter ends with exercises"
    assert exercises[1].count(":class: dropdown") >= 3, "solutions sit in collapsed dropdowns"
    assert "{cite" in text, "a chapter cites its sources"


def test_no_notebooks_or_outputs_are_committed():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.endswith(".ipynb")]
    assert not [f for f in tracked if f.startswith(("_build/", "_vendor/", "frontend/node_modules/"))]
