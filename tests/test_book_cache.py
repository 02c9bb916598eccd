"""The execution cache is kept per chapter: a chapter runs again exactly when something its outputs depend on changes
(its code, the kexue modules it imports, the files it reads, optional assets, dependency pins)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import kexue_cache  # noqa: E402

CONFIG = f"""\
title: cache test
only_build_toc_files: true
execute: {{execute_notebooks: cache, raise_on_error: true}}
sphinx:
  local_extensions: {{kexue_cache: {ROOT / 'book' / '_ext'}}}
"""
PYPROJECT = '[project]\nname = "kexue"\ndependencies = ["numpy==2.4.6"]\n'
# Each chapter prints a value from "its" module, and reports every execution by appending to runs.log.
CHAPTER = """\
import sys; sys.path.insert(0, "../src")
{imports}
open("../runs.log", "a").write("{name}\\n")
print("VALUE", {value})
"""


def notebook(code: str, metadata: dict | None = None) -> str:
    cell = {"cell_type": "code", "metadata": {}, "source": code, "outputs": [], "execution_count": None}
    return json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Page"}, cell],
                       "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                   "language": "python"}, **(metadata or {})},
                       "nbformat": 4, "nbformat_minor": 5})


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def book(tmp_path: Path) -> Path:
    """A book of three chapters: 01 imports kexue.alpha (which imports kexue.common), 02 imports kexue.beta,
    03 imports nothing of kexue and reads data/table.csv (declared in its metadata)."""
    write(tmp_path / "_config.yml", CONFIG)
    write(tmp_path / "_toc.yml", "format: jb-book\nroot: intro\nchapters:\n"
          "- file: book/01-a\n- file: book/02-b\n- file: book/03-c\n")
    write(tmp_path / "intro.md", "# Intro\n")
    write(tmp_path / "pyproject.toml", PYPROJECT)
    write(tmp_path / "src/kexue/__init__.py", "")
    write(tmp_path / "src/kexue/common.py", "BASE = 1\n")
    write(tmp_path / "src/kexue/alpha.py", "from .common import BASE\nVALUE = BASE + 1\n")
    write(tmp_path / "src/kexue/beta.py", "VALUE = 20\n")
    write(tmp_path / "data/table.csv", "x\n1\n")
    write(tmp_path / "book/01-a.ipynb", notebook(CHAPTER.format(
        imports="from kexue import alpha", name="01-a", value="alpha.VALUE")))
    write(tmp_path / "book/02-b.ipynb", notebook(CHAPTER.format(
        imports="import kexue.beta", name="02-b", value="kexue.beta.VALUE")))
    write(tmp_path / "book/03-c.ipynb", notebook(CHAPTER.format(
        imports="", name="03-c", value='open("../data/table.csv").read().split()[-1]'),
        {"kexue": {"reads": ["data/table.csv"]}}))
    return tmp_path


def build(book: Path) -> list[str]:
    """Build the book; the set of chapters executed by this build. (A chapter that fails to execute ahead of
    reading, as happened once on a loaded machine, is executed again when Sphinx reads it: slower, same outputs.)"""
    log = book / "runs.log"
    log.unlink(missing_ok=True)
    result = subprocess.run([BIN / "jupyter-book", "build", str(book), "-W", "-n"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return sorted(set(log.read_text().split())) if log.exists() else []


def page(book: Path, name: str) -> str:
    return (book / "_build" / "html" / "book" / f"{name}.html").read_text(encoding="utf-8")


def test_modules_are_followed_transitively(book: Path) -> None:
    code = "from kexue import alpha\nimport numpy\n%matplotlib inline\n"
    assert kexue_cache.modules_of(code, book / "src") == {"kexue", "kexue.alpha", "kexue.common"}
    assert kexue_cache.modules_of("import kexue.beta as b", book / "src") == {"kexue", "kexue.beta"}
    assert kexue_cache.modules_of("x = 1", book / "src") == set()


def test_exercise_checkers_of_the_chapters_topics_are_included(book: Path) -> None:
    write(book / "src/kexue/exercises/__init__.py", "import pkgutil\n")
    write(book / "src/kexue/exercises/alpha.py", "from ..alpha import VALUE\n")
    write(book / "src/kexue/exercises/beta.py", "from ..beta import VALUE\n")
    found = kexue_cache.modules_of("from kexue import alpha\nfrom kexue.exercises import check", book / "src")
    assert "kexue.exercises.alpha" in found and "kexue.exercises.beta" not in found


def test_declared_reads_must_exist(book: Path) -> None:
    path = book / "book/03-c.ipynb"
    nb = json.loads(path.read_text())
    nb["metadata"]["kexue"]["reads"] = ["data/missing.csv"]
    path.write_text(json.dumps(nb))
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        kexue_cache.chapter_key(path, book, book / "src", "")


def test_string_literals_naming_files_count_as_reads(book: Path) -> None:
    nb = json.loads((book / "book/03-c.ipynb").read_text())
    code = "".join(nb["cells"][1]["source"])
    reads = kexue_cache.files_read(book / "book/03-c.ipynb", {"metadata": {}}, code, book, book / "src")
    assert reads == {book / "data/table.csv"}


@pytest.mark.slow
def test_only_the_chapters_that_depend_on_a_change_run_again(book: Path) -> None:
    assert build(book) == ["01-a", "02-b", "03-c"]
    assert "VALUE 2" in page(book, "01-a") and "VALUE 20" in page(book, "02-b")
    assert build(book) == [], "nothing changed, yet chapters ran again"

    write(book / "src/kexue/beta.py", "VALUE = 21  # edited\n")
    assert build(book) == ["02-b"]
    assert "VALUE 21" in page(book, "02-b")

    write(book / "src/kexue/common.py", "BASE = 5\n")  # reached from chapter 01 through kexue.alpha only
    assert build(book) == ["01-a"]
    assert "VALUE 6" in page(book, "01-a")

    write(book / "data/table.csv", "x\n7\n")
    assert build(book) == ["03-c"]
    assert "VALUE 7" in page(book, "03-c")

    write(book / "pyproject.toml", PYPROJECT.replace("2.4.6", "2.4.7"))
    assert build(book) == ["01-a", "02-b", "03-c"]
