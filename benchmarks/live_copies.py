"""What the live figures' first frames cost a page load, as paired differences.

    python benchmarks/live_copies.py [--site _build/html] [--pairs 15]

Each page with a live figure carries a copy of it, as drawn, in its HTML
(book/_ext/live_first_frames.py). This script serves the built site and a
second version of it with the copies taken out, and loads each such page from
both, one after the other, ``--pairs`` times (which comes first alternates),
each load in a fresh browser page as :func:`run.measure_browser` does. For
every pair it takes the difference, with copies minus without, of the
navigation time (first byte to the last widget drawn), of the first contentful
paint and of the time the first screenful's figures show; it prints each
page's medians and the mean difference with its 95 % interval. Pairing cancels
what drifts over a run (a slower minute slows both loads of a pair), so the
interval, not two medians, says whether the copies cost anything.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib.util
import re
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path

from widgets.compute import stats

ROOT = Path(__file__).resolve().parent.parent
COPY_START = '<div class="cw-first-frame cw-live-first" inert>'
STYLE = re.compile(r'<style class="cw-live-first-style">.*?</style>', re.S)


def _run_module():
    spec = importlib.util.spec_from_file_location("_book_benchmark_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def without_copies(html: str) -> tuple[str, int]:
    """``html`` with every live figure's copy (and the copies' stylesheet) taken out, and how many went."""
    out, count, at = [], 0, 0
    tag = re.compile(r"<div\b|</div>")
    while (start := html.find(COPY_START, at)) >= 0:
        out.append(html[at:start])
        depth, pos = 0, start
        for m in tag.finditer(html, start):
            depth += 1 if m.group() != "</div>" else -1
            if depth == 0:
                pos = m.end()
                break
        else:
            raise ValueError(f"html has a copy opened at {start} and never closed")
        at, count = pos, count + 1
    out.append(html[at:])
    return STYLE.sub("", "".join(out)), count


def _serve(root: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def main(argv=None) -> int:
    """Measure (see the module's text) and print the table; 0 when done."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--pairs", type=int, default=15)
    args = parser.parse_args(argv)
    if args.pairs < 2:
        raise ValueError(f"pairs must be at least 2 for an interval, got {args.pairs}")
    run = _run_module()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "html"
        shutil.copytree(args.site, bare)
        pages = []
        for path in sorted(bare.rglob("*.html")):
            html, n = without_copies(path.read_text(encoding="utf-8"))
            if n:
                path.write_text(html, encoding="utf-8")
                pages.append(path.relative_to(bare).as_posix())
        if not pages:
            raise ValueError(f"site {args.site} has no page with a live figure's copy")
        servers = [_serve(args.site), _serve(bare)]
        results = {p: {"with": [], "without": []} for p in pages}
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=run.CHROMIUM, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
                for _, url in servers:
                    warm = browser.new_page()
                    warm.goto(f"{url}/index.html")
                    warm.close()
                for i in range(args.pairs):
                    for doc in pages:
                        order = [("with", servers[0][1]), ("without", servers[1][1])]
                        for name, url in order if i % 2 == 0 else order[::-1]:
                            page = browser.new_page(viewport={"width": 1280, "height": 1000})
                            page.add_init_script(run.FIRST_PAINT)
                            page.goto(f"{url}/{doc}", wait_until="commit")
                            page.wait_for_function(
                                f"() => document.readyState !== 'loading' && {run.WIDGETS_DRAWN}", timeout=30_000)
                            page.wait_for_timeout(300)
                            results[doc][name].append(page.evaluate("window.__firstPaint.report()"))
                            page.close()
                browser.close()
        finally:
            for server, _ in servers:
                server.shutdown()
                server.server_close()

    print(f"{args.pairs} pairs per page, {args.site}")
    print("| page | measure | median without | median with | with − without (95 % CI) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for doc, r in results.items():
        for key, label in (("everyWidget", "navigation"), ("fcp", "first contentful paint"),
                           ("figures", "first screenful's figures")):
            a = [x[key] for x in r["with"]]
            b = [x[key] for x in r["without"]]
            d = stats.paired(a, b, margin=1.0).difference
            print(f"| {Path(doc).stem} | {label} | {statistics.median(b):,.0f} ms | {statistics.median(a):,.0f} ms "
                  f"| {d.mean:+,.0f} ms ({d.low:+,.0f} to {d.high:+,.0f}) |")
        shifts = [x["shift"] for x in r["with"] + r["without"]]
        print(f"| {Path(doc).stem} | largest layout shift | | | {max(shifts):.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
