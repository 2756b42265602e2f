"""Browser tests: the built site in headless Chromium, served on 127.0.0.1, no kernel.

Uses Debian's chromium (/usr/bin/chromium) through Playwright; Playwright's own
browser download is never used.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from conftest import WIDGET_TIMEOUT_MS, Visit, chapter_files, toc_files

pytestmark = pytest.mark.browser


def page_url(site_url, doc):
    return f"{site_url}/{doc}.html"


@pytest.fixture(scope="module")
def loaded(request, browser, site_url):
    """One visit of a page, shared by the checks that only read it.

    Module scope, parametrized through ``indirect``: pytest runs every test of
    one page together, so each page is loaded once here and closed before the
    next one opens. Tests that press keys or click get a fresh visit of their own.
    """
    visit = Visit(browser, page_url(site_url, request.param))
    visit.wait_for_widgets()
    visit.page.wait_for_timeout(500)  # late font and module requests
    yield visit
    visit.close()


@pytest.mark.parametrize("loaded", toc_files(), indirect=True)
def test_page_loads_cleanly_and_offline(loaded):
    assert loaded.foreign == [], f"requests to other hosts: {loaded.foreign}"
    assert loaded.unexpected_errors() == []
    assert loaded.failed == [], f"failed requests: {loaded.failed}"
    assert loaded.bad_status == [], f"error responses: {loaded.bad_status}"


@pytest.mark.parametrize("loaded", chapter_files(), indirect=True)
def test_every_widget_view_renders(loaded):
    counts = loaded.page.evaluate(
        """() => {
            const views = [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')];
            const rendered = views.filter(s => {
                const view = s.parentElement.querySelector('.jupyter-widgets');
                return view && view.getBoundingClientRect().height > 0;
            });
            return {views: views.length, rendered: rendered.length,
                    explorers: document.querySelectorAll('.cw-explorer').length,
                    frames: document.querySelectorAll('.cw-explorer img[alt]').length};
        }"""
    )
    assert counts["views"] > 0, "a chapter has interactive figures"
    assert counts["rendered"] == counts["views"], counts
    assert counts["frames"] == counts["explorers"], "each explorer shows exactly one frame"


@pytest.mark.parametrize("loaded", toc_files(), indirect=True)
def test_mathjax_renders(loaded):
    n_math = loaded.page.locator(".math").count()
    if n_math == 0:
        pytest.skip(f"{urlparse(loaded.page.url).path} has no mathematics")
    loaded.page.wait_for_function(
        "n => document.querySelectorAll('mjx-container').length >= n", arg=n_math, timeout=WIDGET_TIMEOUT_MS)
    assert loaded.page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"


def explorer_state(explorer):
    return explorer.evaluate(
        """e => ({alt: e.querySelector('img[alt]').alt,
                  src: e.querySelector('img[alt]').src.length + ':' + e.querySelector('img[alt]').src.slice(-40),
                  readouts: [...e.querySelectorAll('.widget-readout')].map(r => r.textContent),
                  pressed: [...e.querySelectorAll('.widget-toggle-button.mod-active')].map(b => b.textContent)})"""
    )


def wait_for_new_frame(explorer, before):
    """Wait until the explorer shows a frame other than the one in ``before`` (an explorer_state)."""
    explorer.page.wait_for_function(
        "([e, alt]) => e.querySelector('img[alt]').alt !== alt",
        arg=[explorer.element_handle(), before["alt"]], timeout=5_000)


@pytest.mark.parametrize("doc", chapter_files())
def test_keyboard_moves_every_slider(browser, site_url, doc):
    """Focus each explorer's sliders in turn and press the right arrow: the frame and its readout change."""
    visit = Visit(browser, page_url(site_url, doc))
    try:
        visit.wait_for_widgets()
        explorers = visit.page.locator(".cw-explorer")
        moved = 0
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            handles = explorer.locator(".noUi-handle")
            for j in range(handles.count()):
                before = explorer_state(explorer)
                handles.nth(j).focus()
                visit.page.keyboard.press("ArrowRight")
                wait_for_new_frame(explorer, before)
                after = explorer_state(explorer)
                assert after["src"] != before["src"], "the image itself changed"
                assert after["readouts"][j] != before["readouts"][j], "the readout shows the new value"
                assert f"= {after['readouts'][j]}" in after["alt"], "the frame is the one the readout names"
                moved += 1
        assert moved > 0
        assert visit.unexpected_errors() == []
    finally:
        visit.close()


@pytest.mark.parametrize("doc", chapter_files())
def test_toggles_and_play_buttons(browser, site_url, doc):
    """Toggle buttons switch frames; a play button steps through frames and leaves the other controls working."""
    visit = Visit(browser, page_url(site_url, doc))
    try:
        visit.wait_for_widgets()
        explorers = visit.page.locator(".cw-explorer")
        checked = 0
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            plays = explorer.locator(".widget-play button").first
            toggles = explorer.locator(".widget-toggle-button")
            if explorer.locator(".widget-play").count():
                before = explorer_state(explorer)
                plays.click()
                wait_for_new_frame(explorer, before)
                # Pause (the second button), then check the other controls still drive the frame.
                explorer.locator(".widget-play button").nth(1).click()
                checked += 1
            if toggles.count() > 1:
                before = explorer_state(explorer)
                inactive = explorer.locator(".widget-toggle-button:not(.mod-active)").first
                label = inactive.text_content()
                inactive.click()
                wait_for_new_frame(explorer, before)
                assert label in explorer_state(explorer)["alt"]
                checked += 1
        if checked == 0:
            pytest.skip(f"{doc} has no toggles or play buttons")
        assert visit.unexpected_errors() == []
    finally:
        visit.close()
