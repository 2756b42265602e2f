"""The book builds strictly from clean, and what it builds keeps the book's promises."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, chapter_files, toc_files

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
    for asset in ["vendor/widget-manager/manager.js", "vendor/widgets-setup.js"]:
        assert (site / asset).is_file(), asset
    # Jupyter Book injects every .js under _static into every page: the vendored
    # bundles must not be there, or pages would load the widget manager twice.
    assert not list((site / "_static").rglob("manager*.js")) and not list((site / "_static").rglob("embed*.js"))
    # One widget manager, the project's own bundle: no RequireJS, no AMD bundle, no MathJax.
    assert sorted(p.name for p in (site / "vendor").rglob("*.js")) == ["manager.js", "widgets-setup.js"]
    page = (site / "book" / "01_conv_layer.html").read_text()
    assert len(re.findall(r'<script defer="defer" src="[^"]*vendor/widget-manager/manager\.js', page)) == 1
    assert "require.js" not in page and "embed-amd" not in page
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


@pytest.mark.parametrize("doc", chapter_files())
def test_the_code_a_reader_sees_carries_the_idea_in_short_lines(doc):
    """Code shown by default (not tagged hide-input or remove-*) neither draws a figure nor sets
    up a widget (that code sits behind the "show code" toggle), and its lines fit 72 characters.
    """
    text = (ROOT / f"{doc}.md").read_text()
    shown = [cell for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", text, re.S)
             if not re.match(r":tags: \[[^\]]*\b(hide-input|remove-cell|remove-input)\b", cell)]
    assert shown, "a chapter shows some code"
    drawing = [line.strip() for cell in shown for line in cell.splitlines() if re.search(r"\b(draw|controls)\.", line)]
    assert drawing == [], "figure or widget code shown (tag its cell hide-input)"
    long = [line for cell in shown for line in cell.splitlines() if len(line) > 72]
    assert long == [], "shown code lines over 72 characters"


def test_no_notebooks_or_outputs_are_committed():
    import subprocess

    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.endswith(".ipynb")]
    assert not [f for f in tracked if f.startswith(("_build/", "_vendor/", "frontend/node_modules/"))]


@pytest.mark.parametrize("doc", toc_files())
def test_every_formula_is_typeset_in_the_page_and_no_mathjax_is_loaded(site, doc):
    """The build typesets each formula (book/_ext/static_math.py): SVG in the HTML, no TeX left, no MathJax."""
    page = (site / f"{doc}.html").read_text()
    spans = re.findall(r'<(span|div) class="math notranslate nohighlight"[^>]*>(.*?)</\1>', page, re.S)
    untypeset = [inner.strip()[:60] for _, inner in spans if '<mjx-container class="MathJax" jax="SVG"' not in inner]
    assert untypeset == [], f"formulas left as TeX: {untypeset}"
    assert re.search(r"<script[^>]*(mathjax|tex-chtml|tex-svg)[^>]*>", page, re.I) is None, "a MathJax script"
    assert "window.MathJax" not in page
