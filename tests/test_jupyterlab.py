"""Read locally: a real JupyterLab server opens a chapter's .md file as a notebook,
runs it with a live kernel, and its widgets work there too.
"""

from __future__ import annotations

import re
import shutil
import time

import pytest
from conftest import ROOT, jupyterlab_server, step_key

pytestmark = pytest.mark.browser

# Chapter 1: it has what this test must show working in a live kernel (explorers moved
# with the keyboard, a live figure), and it trains nothing, so it runs quickly.
CHAPTER = "book/01_conv_layer.md"
#: Run All fails only when no cell has finished for this long (a stall), however long
#: the whole run takes on a busy machine.
STALL_SECONDS = 240


def wait_for_every_cell(page, n_code: int, stall_seconds: float = STALL_SECONDS) -> None:
    """Wait until all ``n_code`` code cells show an execution count, failing on a stall, not on a deadline."""
    done_js = """() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                   .filter(p => /\\[\\d+\\]/.test(p.textContent)).length"""
    last, since = -1, time.monotonic()
    while True:
        done = page.evaluate(done_js)
        if done >= n_code:
            return
        if done != last:
            last, since = done, time.monotonic()
        elif time.monotonic() - since > stall_seconds:
            pytest.fail(f"no cell finished for {stall_seconds} s: {done} of {n_code} cells done")
        page.wait_for_timeout(1000)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1, serving a copy of one chapter (so nothing in the repository is touched)."""
    root = tmp_path_factory.mktemp("lab")
    (root / "book").mkdir()
    shutil.copy(ROOT / CHAPTER, root / CHAPTER)
    state = tmp_path_factory.mktemp("lab-state")
    token = "book-test-token"
    with jupyterlab_server(root, state, token, start_timeout=60) as url:
        yield url, token


def test_chapter_opens_as_a_notebook_and_runs_with_working_widgets(browser, lab):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    foreign = []

    def route(r):
        if r.request.url.startswith(url) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            foreign.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(f"{url}/lab/tree/{CHAPTER}?token={token}")
        # Opened by its default viewer: a notebook, not the text editor.
        notebook = page.locator(".jp-NotebookPanel")
        notebook.wait_for(state="visible", timeout=60_000)
        assert page.locator(".jp-FileEditor:visible").count() == 0
        n_code = len(re.findall(r"^```\{code-cell\}", (ROOT / CHAPTER).read_text(), re.M))
        page.wait_for_function(
            "n => document.querySelectorAll('.jp-Notebook .jp-CodeCell').length === n", arg=n_code, timeout=30_000)
        # Wait for the kernel, then Run > Run All Cells.
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        wait_for_every_cell(page, n_code)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        texts = [errors.nth(i).inner_text() for i in range(errors.count())]
        assert not [t for t in texts if "Error" in t or "Traceback" in t], texts
        # The explorers render against the live kernel, one frame each, and the keyboard moves them.
        explorers = page.locator(".jp-OutputArea-output .cw-explorer")
        explorers.first.wait_for(timeout=30_000)
        assert explorers.count() == 2
        first = explorers.first
        first.scroll_into_view_if_needed()
        before = first.locator("img[alt]").get_attribute("alt")
        handle = first.locator(".noUi-handle").first
        key = step_key(handle)   # the explorer may open on the slider's last value
        handle.focus()
        page.keyboard.press(key)
        page.wait_for_function(
            "([e, alt]) => e.querySelector('img[alt]').alt !== alt",
            arg=[first.element_handle(), before], timeout=10_000)
        row = int(re.search(r"row = (\d+)", before).group(1))
        moved = row + (4 if key == "ArrowRight" else -4)
        assert f"row = {moved}," in first.locator("img[alt]").get_attribute("alt")
        assert foreign == [], f"JupyterLab asked other hosts for: {foreign}"
    finally:
        page.close()
