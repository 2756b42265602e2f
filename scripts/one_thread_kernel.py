"""Install this environment's "python3" kernel with one thread for PyTorch and OpenMP.

The book's tensors are small; with the default thread pool (one thread per
core), a chapter's kernel competes with itself and with everything else on
the machine, and on a busy 2-core machine the same cells ran many times
slower. Builds already set OMP_NUM_THREADS=1 for their kernels; this gives
the kernels that JupyterLab and Binder start the same setting. Run with the
environment's own Python (scripts/setup.sh and binder/postBuild do).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: One thread for every library PyTorch and NumPy may use for parallel loops.
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}


def main() -> None:
    """Write the "python3" kernel spec, with one thread, into this environment's kernels folder."""
    folder = Path(sys.prefix) / "share" / "jupyter" / "kernels" / "python3"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": ONE_THREAD,
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


if __name__ == "__main__":
    main()
