"""Unambiguous author–year citations and reference lists without internal keys.

- Works by the same authors in the same year get a/b/... after the year ("Su, 2024a", "Su, 2024b"), in the text and
  in the reference list alike; the letters are fixed over the whole of book/references.bib (ordered by title), so a
  work has the same label in every chapter.
- A chapter's reference list is a plain list of entries (no "[06-Su24]" labels); each in-text citation links to its
  entry.
"""
from __future__ import annotations

import re
import string
from collections import defaultdict

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

YEAR = re.compile(r"^(\d{4})[a-z]?$")


def _authors(entry) -> tuple[str, ...]:  # pybtex Entry
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return tuple(" ".join(p.last_names) for p in people)


def suffix_years(entries: dict) -> None:
    """Append a, b, ... to the year of works whose authors and year coincide (idempotent)."""
    groups: dict[tuple, list] = defaultdict(list)
    for entry in entries.values():
        match = YEAR.match(entry.fields.get("year", ""))
        if match:
            groups[(_authors(entry), match.group(1))].append(entry)
    for (_, year), group in groups.items():
        group.sort(key=lambda e: (e.fields.get("title", "").lower(), e.key))
        for letter, entry in zip(string.ascii_lowercase, group):
            entry.fields["year"] = year + letter if len(group) > 1 else year


def disambiguate(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Suffix the years in sphinxcontrib-bibtex's parsed bibliography before any citation is formatted."""
    domain = env.get_domain("cite")
    suffix_years(domain.bibdata.data.entries)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinxcontrib.bibtex")
    from sphinxcontrib.bibtex.directives import BibliographyDirective

    class Bibliography(BibliographyDirective):
        """A bibliography shown as a list of entries, not labelled with citation keys."""

        def run(self):
            self.options.setdefault("list", "bullet")
            return super().run()

    app.add_directive("bibliography", Bibliography, override=True)
    app.connect("env-before-read-docs", disambiguate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
