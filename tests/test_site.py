"""Browser tests: the built site in headless Chromium, served on 127.0.0.1, no kernel.

Uses Debian's chromium (/usr/bin/chromium) through Playwright; Playwright's own
browser download is never used.
"""

from __future__ import annotations

import contextlib
import re
from urllib.parse import urlparse

import pytest
from conftest import WIDGET_TIMEOUT_MS, Visit, chapter_files, step_key, toc_files

pytestmark = pytest.mark.browser


#: Chapters whose figures are all static: their argument is carried by measured comparisons.
STATIC_CHAPTERS = {"book/06_pooling", "book/08_trained_networks", "book/09_controls", "book/12_sequences"}
#: Chapters whose results are tables and sentences only, with no figure of their own.
TABLE_CHAPTERS = {"book/09_controls"}


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
    page = urlparse(loaded.page.url).path.lstrip("/").removesuffix(".html")
    assert (counts["views"] > 0) == (page not in STATIC_CHAPTERS), "a chapter has interactive figures"
    assert counts["rendered"] == counts["views"], counts
    assert counts["frames"] == counts["explorers"], "each explorer shows exactly one frame"


@pytest.mark.parametrize("loaded", toc_files(), indirect=True)
def test_every_formula_is_drawn(loaded):
    """Each formula arrives typeset (book/_ext/static_math.py) and is drawn at a size, with its MathML."""
    n_math = loaded.page.locator(".math").count()
    if n_math == 0:
        pytest.skip(f"{urlparse(loaded.page.url).path} has no mathematics")
    drawn = loaded.page.evaluate(
        """() => [...document.querySelectorAll('.math')].map(m => {
               const svg = m.querySelector('mjx-container > svg');
               return !!svg && svg.getBoundingClientRect().height > 0 && !!m.querySelector('mjx-assistive-mml math');
           })""")
    assert drawn == [True] * n_math


