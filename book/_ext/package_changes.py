"""Re-execute every chapter when the ``widgets`` package changes.

myst-nb's execution cache knows a chapter by its code cells only. The chapters
import the shared ``widgets`` package, and a live figure's JavaScript is copied
into the chapter's saved outputs, so a change to a compute function or to a
figure's ``.js`` alone would leave a local rebuild showing numbers and code
from before the change. This extension keeps a digest of the package's source
files (``.py``, ``.js``, ``.css``) beside the execution cache; when it differs,
the cache is emptied and every chapter is read (and so executed) again. Builds
from an empty folder, as the tests and CI run them, are not affected.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The file beside the execution cache's database that holds the package's digest.
STAMP = "widgets-package.sha256"
SUFFIXES = (".py", ".js", ".css")


def package_digest() -> str:
    """SHA-256 over the relative paths and bytes of the ``widgets`` package's source files."""
    import widgets

    root = Path(widgets.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def check_package(app):
    """Empty the execution cache when the package's digest differs from the one stored beside it."""
    config = getattr(app.env, "mystnb_config", None)
    app.env.cw_package_changed = False
    if config is None or config.execution_mode != "cache":
        return
    from jupyter_cache import get_cache

    cache = get_cache(config.execution_cache_path)
    stamp = Path(config.execution_cache_path) / STAMP
    digest = package_digest()
    if stamp.is_file() and stamp.read_text().strip() == digest:
        return
    if cache.list_cache_records():
        cache.clear_cache()
    cache.list_cache_records()  # the database again, before the reading processes start
    app.env.cw_package_changed = True
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest + "\n")


def all_notebooks_outdated(app, env, added, changed, removed):
    """Every chapter, when the package changed: Sphinx reads it again and myst-nb executes it."""
    if not getattr(env, "cw_package_changed", False):
        return []
    return [name for name in env.found_docs if name not in added and name not in removed]


def setup(app):
    """Check the package before reading starts (after myst-nb has set the cache path)."""
    app.connect("builder-inited", check_package, priority=950)
    app.connect("env-get-outdated", all_notebooks_outdated)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
