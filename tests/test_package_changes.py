"""book/_ext/package_changes.py: a change to the widgets package empties the
execution cache and marks every chapter to be read (and executed) again.
"""

from __future__ import annotations

from types import SimpleNamespace

import package_changes
from jupyter_cache import get_cache


def fake_app(cache_path):
    config = SimpleNamespace(execution_mode="cache", execution_cache_path=str(cache_path))
    return SimpleNamespace(env=SimpleNamespace(mystnb_config=config))


def test_the_digest_covers_the_package_and_its_browser_modules():
    digest = package_changes.package_digest()
    assert len(digest) == 64 and digest == package_changes.package_digest()


def test_a_package_change_empties_the_cache_and_outdates_every_chapter(tmp_path, monkeypatch):
    cache_path = tmp_path / "cache"
    app = fake_app(cache_path)
    monkeypatch.setattr(package_changes, "package_digest", lambda: "a" * 64)
    package_changes.check_package(app)           # no stamp yet: a first build
    assert app.env.cw_package_changed
    record = get_cache(str(cache_path))
    notebook = tmp_path / "chapter.ipynb"
    notebook.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    record.cache_notebook_file(str(notebook), check_validity=False)
    assert len(record.list_cache_records()) == 1

    package_changes.check_package(app)           # same package: the cache stays
    assert not app.env.cw_package_changed
    assert len(get_cache(str(cache_path)).list_cache_records()) == 1
    env = SimpleNamespace(found_docs={"book/a", "book/b", "book/new"}, cw_package_changed=False)
    assert package_changes.all_notebooks_outdated(app, env, {"book/new"}, set(), set()) == []

    monkeypatch.setattr(package_changes, "package_digest", lambda: "b" * 64)
    package_changes.check_package(app)           # the package changed: an empty cache
    assert app.env.cw_package_changed
    assert get_cache(str(cache_path)).list_cache_records() == []
    assert (cache_path / package_changes.STAMP).read_text().strip() == "b" * 64
    env.cw_package_changed = True
    assert sorted(package_changes.all_notebooks_outdated(app, env, {"book/new"}, set(), set())) == ["book/a", "book/b"]
