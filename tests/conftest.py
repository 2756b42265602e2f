"""Shared fixtures: one strict build of the whole book from clean, served on 127.0.0.1.

The build runs once per test session into a fresh temporary folder (or into
CW_BUILD_DIR, emptied first), so the execution cache is empty and every chapter
executes. To iterate on browser tests against a site you already built, set
CW_SITE=/path/to/_build/html (the build tests are then skipped).
"""

from __future__ import annotations

import matplotlib

# Headless figures for every test module: set before anything imports pyplot
# (pytest imports this file before it collects the test modules).
matplotlib.use("Agg")

import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# The book's Sphinx extensions (book/_ext) are tested as modules: importable by name.
if str(ROOT / "book" / "_ext") not in sys.path:
    sys.path.append(str(ROOT / "book" / "_ext"))


def toc_files() -> list[str]:
    """Every document in _toc.yml, root first, as paths without suffix (e.g. 'book/index')."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for entry in toc.get("chapters", []):
        files.append(entry["file"])
    return files


def chapter_files() -> list[str]:
    """The numbered chapters (book/NN_topic)."""
    return [f for f in toc_files() if Path(f).name[:2].isdigit()]


def glued(executed: Path, doc: str) -> dict:
    """The values chapter ``doc`` glued, as text (myst-nb writes them beside the executed notebook)."""
    outputs = json.loads((executed / f"{doc}.glue.json").read_text())
    return {name: out["data"]["text/plain"].strip("'\"") for name, out in outputs.items()}


@dataclass
class Build:
    html: Path            # the site folder
    executed: Path | None  # executed notebooks (jupyter_execute), None when reusing CW_SITE
    log: str
    returncode: int


#: Fixtures that need the whole book built (a test using one needs the ``build`` or ``browser`` marker).
BUILD_FIXTURES = {"book_build", "site", "site_url", "executed"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that asks for the built book is a build test, marked or not.

    So ``-m "not build and not browser"`` (the quick unit-test run) never
    starts a full build because a test forgot its marker.
    """
    for item in items:
        needs_build = BUILD_FIXTURES & set(getattr(item, "fixturenames", ()))
        if needs_build and not (item.get_closest_marker("build") or item.get_closest_marker("browser")):
            item.add_marker(pytest.mark.build)


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> Build:
    reuse = os.environ.get("CW_SITE")
    if reuse:
        return Build(Path(reuse), None, "", 0)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "vendor_assets.py")], check=True)
    # CW_BUILD_DIR keeps the build where later steps can use it (CI benchmarks the
    # site the tests built); it is emptied first, so the build is still from clean.
    keep = os.environ.get("CW_BUILD_DIR")
    if keep:
        out = Path(keep)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
    else:
        out = tmp_path_factory.mktemp("book")
    bindir = Path(sys.executable).parent
    # One thread per kernel, as scripts/build.sh does.
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
               OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "jupyter_book_build.py"), str(ROOT), "--path-output", str(out),
         "--warningiserror", "--nitpick", "--keep-going"],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    return Build(out / "_build" / "html", out / "_build" / "jupyter_execute",
                 proc.stdout + proc.stderr, proc.returncode)


@pytest.fixture(scope="session")
def executed(request) -> Path:
    """The folder of executed notebooks and their glued values; skips when CW_SITE reuses a site.

    ``CW_EXECUTED`` names a folder written by ``scripts/run_chapter.py`` instead,
    so one chapter's numbers can be tested without building the book.
    """
    chosen = os.environ.get("CW_EXECUTED")
    if chosen:
        return Path(chosen).resolve()
    book_build = request.getfixturevalue("book_build")
    if book_build.executed is None:
        pytest.skip("CW_SITE set: no executed notebooks")
    return book_build.executed


@pytest.fixture(scope="session")
def site(book_build) -> Path:
    if book_build.returncode != 0:
        pytest.fail("the book did not build; see test_build_is_strict_and_clean for the log", pytrace=False)
    return book_build.html


