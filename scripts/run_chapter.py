"""Execute chapters one at a time, without building the book, and keep what they glued.

For work on one chapter: the chapter's tests read its glued values through the
``executed`` fixture, and ``CW_EXECUTED`` points that fixture at this script's
output instead of a whole build::

    python scripts/run_chapter.py book/08_trained_networks.md --out _build/chapters
    CW_EXECUTED=_build/chapters python -m pytest tests/test_trained_networks.py -k chapter

Each chapter runs in a fresh kernel on one thread, as in the build. The executed
notebook (``<out>/book/<name>.ipynb``) and its glued values
(``<out>/book/<name>.glue.json``, in the form myst-nb writes) are saved; the
wall time and the kernel's CPU time are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def glued_outputs(notebook) -> dict:
    """Every output a ``myst_nb.glue`` call made, by name, as myst-nb records it.

    A value glued with ``display=False`` carries its MIME types behind the
    scrapbook prefix (``application/papermill.record/text/plain``); myst-nb
    strips that prefix when it writes ``<name>.glue.json``, and so does this.
    """
    found = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook", {})
            name = scrap.get("name")
            if name is None:
                continue
            prefix = scrap.get("mime_prefix", "")
            data = {(key[len(prefix):] if prefix and key.startswith(prefix) else key): value
                    for key, value in output.get("data", {}).items()}
            found[name] = {"data": data, "metadata": {"scrapbook": dict(scrap)}, "output_type": "display_data"}
    return found


def run(chapter: Path, out: Path) -> float:
    """Execute ``chapter`` and write its notebook and glued values under ``out``; return seconds."""
    notebook = jupytext.read(chapter)
    client = NotebookClient(notebook, timeout=1200, kernel_name="python3",
                            resources={"metadata": {"path": str(chapter.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    target = out / chapter.resolve().relative_to(ROOT).with_suffix("")
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target) + ".ipynb")
    Path(str(target) + ".glue.json").write_text(json.dumps(glued_outputs(notebook), indent=1))
    return seconds


def main(argv=None) -> int:
    """Run each chapter named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "chapters")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for chapter in args.chapters:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = run(chapter, args.out.resolve())
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
        # The kernel's CPU time beside the wall time: on a busy machine only the wall time grows much.
        print(f"{chapter}: {seconds:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
