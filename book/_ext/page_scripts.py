"""Give each page every script once.

sphinx-thebe registers its inline configuration script (``const THEBE_JS_URL =
...``) each time Sphinx reads documents, which Jupyter Book makes happen twice,
so every page declared the same constants twice and the browser logged a
SyntaxError ("Identifier 'THEBE_JS_URL' has already been declared"). This keeps
the first of any scripts that are identical in file, body and attributes.
"""

from __future__ import annotations


def _key(script) -> tuple:
    # An inline script's file name is None in one registration and "" in the other.
    attributes = getattr(script, "attributes", None) or {}
    return (getattr(script, "filename", str(script)) or "", tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            kept.append(script)
    # In place: the list is the builder's own, which later handlers may still extend.
    scripts[:] = kept


def setup(app):
    # Late, after every other handler has added its page scripts.
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
