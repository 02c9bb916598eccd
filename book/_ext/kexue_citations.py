"""Unambiguous author–year citations and reference lists without internal keys.

- Works by the same authors in the same year get a/b/... after the year ("Su, 2024a", "Su, 2024b"), in the text and
  in the reference list alike; the letters are fixed over the whole of book/references.bib (ordered by title), so a
  work has the same label in every chapter.
- A reference list labels each entry with the same author–year text ("[Su, 2024a]") instead of a key-like label
  ("[06-Su24]"): the bibliography style ``kexue`` (set as ``bibtex_default_style``), and chapters' ``:labelprefix:``
  (which keeps labels apart when they are keys) is not shown.
"""
from __future__ import annotations

import re
import string
from collections import defaultdict

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

YEAR = re.compile(r"^(\d{4})[a-z]?$")


def _authors(entry) -> tuple[str, ...]:  # pybtex Entry
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return tuple(" ".join(p.last_names) for p in people)


def _who(entry) -> str:  # pybtex Entry
    """The author part of a citation: "Su", "Su and Chen", "Vaswani et al."."""
    names = _authors(entry) or (entry.fields.get("title", "Anonymous")[:30],)
    return names[0] if len(names) == 1 else f"{names[0]} and {names[1]}" if len(names) == 2 else f"{names[0]} et al."


def suffix_years(entries: dict) -> None:
    """Append a, b, ... to the year of works that would print the same author part and year (idempotent)."""
    groups: dict[tuple, list] = defaultdict(list)
    for entry in entries.values():
        match = YEAR.match(entry.fields.get("year", ""))
        if match:
            groups[(_who(entry), match.group(1))].append(entry)
    for (_, year), group in groups.items():
        group.sort(key=lambda e: (e.fields.get("title", "").lower(), e.key))
        for letter, entry in zip(string.ascii_lowercase, group):
            entry.fields["year"] = year + letter if len(group) > 1 else year


def author_year_label(entry) -> str:  # pybtex Entry
    """"Su, 2024a", "Su and Chen, 2021", "Vaswani et al., 2017": as the in-text author_year citations print it."""
    return f"{_who(entry)}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Labels for a reference list that repeat the in-text citation."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield author_year_label(entry)


class KexueStyle(UnsrtStyle):
    """pybtex's unsrt entries, labelled author–year."""

    default_label_style = AuthorYearLabels


register_plugin("pybtex.style.labels", "kexue_author_year", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "kexue", KexueStyle)


def disambiguate(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Suffix the years in sphinxcontrib-bibtex's parsed bibliography before any citation is formatted."""
    domain = env.get_domain("cite")
    suffix_years(domain.bibdata.data.entries)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinxcontrib.bibtex")
    from sphinxcontrib.bibtex.directives import BibliographyDirective

    class Bibliography(BibliographyDirective):
        """A bibliography whose labels are shown as they are, without the chapter's label prefix."""

        def run(self):
            self.options.pop("labelprefix", None)
            return super().run()

    app.add_directive("bibliography", Bibliography, override=True)
    app.connect("env-before-read-docs", disambiguate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
