"""Let Sphinx read (and so execute) several chapters at once.

Jupyter Book always loads two extensions that do not say whether they are
safe for parallel reading, so Sphinx falls back to reading one document at a
time: ``sphinx_multitoc_numbering`` only replaces how section numbers are
assigned after every document has been read, and
``sphinx_jupyterbook_latex`` acts only when the builder is LaTeX. Neither
touches reading, so both are marked safe here, and
``scripts/jupyter_book_build.py`` asks Sphinx for one reading process per core.
"""

#: Extensions Jupyter Book loads that are safe to read in parallel but do not say so.
UNDECLARED = ("sphinx_multitoc_numbering", "sphinx_jupyterbook_latex")


def setup(app):
    for name in UNDECLARED:
        app.setup_extension(name)
        app.extensions[name].parallel_read_safe = True
    return {"parallel_read_safe": True, "parallel_write_safe": True}
