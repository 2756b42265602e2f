"""``jupyter-book build`` with Sphinx reading (and so executing) two chapters at a time.

Jupyter Book 1's command line always asks Sphinx for one process. Every
chapter executes while Sphinx reads it, so on a machine with two cores the
book builds in about half the time when two documents are read at once.

Sphinx hands each process a fixed batch of documents (half of them each, in
name order), so the process that draws the chapters that train does most of
the work while the other waits. Here each document is a task of its own, and
the chapters that take longest start first: a process that finishes takes the
next document, and the two stay busy to the end.

Usage: the same arguments as ``jupyter-book build``; CW_BUILD_JOBS sets the
number of processes (default: the number of CPU cores, at most 4).
"""

from __future__ import annotations

import os
import sys

import jupyter_book.sphinx
import sphinx.builders
from jupyter_book.cli.main import main

# The chapters that take longest to execute, longest first (one-core wall times in
# benchmarks/RESULTS.md). Only the order of reading depends on it: a stale list
# makes the build slower, never wrong.
SLOWEST_FIRST = (
    "book/08_trained_networks",
    "book/09_controls",
    "book/10_position",
    "book/04_receptive_fields",
    "book/11_feature_hierarchy",
    "book/12_sequences",
    "book/03_parameter_sharing",
    "book/06_pooling",
)


def _jobs() -> int:
    value = os.environ.get("CW_BUILD_JOBS")
    if value is None:
        return max(1, min(4, len(os.sched_getaffinity(0))))
    if not value.isdigit() or int(value) < 1:
        sys.exit(f"CW_BUILD_JOBS must be a positive integer, got {value!r}")
    return int(value)


def one_document_a_task(docnames, nproc, maxbatch=10):
    """Sphinx's batches for parallel reading: one document each, slowest first."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    ordered = sorted(docnames, key=lambda name: rank.get(name, len(rank)))
    return [[name] for name in ordered]


_build_sphinx = jupyter_book.sphinx.build_sphinx


def _parallel_build(*args, **kwargs):
    kwargs["jobs"] = _jobs()
    return _build_sphinx(*args, **kwargs)


if __name__ == "__main__":
    jupyter_book.sphinx.build_sphinx = _parallel_build
    # Used for reading (which executes the chapters) and for writing alike.
    sphinx.builders.make_chunks = one_document_a_task
    sys.argv[0] = "jupyter-book"
    main(["build", *sys.argv[1:]])
