"""Measure the book against its performance budgets and write benchmarks/RESULTS.md.

    bash scripts/benchmark.sh            # everything (about 10 minutes on 2 cores)
    bash scripts/benchmark.sh --quick    # the budgets that are quick to check, on a built site

Full mode measures a cold build (empty caches) and a rebuild with no change,
executes each chapter on one CPU core (wall time and peak memory), and then
runs the quick checks on the site it built. Quick mode needs a built site
(``--site``, default ``_build/html``) and measures, per chapter page, the bytes
of HTML with embedded widget state and the number of frames; in headless
Chromium, over five cold loads (each in a fresh browser context, after one
warm-up navigation that starts the browser's processes; medians), the time from
navigation to all widgets rendered, timed inside the page from its first byte,
the first contentful paint, when the figures and the widgets of the first
screenful are on screen and usable, and how much the page moved while it
loaded (cumulative layout shift); the time from a keyboard step of a slider to the
new frame, and from one typed kernel entry of a live figure to its new feature
map; and, side by side, the same explorer done
the conventional way (an ``ipywidgets.interactive`` callback that recomputes
and redraws in the kernel) against a step between the book's precomputed
frames. It exits with status 1 when any budget is exceeded.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tests_module(name: str):
    """A module of tests/ (the browser constants and chapter list the tests use), loaded by path."""
    spec = importlib.util.spec_from_file_location(f"_book_tests_{name}", ROOT / "tests" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


_conftest = _tests_module("conftest")
CHROMIUM, WIDGETS_DRAWN, chapter_files = _conftest.CHROMIUM, _conftest.WIDGETS_DRAWN, _conftest.chapter_files

MB = 1024 * 1024
BUDGETS = {
    # Every chapter executes once in a cold build: about 625 s on one core between them
    # (12 chapters, the central experiment's ten seeds among them), so at least 312 s on
    # two cores before Sphinx reads and writes anything. Five minutes was set for a book
    # of eight chapters; 400 s leaves the chapters about 60 CPU seconds to grow.
    "cold build (s)": 400.0,
    "rebuild, no change (s)": 20.0,
    "chapter execution, one core (s)": 60.0,
    "training chapter execution, one core (s)": 90.0,
    "chapter peak memory (MB)": 1536.0,
    "page HTML + widget state (MB)": 5.0,
    "navigation to widgets rendered (ms)": 800.0,
    # First paint (per page, the median of the same cold loads): the figures of the
    # first screenful are on screen with the first contentful paint (at most one
    # frame, 17 ms, later), its widgets are usable within 1.25 times the first paint,
    # and nothing on the page moves while it loads (cumulative layout shift).
    "figures visible after first paint (ms)": 17.0,
    "first screenful usable, times first paint": 1.25,
    "layout shift while loading": 0.01,
    "keyboard step to new frame (ms)": 50.0,
    # A live figure (computed in the browser): one typed kernel entry to the new
    # feature map of a 3-channel 256 x 256 image drawn on its canvas.
    "kernel edit to new feature map (ms)": 16.0,
    # Chapter 5's shift figure: one typed shift to the four panels and the error redrawn.
    "shift edit to redrawn figure (ms)": 16.0,
    # Chapter 4's field stack: one typed layer setting to every map redrawn with the field.
    "stack edit to redrawn figure (ms)": 16.0,
    # Chapter 10's draw-a-digit figure: one pointer move of a stroke to the new
    # input, three networks' predictions and the feature maps drawn.
    "stroke to predictions (ms)": 16.0,
    # A chapter is one argument: a page with more prose than this is two chapters, or
    # holds digressions that belong in exercises or the tests.
    "words of prose per chapter": 4500.0,
}
# Quick mode runs in CI right after the test suite has built and tested the book,
# on a machine whose timings are not those of a quiet one: there it guards
# navigation against regressions at a looser gate; the full benchmark, on a
# quiet machine, holds it to its budget.
QUICK_GATES = {"navigation to widgets rendered (ms)": 2000.0}
# The chapters that train networks over several seeds (the 90 s budget); their cost per
# run and per seed is recorded in benchmarks/RESULTS.md.
TRAINING_CHAPTERS = {"book/03_parameter_sharing", "book/04_receptive_fields", "book/06_pooling",
                     "book/08_trained_networks", "book/09_controls", "book/10_position",
                     "book/11_feature_hierarchy", "book/12_sequences"}


#: An opening or closing fence of a code block or a directive.
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def prose_words(text: str) -> int:
    """Words of a chapter's prose, exercises and solutions included.

    Code cells, code blocks (indented or fenced), directive options, display
    maths and the front matter are left out; a glued value, a cross-reference
    or an inline formula counts as one word.
    """
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        end = lines.index("---", 1)
        lines = lines[end + 1:]
    words, stack, in_math = 0, [], False
    for line in lines:
        m = _FENCE.match(line)
        if m:
            indent, fence, info = m.groups()
            if stack and fence[0] == stack[-1][0] and len(fence) >= len(stack[-1][1]) and not info.strip():
                stack.pop()
                continue
            if not info.strip() and stack:
                continue
            kind = "code" if (not info.strip().startswith("{") or "code-cell" in info) else "directive"
            stack.append((fence[0], fence, kind))
            continue
        if any(k == "code" for *_, k in stack):
            continue
        stripped = line.strip()
        if stripped.startswith("$$"):
            in_math = not in_math if stripped.count("$$") == 1 else in_math
            continue
        if in_math or stripped.startswith(":") and re.match(r"^:[\w-]+:", stripped):
            continue
        if line.startswith("    ") and not stack:
            continue
        if stack and line.startswith("    "):  # code inside an admonition's body
            continue
        stripped = re.sub(r"\{[\w:-]+\}`[^`]*`", " X ", stripped)
        stripped = re.sub(r"`[^`]*`", " X ", stripped)
        stripped = re.sub(r"\$[^$]*\$", " X ", stripped)
        words += len(re.findall(r"[A-Za-z0-9][\w'’.,-]*", stripped))
    return words


def measure_prose(report: Report):
    """Words of prose on each chapter page (exercises included; code, maths and directive options not)."""
    for doc in chapter_files():
        words = prose_words((ROOT / f"{doc}.md").read_text())
        report.add("prose", f"{Path(doc).name}: words of prose", words, "words",
                   BUDGETS["words of prose per chapter"], fmt="{:,.0f}")


#: The heading of RESULTS.md's record of training costs, which write() keeps.
TRAINING_COSTS = "## Training cost per run and per seed"


@dataclass
class Report:
    """Rows of the results table, and the budgets they exceed."""

    rows: list = field(default_factory=list)   # (section, item, value, unit, budget or None)
    failures: list = field(default_factory=list)

    def add(self, section, item, value, unit, budget=None, fmt="{:,.1f}"):
        """Record one measurement, and a failure when it exceeds its budget."""
        ok = budget is None or value <= budget
        verdict = "" if budget is None else ("ok" if ok else "OVER")
        self.rows.append((section, item, fmt.format(value), unit,
                          "" if budget is None else fmt.format(budget), verdict))
        if not ok:
            self.failures.append(f"{section} / {item}: {fmt.format(value)} {unit} > budget {fmt.format(budget)}")


def run(cmd, **kwargs):
    """Run a command from the repository root; fail on a non-zero exit."""
    return subprocess.run(cmd, cwd=ROOT, check=True, **kwargs)


def measure_builds(report: Report):
    """Cold build with empty caches, then a rebuild with nothing changed (cache hit)."""
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    for label, budget in (("cold build (s)", BUDGETS["cold build (s)"]),
                          ("rebuild, no change (s)", BUDGETS["rebuild, no change (s)"])):
        start = time.perf_counter()
        run(["bash", "scripts/build.sh"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        report.add("build", label.replace(" (s)", ""), time.perf_counter() - start, "s", budget)


def measure_chapters(report: Report):
    """Execute each chapter on its own, pinned to one core, in a fresh process."""
    for doc in chapter_files():
        out = run(["taskset", "-c", "0", sys.executable, str(ROOT / "benchmarks" / "execute_one.py"), f"{doc}.md"],
                  capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1"))
        result = json.loads(out.stdout.strip().splitlines()[-1])
        budget = BUDGETS["training chapter execution, one core (s)" if doc in TRAINING_CHAPTERS
                         else "chapter execution, one core (s)"]
        name = Path(doc).name
        report.add("chapter on one core", f"{name}: wall time", result["seconds"], "s", budget)
        report.add("chapter on one core", f"{name}: peak memory", result["peak_mb"], "MB",
                   BUDGETS["chapter peak memory (MB)"], fmt="{:,.0f}")


def measure_pages(report: Report, site: Path):
    """Bytes of each chapter page with its widget state, and its number of frames."""
    for doc in chapter_files():
        html = (site / f"{doc}.html").read_text()
        name = Path(doc).name
        report.add("page", f"{name}: HTML + widget state", len(html.encode()) / MB, "MB",
                   BUDGETS["page HTML + widget state (MB)"], fmt="{:,.2f}")
        frames = html.count("data:image/png;base64") + html.count("data:image/webp;base64")
        report.add("page", f"{name}: frames", frames, "frames", fmt="{:,.0f}")


def measure_browser(report: Report, site: Path, loads: int = 5, budgets: dict = BUDGETS):
    """Navigation to widgets drawn, and a keyboard step to a new frame, in headless Chromium."""
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A page closed while its scripts were still arriving: expected here, not worth a traceback.
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    steps = []
    try:
        with sync_playwright() as p:
            # Other hosts cannot be reached: their names resolve to nothing. (Intercepting
            # every request instead, with page.route, passes each one through this
            # process and added about 0.12 s to a page's navigation time.)
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
            warm_up = browser.new_page()
            warm_up.goto(f"{url}/index.html")
            warm_up.close()
            for doc in chapter_files():
                times, paints = [], []
                for i in range(loads):   # the median: one slow load on a busy machine should not decide
                    # A fresh context each time: an empty cache, as for a reader's first visit.
                    page = browser.new_page(viewport={"width": 1280, "height": 1000})
                    page.add_init_script(FIRST_PAINT)
                    page.goto(f"{url}/{doc}.html", wait_until="commit")
                    page.wait_for_function(f"() => document.readyState !== 'loading' && {WIDGETS_DRAWN}",
                                           timeout=30_000)
                    page.wait_for_timeout(300)   # a late move still counts
                    paints.append(page.evaluate("window.__firstPaint.report()"))
                    # Timed inside the page, at the frame the last widget was first seen drawn: a
                    # check started from here would wait for the page's scripts to let it run.
                    times.append(paints[-1]["everyWidget"])
                    if i < loads - 1:
                        page.close()
                name = Path(doc).name
                report.add("browser", f"{name}: navigation to widgets rendered", statistics.median(times), "ms",
                           budgets["navigation to widgets rendered (ms)"], fmt="{:,.0f}")
                add_first_paint(report, name, paints, budgets)
                if page.locator(".cw-explorer .noUi-handle").count():
                    step = keyboard_step_ms(page)
                    steps.append(step)
                    report.add("browser", f"{name}: keyboard step to new frame", step, "ms",
                               BUDGETS["keyboard step to new frame (ms)"], fmt="{:,.1f}")
                if page.locator(".cw-kernel-playground").count():
                    shape, edit = kernel_edit_ms(page)
                    report.add("browser", f"{name}: kernel edit to new feature map ({' x '.join(map(str, shape))})",
                               edit, "ms", BUDGETS["kernel edit to new feature map (ms)"], fmt="{:,.1f}")
                if page.locator(".cw-shift-figure").count():
                    report.add("browser", f"{name}: shift edit to redrawn figure", shift_edit_ms(page), "ms",
                               BUDGETS["shift edit to redrawn figure (ms)"], fmt="{:,.1f}")
                if page.locator(".cw-digit-pad").count():
                    report.add("browser", f"{name}: stroke to predictions", stroke_ms(page), "ms",
                               BUDGETS["stroke to predictions (ms)"], fmt="{:,.1f}")
                if page.locator(".cw-field-stack").count():
                    report.add("browser", f"{name}: stack edit to redrawn figure", stack_edit_ms(page), "ms",
                               BUDGETS["stack edit to redrawn figure (ms)"], fmt="{:,.1f}")
                page.close()
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return steps


# Installed before a page's first byte: on every animation frame, the first time each
# figure of the page (a numbered figure or a cell's output holding an image, a canvas
# or a widget) shows a decoded image or a drawn canvas, and the first time each widget
# view is drawn in the page; and every layout shift. report() gives the first
# contentful paint, the last of those times among the figures and widgets of the
# first screenful (the window as it opens), the last widget's, and the summed shift.
FIRST_PAINT = """
(() => {
  const seen = new Map(), drawn = new Map();
  let shift = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) { if (!e.hadRecentInput) { shift += e.value; } }
  }).observe({type: 'layout-shift', buffered: true});
  const FIGURES = '.bd-article figure, .bd-article .cell_output';
  const VIEWS = 'script[type="application/vnd.jupyter.widget-view+json"]';
  const shows = unit => [...unit.querySelectorAll('img, canvas')].some(e =>
    e.offsetParent !== null && !e.closest('.cw-drawing') &&
    (e.tagName === 'CANVAS' ? e.width > 0 : e.complete && e.naturalWidth > 0));
  const frame = now => {
    for (const unit of document.querySelectorAll(FIGURES)) {
      if (!seen.has(unit) && shows(unit)) { seen.set(unit, now); }
    }
    for (const view of document.querySelectorAll(VIEWS)) {
      if (!drawn.has(view) && view.parentElement.querySelector('.jupyter-widgets')
          && !view.parentElement.querySelector('.cw-drawing')) { drawn.set(view, now); }
    }
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  const onFirstScreen = e => e.getBoundingClientRect().top < window.innerHeight;
  window.__firstPaint = {report() {
    const fcp = performance.getEntriesByName('first-contentful-paint')[0].startTime;
    const units = [...document.querySelectorAll(FIGURES)]
      .filter(u => u.querySelector('img, canvas') || u.querySelector(VIEWS));
    const first = units.filter(onFirstScreen);
    const views = [...document.querySelectorAll(VIEWS)];
    const firstViews = views.filter(v => onFirstScreen(v.parentElement));
    const latest = (items, times) => Math.max(fcp, ...items.map(i => times.get(i) ?? Infinity));
    return {fcp, figures: latest(first, seen), usable: latest(firstViews, drawn),
            everyWidget: latest(views, drawn), shift};
  }};
})();
"""


def add_first_paint(report: Report, name: str, paints: list, budgets: dict = BUDGETS):
    """Rows for one page's first paint: the medians over its loads of :data:`FIRST_PAINT`'s report."""
    def median(key):
        return statistics.median(p[key] for p in paints)

    fcp = median("fcp")
    report.add("first paint", f"{name}: first contentful paint", fcp, "ms", fmt="{:,.0f}")
    report.add("first paint", f"{name}: figures of the first screen visible, after first paint",
               statistics.median(p["figures"] - p["fcp"] for p in paints), "ms",
               budgets["figures visible after first paint (ms)"], fmt="{:,.0f}")
    report.add("first paint", f"{name}: first screen usable, times first paint",
               statistics.median(p["usable"] / p["fcp"] for p in paints), "x",
               budgets["first screenful usable, times first paint"], fmt="{:,.2f}")
    report.add("first paint", f"{name}: layout shift while loading", max(p["shift"] for p in paints), "",
               budgets["layout shift while loading"], fmt="{:,.4f}")


def keyboard_step_ms(page, repeats: int = 5) -> float:
    """Median time from a right-arrow key press on a slider to the new frame in the page."""
    handle = page.locator(".cw-explorer .noUi-handle").first
    handle.scroll_into_view_if_needed()
    # Away from the end the slider opens at, then back: an arrow key at the end moves nothing.
    at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    first, second = ("ArrowLeft", "ArrowRight") if at_end else ("ArrowRight", "ArrowLeft")
    times = []
    for i in range(repeats):
        key = first if i % 2 == 0 else second
        handle.focus()
        page.evaluate("""() => {
            const explorer = document.querySelector('.cw-explorer');
            const start = explorer.querySelector('img[alt]').alt;
            window.__step = new Promise((resolve, reject) => {
                const t0 = {value: null};
                document.addEventListener('keydown', () => { t0.value = performance.now(); },
                                          {once: true, capture: true});
                const obs = new MutationObserver(() => {
                    const img = explorer.querySelector('img[alt]');
                    if (img && img.alt !== start && img.complete) {
                        obs.disconnect(); resolve(performance.now() - t0.value);
                    }
                });
                obs.observe(explorer, {subtree: true, childList: true, attributes: true});
                setTimeout(() => { obs.disconnect(); reject(new Error('no new frame 10 s after the key')); },
                           10000);
            });
        }""")
        page.keyboard.press(key)
        times.append(page.evaluate("() => window.__step"))
    return statistics.median(times)


def typed_edit_ms(page, field, values, used: str, what: str, repeats: int = 21) -> float:
    """Median time from committing a typed value (Enter) to the end of that key's handling.

    Each repeat selects ``field``'s text, types the next of ``values`` (in
    turn) and presses Enter. Live figures check, compute and draw inside the
    handler of that commit (``whenSettled`` in ``src/widgets/live/dom.js``), so
    the time runs from Enter's keydown to the end of that event's dispatch,
    when the figure holds its new result (the browser shows it at its next
    frame). ``used`` is a JavaScript expression of the value the figure took,
    checked after every edit; ``what`` names the figure in the error.
    """
    times = []
    for i in range(repeats):
        value = values[i % len(values)]
        field.focus()
        field.press("Control+a")
        page.keyboard.type(str(value))
        page.evaluate("""() => {
            window.__edit = new Promise(resolve => {
                let t0 = null;
                document.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
                document.addEventListener('keydown', () => resolve(performance.now() - t0), {once: true});
            });
        }""")
        page.keyboard.press("Enter")  # the figure takes the typed value when the reader commits it
        times.append(page.evaluate("() => window.__edit"))
        taken = page.evaluate(f"() => {used}")
        if taken != value:
            raise RuntimeError(f"{what} did not take the typed value {value} (it has {taken})")
    return statistics.median(times)


def kernel_edit_ms(page, repeats: int = 21) -> tuple[list, float]:
    """Median time from a typed kernel entry to the new feature map, and the image's shape.

    The key goes into a kernel field of the page's first kernel playground; the
    map is the one drawn on its canvas.

    The playground computes and draws inside the field's input handler, so the
    time runs from the key's keydown to the end of that event's dispatch, when
    the canvas holds the new map (the browser shows it at its next frame).
    """
    root = page.locator(".cw-kernel-playground").first
    root.scroll_into_view_if_needed()
    edit = typed_edit_ms(page, root.locator("input.cw-live-field").nth(4), [2, 1],
                         "document.querySelector('.cw-kernel-playground').live.weight[4]", "the playground", repeats)
    shape = page.evaluate("() => document.querySelector('.cw-kernel-playground').live.input.shape")
    return shape, edit


def stroke_ms(page, repeats: int = 41) -> float:
    """Median time from one pointer move of a stroke on the digit pad to its new predictions.

    The pad paints, classifies with all its networks and draws the feature maps
    inside its pointermove handler, so the time runs from the event's dispatch
    (a capturing listener on the window) to its end (a listener on the document,
    reached after the canvas's own), when the page holds the new predictions.
    """
    root = page.locator(".cw-digit-pad").first
    root.scroll_into_view_if_needed()
    root.locator("button.cw-pad-clear").click()
    box = root.locator("canvas.cw-pad-canvas").bounding_box()
    page.evaluate("""() => {
        window.__strokes = [];
        let t0 = null;
        window.addEventListener('pointermove', () => { t0 = performance.now(); }, {capture: true});
        document.addEventListener('pointermove', () => {
            if (t0 !== null) { window.__strokes.push(performance.now() - t0); }
        });
    }""")
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
    page.mouse.down()
    for i in range(repeats):   # a zigzag across the middle of the canvas
        page.mouse.move(box["x"] + (0.3 + 0.4 * (i % 2)) * box["width"],
                        box["y"] + (0.3 + 0.4 * i / repeats) * box["height"])
    page.mouse.up()
    times = page.evaluate("() => window.__strokes")
    ink = page.evaluate("() => document.querySelector('.cw-digit-pad').live.input.data.reduce((a, b) => a + b, 0)")
    if len(times) < repeats or ink <= 0:
        raise RuntimeError(f"the digit pad did not take the stroke ({len(times)} moves timed, ink {ink})")
    return statistics.median(times[-repeats:])


def shift_edit_ms(page, repeats: int = 21) -> float:
    """Median time from a typed shift in chapter 5's shift figure to its four panels and error redrawn.

    The figure is first set to its costliest case (stride 1 and blur pooling,
    both shift components odd: four candidate output shifts to compare). It
    shifts, filters, pools, compares and draws inside the field's input
    handler; the time runs from the key's keydown to the end of that event's dispatch.
    """
    root = page.locator(".cw-shift-figure").first
    root.scroll_into_view_if_needed()
    root.locator("select").nth(2).select_option("1")
    root.locator("select").nth(3).select_option("blur")
    dy, dx = root.locator("input.cw-shift-field").nth(0), root.locator("input.cw-shift-field").nth(1)
    dy.fill("3")
    return typed_edit_ms(page, dx, [5, 7], "document.querySelector('.cw-shift-figure').live.dx",
                         "the shift figure", repeats)


def stack_edit_ms(page, repeats: int = 21) -> float:
    """Median time from a typed kernel size of the field stack's first layer to the figure redrawn.

    The figure checks the stack, computes every map's side and the selected
    unit's field on each map, and redraws every grid and the table inside the
    field's input handler; the time runs from the key's keydown to the end of
    that event's dispatch.
    """
    root = page.locator(".cw-field-stack").first
    root.scroll_into_view_if_needed()
    return typed_edit_ms(page, root.get_by_label(re.compile("^Layer 1 kernel")), [5, 3],
                         "document.querySelector('.cw-field-stack').live.layers[0].kernelSize",
                         "the field stack", repeats)


def measure_interact(report: Report, book_step_ms: float | None):
    """The first chapter's patch explorer done the conventional way: recompute and redraw per update."""
    import ipywidgets

    from widgets import compute, draw
    from widgets.draw.style import to_png

    small = compute.data.photo(32)[0]
    kernel = compute.conv_layer.hand_filter("vertical edges")
    rendered = []

    def update(row, col):
        step = compute.conv_layer.multiply_add(small, kernel, row, col)
        rendered.append(to_png(draw.conv_layer.multiply_add(small, step)))

    ui = ipywidgets.interactive(update, row=ipywidgets.IntSlider(0, 0, 29), col=ipywidgets.IntSlider(0, 0, 29))
    slider = ui.children[0]
    times = []
    for value in range(1, 13):
        start = time.perf_counter()
        slider.value = value          # the callback recomputes and redraws synchronously
        times.append((time.perf_counter() - start) * 1000)
    per_update = statistics.median(times)
    report.add("conventional interact", "recompute + redraw per update (kernel side only)", per_update, "ms",
               fmt="{:,.1f}")
    if book_step_ms:
        report.add("conventional interact", "book's precomputed step (browser)", book_step_ms, "ms", fmt="{:,.1f}")
        report.add("conventional interact", "ratio, interact / precomputed", per_update / book_step_ms, "×",
                   fmt="{:,.0f}")


def write(report: Report, mode: str, path: Path):
    """Write the results table as Markdown."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured by `benchmarks/run.py` ({mode} mode) on {datetime.date.today().isoformat()}, "
        f"on a machine with {os.cpu_count()} CPU cores ({platform.machine()}, Python {platform.python_version()}).",
        "Times depend on the machine; the budgets are for 2 cores.",
        "",
        "| section | measurement | value | unit | budget | |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    lines += [f"| {' | '.join(row)} |" for row in report.rows]
    lines.append("")
    over = "Over budget:\n\n" + "\n".join(f"- {f}" for f in report.failures)
    lines.append("All budgets met." if not report.failures else over)
    # The hand-kept record of what training costs (per run, per seed) follows the table
    # and survives a new measurement.
    kept = path.read_text().split(TRAINING_COSTS, 1) if path.is_file() else []
    if len(kept) == 2:
        lines += ["", TRAINING_COSTS + kept[1].rstrip("\n")]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    """Measure, print the table, write it in full mode; exit 1 when a budget is exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="only the budgets that are quick to check, on a built site")
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html", help="built site (quick mode)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where to write the table "
                             "(default: benchmarks/RESULTS.md in full mode, stdout only in quick mode)")
    args = parser.parse_args(argv)
    report = Report()
    if not args.quick:
        measure_builds(report)
        measure_chapters(report)
        args.site = ROOT / "_build" / "html"
    if not (args.site / "book" / "index.html").is_file():
        print(f"error: no built site at {args.site}; run bash scripts/build.sh first", file=sys.stderr)
        return 2
    measure_prose(report)
    measure_pages(report, args.site)
    steps = measure_browser(report, args.site, budgets=(BUDGETS | QUICK_GATES) if args.quick else BUDGETS)
    measure_interact(report, statistics.median(steps) if steps else None)
    output = args.output or (None if args.quick else ROOT / "benchmarks" / "RESULTS.md")
    if output:
        write(report, "quick" if args.quick else "full", output)
    for row in report.rows:
        print(" | ".join(row))
    if report.failures:
        print("\nOver budget:\n" + "\n".join(report.failures), file=sys.stderr)
        return 1
    print("\nAll budgets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
