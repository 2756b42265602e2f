"""Let Sphinx read (and so execute) several chapters at once.

Jupyter Book always loads two extensions that do not say whether they are
safe for parallel reading, so Sphinx falls back to reading one document at a
time: ``sphinx_multitoc_numbering`` only replaces how section numbers are
assigned after every document has been read, and
``sphinx_jupyterbook_latex`` acts only when the builder is LaTeX. Neither
touches reading, so both are marked safe here, and
``scripts/jupyter_book_build.py`` asks Sphinx for one reading process per core.

The reading processes share myst-nb's execution cache, a SQLite database.
Left to them, two processes of a fresh build would both try to create its
tables and one would fail ("table settings already exists"), so the database
is created here, once, before the readers start.
"""

#: Extensions Jupyter Book loads that are safe to read in parallel but do not say so.
UNDECLARED = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def create_execution_cache(app):
    """Create the execution cache's database in the main process, before reading starts."""
    config = getattr(app.env, "mystnb_config", None)
    if config is None or config.execution_mode != "cache":
        return
    from jupyter_cache import get_cache

    get_cache(config.execution_cache_path).list_cache_records()


def setup(app):
    """Mark the undeclared extensions parallel-safe and create the cache before reading."""
    for name in UNDECLARED:
        app.setup_extension(name)
        app.extensions[name].parallel_read_safe = True
    # After myst-nb's own builder-inited handler (priority 500), which sets the cache path.
    app.connect("builder-inited", create_execution_cache, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
