"""``jupyter-book build`` with Sphinx reading (and so executing) two chapters at a time.

Jupyter Book 1's command line always asks Sphinx for one process. Every
chapter executes while Sphinx reads it, so on a machine with two cores the
book builds in about half the time when two documents are read at once.
Usage: the same arguments as ``jupyter-book build``; CW_BUILD_JOBS sets the
number of processes (default: the number of CPU cores, at most 4).
"""

from __future__ import annotations

import os
import sys

import jupyter_book.sphinx
from jupyter_book.cli.main import main


def _jobs() -> int:
    value = os.environ.get("CW_BUILD_JOBS")
    if value is None:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"CW_BUILD_JOBS must be a positive integer, got {value!r}")
    return int(value)


_build_sphinx = jupyter_book.sphinx.build_sphinx


def _parallel_build(*args, **kwargs):
    kwargs["jobs"] = _jobs()
    return _build_sphinx(*args, **kwargs)


if __name__ == "__main__":
    jupyter_book.sphinx.build_sphinx = _parallel_build
    sys.argv[0] = "jupyter-book"
    main(["build", *sys.argv[1:]])
