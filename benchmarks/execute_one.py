"""Execute one chapter in a fresh kernel and print its wall time, the kernel's CPU time and peak memory (JSON).

Used by benchmarks/run.py, which pins this process (and so the kernel it starts)
to one CPU core with taskset. Usage: python benchmarks/execute_one.py book/01_conv_layer.md
"""

import json
import resource
import sys
import time
from pathlib import Path

import jupytext
from nbclient import NotebookClient


def main(path: str) -> None:
    """Execute the chapter at ``path`` and print its time and the kernel's peak memory as JSON."""
    chapter = Path(path).resolve()
    notebook = jupytext.read(chapter)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(chapter.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    # The kernel is a child of this process: once it has exited, its peak resident
    # memory is in this process's RUSAGE_CHILDREN (Linux reports kilobytes).
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Its CPU time too: on a busy machine the wall time grows, the CPU time much less.
    print(json.dumps({"chapter": path, "seconds": seconds, "peak_mb": children.ru_maxrss / 1024,
                      "cpu_seconds": children.ru_utime + children.ru_stime}))


if __name__ == "__main__":
    main(sys.argv[1])