@pytest.fixture(scope="session")
def site_url(site):
    """Serve the built site on 127.0.0.1 (a random free port) for the session."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output readable
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# Debian's chromium, driven by Playwright (whose own browser download is never used).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


# A JavaScript expression, true once every widget view placeholder on the page has
# its rendered view beside it, in the page (an explorer is drawn out of sight and
# then takes its first frame's place: frontend/manager.js). Shared by the browser
# tests and the benchmark.
WIDGETS_DRAWN = """[...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
    .every(s => s.parentElement.querySelector('.jupyter-widgets'))
    && !document.querySelector('.widget-subarea.cw-drawing')"""

WIDGET_TIMEOUT_MS = 15_000


def step_key(handle) -> str:
    """The arrow key that moves a slider: right, unless it stands at its last value."""
    at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    return "ArrowLeft" if at_end else "ArrowRight"


class Visit:
    """A page opened with every request and error recorded; other hosts are blocked."""

    def __init__(self, browser, url, viewport=None):
        self.page = browser.new_page(viewport=viewport or {"width": 1280, "height": 1000})
        self.foreign, self.page_errors, self.failed, self.bad_status = [], [], [], []
        host = urlparse(url).netloc

        def route(r):
            if urlparse(r.request.url).netloc == host or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.foreign.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))
        self.page.on("response", lambda r: r.status >= 400 and self.bad_status.append(f"{r.status} {r.url}"))
        self.page.goto(url, wait_until="load")

    def unexpected_errors(self):
        """Every script error the page logged (book/_ext/page_scripts.py keeps the page free of them)."""
        return list(self.page_errors)

    def wait_for_widgets(self):
        """Wait until every widget view placeholder on the page has a rendered view."""
        self.page.wait_for_function(f"() => {WIDGETS_DRAWN}", timeout=WIDGET_TIMEOUT_MS)

    def close(self):
        self.page.close()


@contextlib.contextmanager
def jupyterlab_server(root: Path, state: Path, token: str, *, start_timeout: float = 90):
    """A real JupyterLab on 127.0.0.1 serving ``root``, its state kept in ``state``; yields its URL.

    Kernels run one thread (OMP_NUM_THREADS=1), and no extension listing is
    fetched from PyPI: the server talks to 127.0.0.1 only.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(state / "runtime"), JUPYTER_CONFIG_DIR=str(state / "config"),
               JUPYTERLAB_WORKSPACES_DIR=str(state / "workspaces"), JUPYTER_PLATFORM_DIRS="1", OMP_NUM_THREADS="1")
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
            "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:  # CI machines run as root
        args.append("--allow-root")
    url = f"http://127.0.0.1:{port}"
    with open(state / "server.log", "w") as log:
        server = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).close()
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"JupyterLab did not start:\n{(state / 'server.log').read_text()[-3000:]}")
                    time.sleep(0.5)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def two_cell_notebook(first: list[str], second: list[str]) -> dict:
    """A notebook (as JSON) of two code cells: one that shows a figure, one that prints what Python holds."""
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None}
    return {"cells": [dict(cell, source=first), dict(cell, source=second)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


@contextlib.contextmanager
def notebook_in_lab(browser, tmp_path_factory, name: str, notebook: dict):
    """A notebook served by a real JupyterLab, open in a page that refuses every other host.

    Yields a :class:`LabNotebook` whose ``foreign`` lists the refused requests.
    """
    root = tmp_path_factory.mktemp(f"{name}-lab")
    (root / f"{name}.ipynb").write_text(json.dumps(notebook))
    token = f"{name}-test-token"
    with jupyterlab_server(root, tmp_path_factory.mktemp(f"{name}-lab-state"), token) as url:
        lab = LabNotebook(browser, url, token, f"{name}.ipynb")
        try:
            yield lab
        finally:
            lab.page.close()


class LabNotebook:
    """One notebook open in JupyterLab, with its kernel idle and its code cells drawn."""

    def __init__(self, browser, url: str, token: str, path: str):
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.foreign = []

        def route(r):
            if r.request.url.startswith((url, "data:", "blob:")):
                r.continue_()
            else:
                self.foreign.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(f"{url}/lab/tree/{path}?token={token}")
        self.page.locator(".jp-NotebookPanel").wait_for(state="visible", timeout=60_000)
        self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for(timeout=60_000)
        self.cells = self.page.locator(".jp-Notebook .jp-CodeCell")
        self.cells.nth(1).wait_for(timeout=30_000)

    def run_first_cell(self, attempts: int = 6):
        """Run the first cell; a run sent before the kernel's connection is up is dropped, so retry until it starts."""
        prompt = self.cells.nth(0).locator(".jp-InputPrompt")
        for attempt in range(attempts):
            self.cells.nth(0).locator(".jp-InputArea-editor").click()
            self.page.keyboard.press("Shift+Enter")
            try:
                self.page.wait_for_function("e => /\\[(\\*|\\d+)\\]/.test(e.textContent)",
                                            arg=prompt.element_handle(), timeout=10_000)
                return
            except Exception:
                if attempt == attempts - 1:
                    raise

    def run_cell(self, index: int, expected: str):
        """Run one cell and wait until its output contains ``expected``."""
        cell = self.cells.nth(index)
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_function("([e, t]) => e.textContent.includes(t)",
                                    arg=[cell.element_handle(), expected], timeout=60_000)


def drawn_without_leak(fn, *args, **kwargs):
    """Call a drawing function; check it returns a Figure, leaves no pyplot figure open, and draws."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    before = plt.get_fignums()
    fig = fn(*args, **kwargs)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before
    fig.canvas.draw()
    return fig
