"""Claim ledgers load, refuse malformed entries, render a chapter's table, and name tests that exist."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT
from kexue import ledger, page

GOOD = """\
chapter: 99-demo
article: https://kexue.fm/archives/1
claims:
  - id: answer
    result: The answer
    article: "42"
    ours: answer
    status: reproduced
    reason: exact
    test: tests/test_ledger.py::test_demo_ledger_renders
  - id: far
    result: A hub-only number
    article: "0.9"
    ours: null
    status: out of reach
    reason: needs a hub model
    test: tests/test_ledger.py::test_demo_ledger_renders
    correction: true
"""


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A ledger folder holding one demo ledger, in place of the package's."""
    (tmp_path / "99-demo.yml").write_text(GOOD, encoding="utf-8")
    monkeypatch.setattr(ledger, "_folder", lambda: tmp_path)
    return tmp_path


def test_demo_ledger_renders(demo: Path) -> None:
    assert ledger.chapters() == ["99-demo"]
    frame = ledger.table("99-demo", {"answer": "42.0"})
    assert list(frame["in this notebook"]) == ["42.0", "—"]
    assert ledger.status_counts("99-demo") == {"reproduced": 1, "approximated": 0, "out of reach": 1}
    assert ledger.load("99-demo").claims[1].correction


@pytest.mark.parametrize("old, new, words", [
    ("status: reproduced", "status: done", "status must be one of"),
    ("    ours: answer\n", "    ours: null\n", "ours may be null only"),
    ("tests/test_ledger.py::test_demo_ledger_renders\n  - id: far",
     "somewhere\n  - id: far", "test must look like"),
    ("  - id: far", "  - id: answer", "repeats a claim id"),
    ("    reason: exact\n", "", "lacks reason"),
    ("chapter: 99-demo", "chapter: 98-other", "must start with"),
])
def test_malformed_ledgers_are_refused(demo: Path, old: str, new: str, words: str) -> None:
    (demo / "99-demo.yml").write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=words):
        ledger.load("99-demo")


def test_bad_arguments(demo: Path) -> None:
    with pytest.raises(TypeError, match="chapter"):
        ledger.load(6)
    with pytest.raises(ValueError, match="no ledger"):
        ledger.load("06-nothing")
    with pytest.raises(ValueError, match="values lacks"):
        ledger.table("99-demo", {})


def test_page_glue_and_source(monkeypatch: pytest.MonkeyPatch) -> None:
    assert page.glue("demo_pi", 3.14159, ".3g") is None
    assert page.glued()["demo_pi"] == "3.14"
    with pytest.raises(ValueError, match="name"):
        page.glue("", 1)
    with pytest.raises(TypeError, match="fmt"):
        page.glue("x", 1, 3)
    html = page.show_source(ledger.status_counts)._repr_html_()
    assert html.startswith("<details>") and "status_counts" in html
    with pytest.raises(TypeError, match="obj"):
        page.show_source(42)


@pytest.mark.parametrize("chapter", ledger.chapters())
def test_every_ledger_names_a_test_that_exists(chapter: str) -> None:
    for claim in ledger.load(chapter).claims:
        path, _, name = claim.test.partition("::")
        file = ROOT / path
        assert file.is_file(), f"{chapter} claim {claim.id}: {path} does not exist"
        defined = {n.name for n in ast.walk(ast.parse(file.read_text(encoding="utf-8")))
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        assert name.split("[")[0].split("::")[0] in defined, f"{chapter} claim {claim.id}: no {name} in {path}"


def test_course_page_renders_every_ledger(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from kexue_ledger import render

    book = tmp_path_factory.mktemp("book")
    (book / "99-demo.ipynb").write_text("{}", encoding="utf-8")
    (book / "99-demo.md").write_text("---\n---\n# A demo chapter\n", encoding="utf-8")
    text = render(book)
    assert "## A demo chapter" in text
    assert "{glue:text}`99-demo.ipynb::answer:s`" in text
    assert "out of reach (corrects the article)" in text
    assert "| **all chapters** | **1** | **0** | **1** |" in text
