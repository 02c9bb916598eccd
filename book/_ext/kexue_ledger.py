"""Writes the course's claim ledger page from the chapters' ledgers (``kexue/ledgers/*.yml``).

The page ``book/ledger.md`` holds the line ``<!-- ledgers -->``; at build time it is replaced by one table per chapter,
whose "in this notebook" cells paste the value the chapter glued (``{glue:text}`NN-slug.ipynb::name```), so the page
shows what the chapters computed on this very build and fails the build if a ledger names a value nobody glued.
"""
from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from kexue import ledger

MARKER = "<!-- ledgers -->"
PAGE = "book/ledger"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _title(book: Path, chapter: str) -> str:
    for line in (book / f"{chapter}.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return chapter


def render(book: Path) -> str:
    """The ledger tables of every chapter that has one, as MyST Markdown."""
    chapters = [c for c in ledger.chapters() if (book / f"{c}.ipynb").exists()]
    counts = {c: ledger.status_counts(c) for c in chapters}
    fixes = {c: sum(claim.correction for claim in ledger.load(c).claims) for c in chapters}
    lines = ["| chapter | " + " | ".join(ledger.STATUSES) + " | claims | corrects the article |",
             "|---" * (len(ledger.STATUSES) + 3) + "|"]
    for c in chapters:
        lines.append(f"| {{doc}}`{c}` | " + " | ".join(str(counts[c][s]) for s in ledger.STATUSES)
                     + f" | {sum(counts[c].values())} | {fixes[c]} |")
    total = {s: sum(counts[c][s] for c in chapters) for s in ledger.STATUSES}
    lines.append("| **all chapters** | " + " | ".join(f"**{total[s]}**" for s in ledger.STATUSES)
                 + f" | **{sum(total.values())}** | **{sum(fixes.values())}** |")
    waiting = sorted(p.stem for p in book.glob("_teaching/[0-9][0-9]-*.yml") if p.stem not in chapters)
    if waiting:
        lines += ["", "Chapters without a ledger yet: " + ", ".join(waiting) + "."]
    lines += ["", "The places where a chapter corrects the article are gathered on {doc}`errata`."]
    for c in chapters:
        led = ledger.load(c)
        lines += ["", f"## {_title(book, c)}", "", f"Chapter {{doc}}`{c}`, after <{led.article}>.", "",
                  "| result | in the article | in this course | status | why | asserted by |", "|---" * 6 + "|"]
        for claim in led.claims:
            ours = "—" if claim.ours is None else f"{{glue:text}}`{c}.ipynb::{claim.ours}:s`"
            mark = " (corrects the article)" if claim.correction else ""
            lines.append(f"| {_cell(claim.result)} | {_cell(claim.article)} | {ours} | {claim.status}{mark} | "
                         f"{_cell(claim.reason)} | `{claim.test}` |")
    return "\n".join(lines)


def fill_ledger_page(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace the marker on the ledger page by the rendered tables."""
    if docname == PAGE and MARKER in source[0]:
        source[0] = source[0].replace(MARKER, render(Path(app.srcdir) / "book"))


def setup(app: Sphinx) -> dict:
    app.connect("source-read", fill_ledger_page)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