# What moved on the page while it loaded: Chromium's layout-shift entries, summed.
LAYOUT_SHIFT = """
window.__shift = 0;
new PerformanceObserver(list => {
  for (const e of list.getEntries()) { if (!e.hadRecentInput) { window.__shift += e.value; } }
}).observe({type: 'layout-shift', buffered: true});
"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("doc", toc_files())
def test_nothing_moves_while_the_page_loads(browser, site_url, doc, width):
    """Cumulative layout shift below 0.01 from navigation until every widget is drawn (and a moment after).

    Formulas arrive typeset and each explorer's first frame holds its place, so
    neither MathJax nor the widget manager moves the text the reader is on.
    """
    visit = Visit(browser, page_url(site_url, doc), viewport={"width": width, "height": 900})
    try:
        visit.page.add_init_script(LAYOUT_SHIFT)
        visit.page.reload()
        visit.wait_for_widgets()
        visit.page.wait_for_timeout(500)
        assert visit.page.evaluate("window.__shift") < 0.01
    finally:
        visit.close()


# Each explorer's drawn box, the height of its row of controls and its shown frame's alt text.
EXPLORER_BOXES = """sel => [...document.querySelectorAll(sel)].map(e => {
    const box = e.closest('.widget-subarea') || e;
    const frame = [...e.querySelectorAll('img')].find(i => i.offsetParent !== null);
    return {height: box.getBoundingClientRect().height, width: box.getBoundingClientRect().width,
            controls: e.firstElementChild.getBoundingClientRect().height,
            frame: frame.getBoundingClientRect().height, alt: frame.alt};
})"""


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("doc", sorted(set(chapter_files()) - STATIC_CHAPTERS))
def test_each_explorer_is_on_the_page_before_its_widget_and_is_replaced_without_a_move(browser, site_url, doc, width):
    """Before the widget manager has come, an explorer shows the frame its controls open on, in a box of the
    drawn explorer's size.

    The page's HTML carries that first frame (book/_ext/first_frames.py), so it
    is on screen at first paint; the drawn explorer then takes its place
    (frontend/manager.js). Box, row of controls and frame have the same heights
    both ways, and the frame is the same one. (The page is opened here with the
    widget manager held back; the page's other scripts run, as they do early on.)
    """
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        context.route("**/widget-manager/**", lambda route: route.abort())
        page = context.new_page()
        page.goto(page_url(site_url, doc))
        still = page.evaluate(EXPLORER_BOXES, ".cw-first-frame:not(.cw-live-first)")
    finally:
        context.close()
    n_explorers = len(still)
    visit = Visit(browser, page_url(site_url, doc), viewport={"width": width, "height": 900})
    try:
        visit.wait_for_widgets()
        assert visit.page.locator(".cw-first-frame").count() == 0, "a first frame is left beside its explorer"
        drawn = visit.page.evaluate(EXPLORER_BOXES, ".cw-explorer")
    finally:
        visit.close()
    if not drawn:
        pytest.skip(f"{doc} has no explorer")
    assert n_explorers == len(drawn), "every explorer has its first frame in the page"
    for before, after in zip(still, drawn):
        assert before["alt"] == after["alt"], "the first frame is the one the controls open on"
        for key in ("height", "controls", "frame"):
            assert abs(before[key] - after[key]) < 0.5, (key, before, after)


@pytest.mark.parametrize("doc", sorted(set(chapter_files()) - STATIC_CHAPTERS))
def test_without_javascript_an_explorer_says_what_it_shows_instead_of_empty_controls(browser, site_url, doc):
    """A reader without JavaScript gets no controls: the first frame's place for them gives way to a line
    saying which setting the frame shows.
    """
    context = browser.new_context(viewport={"width": 390, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_url(site_url, doc))
        found = page.evaluate("""() => [...document.querySelectorAll('.cw-first-frame:not(.cw-live-first)')]
            .map(f => ({controls: f.querySelector('.cw-ff-controls').getBoundingClientRect().height,
                        still: (f.querySelector('.cw-ff-still') || {}).innerText || ''}))""")
    finally:
        context.close()
    if not found:
        pytest.skip(f"{doc} has no explorer")
    for box in found:
        assert box["controls"] == 0, "no empty boxes where the controls would be"
        assert re.fullmatch(r"Shown: .+\. Changing it needs JavaScript\.", box["still"]), box


def test_without_javascript_the_solutions_are_open(browser, site_url):
    """The solutions fold only where a script can open them again."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_url(site_url, "book/03_parameter_sharing"))
        heights = page.evaluate("""() => [...document.querySelectorAll('.admonition.dropdown')]
            .map(a => a.querySelector(':scope > .admonition-title ~ *').getBoundingClientRect().height)""")
    finally:
        context.close()
    assert heights and min(heights) > 0, heights


# The pages with live figures, and the box each live figure takes: its copy, or the drawn figure.
LIVE_PAGES = ["book/01_conv_layer", "book/04_receptive_fields", "book/05_equivariance", "book/10_position"]
LIVE_BOXES = """sel => [...document.querySelectorAll(sel)].map(e => {
    const r = e.getBoundingClientRect();
    return {height: r.height, width: r.width, text: e.innerText.replace(/\\s+/g, ' ').slice(0, 80),
            images: e.querySelectorAll('img, canvas').length};
})"""


@pytest.mark.parametrize("width", [1280, 800, 390])
@pytest.mark.parametrize("doc", LIVE_PAGES)
def test_each_live_figure_is_on_the_page_before_its_widget_and_is_replaced_without_a_move(
        browser, site_url, doc, width):
    """Without JavaScript a live figure shows a copy of itself as it opens, the size the drawn figure then is.

    The copy (book/_ext/live_first_frames.py) is inert, so nothing can be typed
    into it; its text and its number of images are the drawn figure's. The copy
    was taken in a 1280-pixel window and must fit every other one: a phone, and
    a window narrow enough to hide the chapter list.
    """
    context = browser.new_context(viewport={"width": width, "height": 900}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_url(site_url, doc))
        still = page.evaluate(LIVE_BOXES, ".cw-live-first")
        assert page.evaluate("[...document.querySelectorAll('.cw-live-first')].every(e => e.inert)")
        assert page.locator(".cw-live-first .jupyter-widgets, .cw-live-first [id]").count() == 0
    finally:
        context.close()
    visit = Visit(browser, page_url(site_url, doc), viewport={"width": width, "height": 900})
    try:
        visit.wait_for_widgets()
        assert visit.page.locator(".cw-live-first").count() == 0, "a copy is left beside its live figure"
        drawn = visit.page.evaluate(LIVE_BOXES, ".widget-subarea:has(.cw-live)")
    finally:
        visit.close()
    assert len(still) == len(drawn) >= 1, "every live figure has its copy in the page"
    for before, after in zip(still, drawn):
        assert (before["text"], before["images"]) == (after["text"], after["images"])
        assert abs(before["height"] - after["height"]) < 0.5, (before, after)


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
    """Focus each explorer's sliders in turn and press an arrow key: the frame and its readout change.

    The right arrow, or the left one for a slider that opens at its last value.
    """
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
                visit.page.keyboard.press(step_key(handles.nth(j)))
                wait_for_new_frame(explorer, before)
                after = explorer_state(explorer)
                assert after["src"] != before["src"], "the image itself changed"
                assert after["readouts"][j] != before["readouts"][j], "the readout shows the new value"
                assert f"= {after['readouts'][j]}" in after["alt"], "the frame is the one the readout names"
                moved += 1
        # Every chapter with an explorer has a slider (chapter 5's shift is a live figure's field).
        assert (moved > 0) == (doc not in STATIC_CHAPTERS | {"book/05_equivariance"})
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
                # Pause (the second button): the frames stop ...
                explorer.locator(".widget-play button").nth(1).click()
                paused = explorer_state(explorer)
                visit.page.wait_for_timeout(600)
                assert explorer_state(explorer)["alt"] == paused["alt"], "the pause button stops the frames"
                # ... and the slider the play button drives still moves the frame by keyboard.
                handle = explorer.locator(".noUi-handle").first
                at_start = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin")
                handle.focus()
                visit.page.keyboard.press("ArrowRight" if at_start else "ArrowLeft")
                wait_for_new_frame(explorer, paused)
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


# --------------------------------------------------------------------------- what a reader sees
#
# These look at the page as a reader does: rendered tables, typeset formulas, no
# bookkeeping in the code shown, sharp figures, and on a phone no sideways scrolling.

# Text nodes outside code, scripts and typeset mathematics, as the reader sees them.
READER_TEXT = """() => {
    const skip = 'pre, code, script, style, textarea, mjx-container, .MathJax, svg, .highlight';
    const main = document.querySelector('main') || document.body;
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    const out = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (!el || el.closest(skip) || !n.textContent.trim()) continue;
        out.push({text: n.textContent, where: (el.closest('section[id]') || {}).id || el.tagName});
    }
    return out;
}"""


@pytest.mark.parametrize("loaded", toc_files(), indirect=True)
def test_tables_are_tables_not_markdown(loaded):
    raw = loaded.page.evaluate(
        """() => [...document.querySelectorAll('main p, main .cell_output div')]
             .filter(p => !p.querySelector('p, div, table'))
             .map(p => p.textContent)
             .filter(t => /\\|\\s*(-{3,}|—|–)\\s*\\|/.test(t))
             .map(t => t.slice(0, 120))""")
    assert raw == [], f"Markdown table syntax shown as text: {raw}"


@pytest.mark.parametrize("loaded", toc_files(), indirect=True)
def test_no_raw_math_or_code_fences_in_the_text(loaded):
    if loaded.page.locator(".math").count():
        loaded.page.wait_for_function(
            "n => document.querySelectorAll('mjx-container').length >= n",
            arg=loaded.page.locator(".math").count(), timeout=WIDGET_TIMEOUT_MS)
    texts = loaded.page.evaluate(READER_TEXT)
    # A dollar sign followed by TeX (a backslash command, ^ or _), or $$, or \( \[.
    tex = re.compile(r"\$\$|\$[^$\n]{0,80}(\\[A-Za-z]+|[\^_]\{?)|\\\(|\\\[")
    raw_math = [f"{t['where']}: {t['text'].strip()[:80]}" for t in texts if tex.search(t["text"])]
    fences = [f"{t['where']}: {t['text'].strip()[:80]}" for t in texts if "```" in t["text"] or ":::" in t["text"]]
    assert raw_math == [], f"raw TeX shown as text: {raw_math}"
    assert fences == [], f"code fences or directives shown as text: {fences}"


@pytest.mark.parametrize("loaded", chapter_files(), indirect=True)
def test_no_glue_call_in_the_code_a_reader_sees(loaded):
    cells = loaded.page.evaluate(
        """() => [...document.querySelectorAll('main .cell_input')]
             .map(c => c.textContent).filter(t => t.includes('glue('))
             .map(t => t.split('\\n').find(l => l.includes('glue(')).trim())""")
    assert cells == [], f"rendered code cells call glue (tag those cells remove-cell): {cells}"


@pytest.mark.parametrize("loaded", chapter_files(), indirect=True)
def test_figures_are_sharp(loaded):
    """Every figure and shown frame carries at least 1.5 image pixels per CSS pixel."""
    images = loaded.page.evaluate(
        """() => [...document.querySelectorAll('main img')]
             .filter(i => i.getBoundingClientRect().width > 0 && !/^data:image\\/svg/.test(i.src)
                          && !i.src.endsWith('.svg'))
             .map(i => ({alt: i.alt.slice(0, 60), natural: i.naturalWidth,
                         shown: i.getBoundingClientRect().width}))""")
    assert bool(images) == (not loaded.page.url.endswith(tuple(f"{d}.html" for d in TABLE_CHAPTERS))), \
        "a chapter shows figures unless its results are tables"
    blurry = [i for i in images if i["natural"] < 1.5 * i["shown"]]
    assert blurry == [], f"figures with fewer than 1.5 pixels per CSS pixel: {blurry}"


@pytest.mark.parametrize("doc", toc_files())
def test_nothing_scrolls_sideways_on_a_phone(browser, site_url, doc):
    visit = Visit(browser, page_url(site_url, doc), viewport={"width": 390, "height": 844})
    try:
        visit.wait_for_widgets()
        n_math = visit.page.locator(".math").count()
        if n_math:
            visit.page.wait_for_function(
                "n => document.querySelectorAll('mjx-container').length >= n", arg=n_math,
                timeout=WIDGET_TIMEOUT_MS)
        visit.page.wait_for_timeout(300)
        report = visit.page.evaluate(
            """() => {
                const width = document.documentElement.clientWidth;
                // The outermost elements that stick out past the right edge, for the message.
                const wide = [...document.querySelectorAll('main *')].filter(e => {
                    const r = e.getBoundingClientRect();
                    if (r.width === 0 || r.right <= width + 1) return false;
                    for (let p = e.parentElement; p; p = p.parentElement) {
                        const s = getComputedStyle(p);
                        if (['auto', 'scroll', 'hidden', 'clip'].includes(s.overflowX)) return false;
                    }
                    return true;
                });
                const outer = wide.filter(e => !wide.includes(e.parentElement)).slice(0, 5).map(e =>
                    `${e.tagName.toLowerCase()}.${[...e.classList].join('.')} ` +
                    `"${e.textContent.trim().slice(0, 50)}" right=${Math.round(e.getBoundingClientRect().right)}`);
                return {scroll: document.documentElement.scrollWidth, width, outer};
            }""")
        assert report["scroll"] <= report["width"], report
    finally:
        visit.close()


def visible_play_icons(explorer):
    """How many icons the explorer's first play button shows: nested svgs that are
    displayed, plus the icon font's glyph on the <i> itself.
    """
    return explorer.locator(".widget-play button").first.evaluate(
        """b => {
            const svgs = [...b.querySelectorAll('svg')].filter(s => {
                const r = s.getBoundingClientRect();
                return r.width > 0 && r.height > 0 && getComputedStyle(s).display !== 'none';
            }).length;
            const glyphs = [...b.querySelectorAll('i')].filter(i => {
                const c = getComputedStyle(i, '::before').content;
                return c && c !== 'none' && c !== 'normal' && c !== '""';
            }).length;
            return svgs + glyphs;
        }""")


@pytest.mark.parametrize("doc", chapter_files())
def test_play_button_shows_one_icon_after_the_controls_change(browser, site_url, doc):
    visit = Visit(browser, page_url(site_url, doc))
    try:
        visit.wait_for_widgets()
        explorers = visit.page.locator(".cw-explorer:has(.widget-play)")
        if explorers.count() == 0:
            pytest.skip(f"{doc} has no play button")
        for i in range(explorers.count()):
            explorer = explorers.nth(i)
            explorer.scroll_into_view_if_needed()
            assert visible_play_icons(explorer) == 1, "before anything changes"
            before = explorer_state(explorer)
            toggles = explorer.locator(".widget-toggle-button:not(.mod-active)")
            if toggles.count():
                toggles.first.click()
            else:
                handle = explorer.locator(".noUi-handle").last
                handle.focus()
                visit.page.keyboard.press(step_key(handle))
            wait_for_new_frame(explorer, before)
            visit.page.wait_for_timeout(100)
            assert visible_play_icons(explorer) == 1, f"explorer {i}: after a control changed"
            play = explorer.locator(".widget-play button").first
            play.click()
            visit.page.wait_for_timeout(200)
            assert visible_play_icons(explorer) == 1, f"explorer {i}: while playing"
            play.click()  # pause again
            visit.page.wait_for_timeout(100)
            assert visible_play_icons(explorer) == 1, f"explorer {i}: paused"
    finally:
        visit.close()


def test_colour_mode_button_reaches_dark_in_one_click_and_light_in_the_next(browser, site_url):
    visit = Visit(browser, page_url(site_url, "book/index"))
    try:
        page = visit.page
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        button = page.locator(".theme-switch-button:visible").first
        button.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        button.click()
        assert page.evaluate("document.documentElement.dataset.theme") == "light"
        # The choice is kept for the next page, as the theme keeps it.
        button.click()
        page.goto(page_url(site_url, "book/bibliography"), wait_until="load")
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        assert visit.unexpected_errors() == []
    finally:
        visit.close()


def test_one_search_box_on_a_wide_screen(browser, site_url):
    visit = Visit(browser, page_url(site_url, "book/index"))
    try:
        boxes = visit.page.evaluate(
            """() => [...document.querySelectorAll('.search-button-field, form.bd-search input')]
                 .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; })
                 .length""")
        assert boxes == 1
    finally:
        visit.close()


def test_bibliography_labels_are_author_and_year(browser, site_url):
    visit = Visit(browser, page_url(site_url, "book/bibliography"))
    try:
        labels = visit.page.evaluate(
            "() => [...document.querySelectorAll('.citation .label')].map(l => l.textContent.trim())")
        assert len(labels) >= 10
        pattern = re.compile(r"^\[?[A-Z][\w'’ -]+( and [A-Z][\w'’ -]+| et al\.)?, \d{4}[a-z]?\]?$")
        assert [lab for lab in labels if not pattern.match(lab)] == []
    finally:
        visit.close()


@pytest.mark.parametrize("doc", chapter_files())
def test_figures_sit_on_one_light_card_in_dark_mode(browser, site_url, doc):
    """In dark mode each figure or explorer has exactly one background behind it
    between the image and the page: a light card, with no grey frame inside.
    """
    visit = Visit(browser, page_url(site_url, doc))
    try:
        visit.wait_for_widgets()
        visit.page.locator(".theme-switch-button:visible").first.click()
        assert visit.page.evaluate("document.documentElement.dataset.theme") == "dark"
        frames = visit.page.evaluate(
            """() => [...document.querySelectorAll('main img.cw-figure, main .cw-explorer img')]
                 .filter(i => i.getBoundingClientRect().width > 0)
                 .map(img => {
                     const painted = [];
                     for (let e = img; e && e.tagName !== 'MAIN'; e = e.parentElement) {
                         const s = getComputedStyle(e);
                         if (s.backgroundColor !== 'rgba(0, 0, 0, 0)' || parseFloat(s.borderTopWidth) > 0
                             || s.boxShadow !== 'none') {
                             painted.push({tag: e.tagName, cls: e.className.slice(0, 40), bg: s.backgroundColor});
                         }
                     }
                     return {alt: img.alt.slice(0, 50), painted};
                 })""")
        assert bool(frames) == (doc not in TABLE_CHAPTERS)
        for frame in frames:
            assert len(frame["painted"]) == 1, frame
            (card,) = frame["painted"]
            r, g, b = (int(v) for v in re.findall(r"\d+", card["bg"])[:3])
            assert min(r, g, b) >= 230, f"the card is light: {frame}"
    finally:
        visit.close()


# The links matching a selector that a reader can see: inside the window, with a size.
VISIBLE_LINKS = """(selector) => [...document.querySelectorAll(selector)]
    .filter(a => { const r = a.getBoundingClientRect();
                   return r.width > 0 && r.height > 0 && r.right > 0 && r.left < innerWidth
                          && getComputedStyle(a).visibility !== 'hidden'; })
    .map(a => a.getAttribute('href'))"""


def _visible_links(page, selector):
    return page.evaluate(VISIBLE_LINKS, selector)


CHAPTER_LINKS = ".bd-sidebar-primary a.reference.internal, #pst-primary-sidebar-modal a.reference.internal"


@pytest.mark.parametrize("width", [390, 800, 1280])
def test_the_chapter_list_opens_and_a_chapter_can_be_followed(browser, site_url, width):
    """The visible ☰ opens the chapter list at every width (a dialog below 992 px, the
    sidebar collapsing and coming back above), and a chapter link in it leads there.
    """
    visit = Visit(browser, page_url(site_url, "book/03_parameter_sharing"), {"width": width, "height": 844})
    page = visit.page
    try:
        toggle = page.locator(".primary-toggle:visible")
        assert toggle.count() == 1, "exactly one visible ☰ button"
        if width < 992:
            assert _visible_links(page, CHAPTER_LINKS) == [], "the chapter list starts closed on a narrow screen"
            toggle.click()
            page.wait_for_function("() => document.querySelector('#pst-primary-sidebar-modal')?.open")
        else:
            assert _visible_links(page, CHAPTER_LINKS), "the chapter list starts open on a wide screen"
            toggle.click()
            page.wait_for_function(
                "() => document.querySelector('#pst-primary-sidebar').classList.contains('pst-sidebar-hidden')")
            # The sidebar slides away; once it has, no chapter link is left on screen.
            page.wait_for_function(f"(s) => ({VISIBLE_LINKS})(s).length === 0", arg=CHAPTER_LINKS)
            toggle.click()
            page.wait_for_function(f"(s) => ({VISIBLE_LINKS})(s).length > 0", arg=CHAPTER_LINKS)
        links = _visible_links(page, CHAPTER_LINKS)
        target = next(h for h in links if "02_local_connectivity" in h)
        page.locator(f'a.reference.internal[href="{target}"]:visible').first.click()
        page.wait_for_url("**/book/02_local_connectivity.html*")
        assert visit.unexpected_errors() == []
    finally:
        visit.close()


@pytest.mark.parametrize("width", [390, 800])
def test_the_contents_button_opens_the_page_contents_on_a_narrow_screen(browser, site_url, width):
    visit = Visit(browser, page_url(site_url, "book/03_parameter_sharing"), {"width": width, "height": 844})
    page = visit.page
    try:
        toggle = page.locator(".secondary-toggle:visible")
        assert toggle.count() == 1, "exactly one visible contents button"
        assert _visible_links(page, "#pst-secondary-sidebar-modal a.nav-link") == []
        toggle.click()
        page.wait_for_function("() => document.querySelector('#pst-secondary-sidebar-modal')?.open")
        assert len(_visible_links(page, "#pst-secondary-sidebar-modal a.nav-link")) >= 3
    finally:
        visit.close()


@contextlib.contextmanager
def phone_visit(browser, site_url, doc):
    """A page opened on a 390 x 844 phone screen with its widgets drawn; closed afterwards."""
    visit = Visit(browser, page_url(site_url, doc), {"width": 390, "height": 844})
    try:
        visit.wait_for_widgets()
        yield visit
    finally:
        visit.close()


# Boxes of the article that scroll sideways and hold a table, image, canvas or formula, and which of them
# do not say so (a visible hint line just before the box, or its own first), or are a figure whose caption
# would scroll away with its image.
SILENT_BOXES = """() => {
                const shows = h => h.getBoundingClientRect().height > 0 && getComputedStyle(h).display !== 'none';
                const hinted = e => { const h = e && e.previousElementSibling;
                    const own = e && e.querySelector(':scope > .cw-fit-hint, '
                        + ':scope > .widget-html-content > .cw-fit-hint, :scope > .cw-box-hint');
                    return (!!h && h.classList.contains('cw-scroll-hint') && shows(h)
                            && getComputedStyle(h).visibility === 'visible')
                           || (!!own && shows(own)); };
                const boxes = [...document.querySelectorAll('.bd-article *')].filter(b =>
                    ['auto', 'scroll'].includes(getComputedStyle(b).overflowX)
                    && b.scrollWidth > b.clientWidth + 1 && b.offsetParent !== null
                    && b.querySelector('img, table, canvas, svg'));
                return {
                    silent: boxes.filter(b => !hinted(b) && !hinted(b.closest('.widget-subarea')))
                                 .map(b => b.outerHTML.slice(0, 100)),
                    // The figure itself scrolling takes its caption along (a live figure's row of
                    // small maps, each with its own label, scrolls as one: that is not this).
                    captions: boxes.filter(b => b.matches('figure') && b.querySelector(':scope > figcaption'))
                                   .map(b => b.outerHTML.slice(0, 100)),
                };
            }"""


@pytest.mark.parametrize("doc", toc_files())
def test_on_a_phone_every_box_that_scrolls_says_so(browser, site_url, doc):
    """Anything holding a table, image, canvas or formula that scrolls sideways on a 390-pixel screen says so.

    Every element of the article that is a scroll container and is wider inside
    than it shows counts (not only the boxes scroll-hints.js knows): its hint is
    a visible line just before it or first inside it, or, for an explorer's frame,
    just before the explorer. A figure's caption never scrolls out of sight with its image.
    """
    with phone_visit(browser, site_url, doc) as visit:
        visit.page.wait_for_timeout(300)  # the hints are placed once the page has loaded
        found = visit.page.evaluate(SILENT_BOXES)
        assert found["silent"] == [], "boxes that scroll without saying so"
        assert found["captions"] == [], "captions that scroll away with their figure"


@pytest.mark.parametrize("doc", toc_files())
def test_on_a_phone_every_box_that_scrolls_says_so_from_the_first_paint(browser, site_url, doc):
    """The hints are in the page's HTML and its stylesheet: with no script run at all, every box that
    scrolls on a 390-pixel screen says so, so no hint comes late and moves the page.
    """
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(page_url(site_url, doc))
        found = page.evaluate(SILENT_BOXES)
    finally:
        context.close()
    assert found["silent"] == [], "boxes whose hint comes only from a script"


# The contrast of each shown hint line ("Scroll sideways...") against the first background behind it.
HINT_CONTRAST = """() => {
    const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => [r, g, b].map(v => v / 255)
        .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const behind = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || c[3] > 0) { return c.slice(0, 3); } } return [255, 255, 255]; };
    return [...document.querySelectorAll('.bd-article .cw-scroll-hint')]
        .filter(h => h.getBoundingClientRect().height > 0 && h.offsetParent !== null)
        .map(h => { const [a, b] = [lum(rgb(getComputedStyle(h).color)), lum(behind(h))];
                    return [h.parentElement.className.slice(0, 60),
                            (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}"""


@pytest.mark.parametrize("mode", ["light", "dark"])
@pytest.mark.parametrize("doc", chapter_files())
def test_on_a_phone_every_scroll_hint_reads_in_either_colour_mode(browser, site_url, doc, mode):
    """A hint line is text like any other: 4.5 : 1 against what is behind it (a figure's light card in dark
    mode too).
    """
    with phone_visit(browser, site_url, doc) as visit:
        visit.page.evaluate(f"""() => {{ const root = document.documentElement;
                                        root.dataset.mode = '{mode}'; root.dataset.theme = '{mode}'; }}""")
        visit.page.wait_for_timeout(300)
        found = visit.page.evaluate(HINT_CONTRAST)
    if not found:
        pytest.skip(f"nothing scrolls in {doc} on a phone")
    low = [(where, round(ratio, 2)) for where, ratio in found if ratio < 4.5]
    assert low == []


@pytest.mark.parametrize("doc", chapter_files())
def test_on_a_phone_every_control_is_a_large_enough_touch_target(browser, site_url, doc):
    """Slider handles, buttons, menus and fields are at least 24 x 24 CSS pixels (WCAG 2.2, 2.5.8)."""
    with phone_visit(browser, site_url, doc) as visit:
        small = visit.page.evaluate(
            """() => [...document.querySelectorAll('.bd-article :is(.cw-explorer .noUi-handle, '
                      + '.cw-explorer button, .cw-live select, .cw-live input, .cw-live button)')]
                 .map(e => [e, e.getBoundingClientRect()])
                 .filter(([e, r]) => r.width > 0 && r.height > 0 && (r.width < 24 || r.height < 24))
                 .map(([e, r]) => `${e.className || e.tagName} ${Math.round(r.width)} x ${Math.round(r.height)}`)""")
        assert small == []


@pytest.mark.parametrize("doc", chapter_files())
def test_on_a_phone_the_smallest_text_of_every_figure_is_at_least_9_pixels(browser, site_url, doc):
    """Each image knows its smallest text at its own size (``data-text-px``); as shown on a
    390-pixel screen, scaled to the column or scrolling in its box, that text is 9 CSS pixels or more.
    """
    visit = Visit(browser, page_url(site_url, doc), {"width": 390, "height": 844})
    try:
        visit.wait_for_widgets()
        sizes = visit.page.evaluate(
            """() => [...document.querySelectorAll('.bd-article img.cw-figure[data-text-px]')]
                 .map(i => [i.alt.slice(0, 60), i.getBoundingClientRect().width, i.naturalWidth / 2,
                            +i.dataset.textPx])
                 .filter(([alt, shown]) => shown > 0)
                 .map(([alt, shown, width, px]) => [alt, px * shown / width])""")
        assert bool(sizes) == (doc not in TABLE_CHAPTERS), "the page shows figures unless its results are tables"
        small = [(alt, round(px, 1)) for alt, px in sizes if px < 8.95]
        assert small == []
    finally:
        visit.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_a_row_of_panels_is_drawn_again_for_a_phone_and_shown_whole_there(browser, site_url, width):
    """Figures that come with a phone's drawing (a <picture>) show it in a phone's window, where it
    fits the column with its text 9 pixels or more and nothing to scroll; a wide window shows the wide one.

    Static figures and explorers' frames alike (chapter 1 has both). The phone drawings are files of
    the site (book/_ext/phone_drawings.py): a phone fetches those it shows, a wide window none.
    """
    for doc in ("book/01_conv_layer", "book/08_trained_networks"):
        visit = Visit(browser, page_url(site_url, doc), {"width": width, "height": 900})
        try:
            visit.wait_for_widgets()
            visit.page.wait_for_function(
                "() => [...document.querySelectorAll('.bd-article picture.cw-picture img')].every(i => i.complete)")
            shown = visit.page.evaluate(
                """() => [...document.querySelectorAll('.bd-article picture.cw-picture')].map(p => {
                       const img = p.querySelector('img'), box = img.closest('.output, .widget-html, .cw-ff-frame');
                       const phone = new URL(p.querySelector('source').getAttribute('srcset'), document.baseURI);
                       return {narrow: img.currentSrc === phone.href, explorer: !!img.closest('.cw-explorer'),
                               width: img.getBoundingClientRect().width, natural: img.naturalWidth / 2,
                               px: +img.dataset.textPx, scrolls: box.scrollWidth > box.clientWidth + 1};
                   })""")
            assert len(shown) >= 1, doc
            if doc == "book/01_conv_layer":
                assert any(fig["explorer"] for fig in shown), "an explorer's frame has its phone drawing"
            for fig in shown:
                assert fig["narrow"] == (width == 390), fig
                if width == 390:
                    assert not fig["scrolls"] and fig["px"] * fig["width"] / fig["natural"] >= 8.95, fig
            fetched = visit.page.evaluate(
                "performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/_phone/'))")
            assert (len(fetched) > 0) == (width == 390), fetched
            assert visit.failed == [] and visit.bad_status == []
        finally:
            visit.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_on_a_phone_an_explorers_drawings_are_fetched_once_the_reader_reaches_for_its_controls(
        browser, site_url, width):
    """A phone fetches the explorer's other frames' drawings when its controls are first touched, so the
    next frame is not blank while it downloads (frontend/manager.js); a wide window fetches none.
    """
    visit = Visit(browser, page_url(site_url, "book/01_conv_layer"), {"width": width, "height": 900})
    try:
        visit.wait_for_widgets()
        fetched = """() => new Set(performance.getEntriesByType('resource').map(e => e.name)
                                   .filter(n => n.includes('/_phone/'))).size"""
        before = visit.page.evaluate(fetched)
        explorer = visit.page.locator(".cw-explorer:has(picture.cw-picture)").first
        explorer.locator(".noUi-handle, button").first.focus()
        if width == 390:
            visit.page.wait_for_function(f"() => ({fetched})() > {before} + 1")
        else:
            visit.page.wait_for_timeout(500)
            assert visit.page.evaluate(fetched) == before == 0
        assert visit.failed == [] and visit.bad_status == []
    finally:
        visit.close()


# A live figure laid out for a phone: the page, its controls and the element that shows its result.
# (The other live figures' phone layouts are tested with each figure.)
LIVE_RESULTS = [
    ("book/01_conv_layer", ".cw-kernel-playground :is(input, select)", ".cw-kernel-playground .cw-live-images"),
]


@pytest.mark.parametrize(("doc", "controls", "result"), LIVE_RESULTS)
def test_on_a_phone_a_live_figures_result_stays_in_view_while_its_controls_are_used(
        browser, site_url, doc, controls, result):
    """At 390 x 844, each control in turn takes the focus (the browser scrolls it into view):
    the figure's result is then on screen, below the article bar, and does not cover the control.
    """
    visit = Visit(browser, page_url(site_url, doc), {"width": 390, "height": 844})
    page = visit.page
    try:
        visit.wait_for_widgets()
        found = page.locator(controls)
        assert found.count() > 0
        bad = []
        for i in range(found.count()):
            control = found.nth(i)
            if not control.is_visible() or control.is_disabled():
                continue
            control.focus()
            page.wait_for_timeout(50)
            seen = page.evaluate(
                """([c, s]) => {
                    const a = c.getBoundingClientRect(), b = document.querySelector(s).getBoundingClientRect();
                    const bar = document.querySelector('.bd-header-article').getBoundingClientRect().bottom;
                    const shown = Math.max(0, Math.min(innerHeight, b.bottom) - Math.max(bar, b.top)) / b.height;
                    const covers = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
                    const controlShown = a.top >= bar - 1 && a.bottom <= innerHeight + 1;
                    return {shown, covers, controlShown};
                }""", [control.element_handle(), result])
            if seen["shown"] < 0.5 or seen["covers"] or not seen["controlShown"]:
                bad.append((i, seen))
        assert bad == []
    finally:
        visit.close()
