"""Label the bibliography's entries the way the text cites them.

The text cites author and year, "Goodfellow et al. (2016)"; sphinxcontrib-bibtex's
default style labels the list of references with alphabetic keys, [GBC16], which a
reader cannot match to the citation. This registers a pybtex style, "author_year",
whose labels are "Goodfellow et al., 2016" (one author: "Lowe, 2004"; two: "Zeiler
and Fergus, 2014"), with "a", "b" after the year when two entries would share one.
_config.yml selects it with ``bibtex_default_style``.
"""

from __future__ import annotations

import string

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    """The family name as printed: von-part and last names, TeX braces and accents decoded."""
    return str(Text.from_latex(" ".join(person.prelast_names + person.last_names)))


def author_year(entry) -> str:
    """The label of ``entry``: its authors' (or editors') surnames as the text cites them, and its year."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        who = entry.fields.get("organization") or entry.fields.get("title", "Anonymous")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-and-year labels, told apart by a letter after the year when two coincide."""

    def format_labels(self, sorted_entries):
        """Yield one label per entry, in the order given."""
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        seen = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        used = {}
        for label in labels:
            if seen[label] == 1:
                yield label
            else:
                n = used.get(label, 0)
                used[label] = n + 1
                yield label + string.ascii_lowercase[n]


class AuthorYearStyle(AlphaStyle):
    """The alphabetic style's formatting with :class:`AuthorYearLabels` labels."""

    default_label_style = "author_year"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
