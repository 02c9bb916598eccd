"""The repository agrees with itself: table of contents, notebook pairs, pinned environments, chapter map."""
from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml

from conftest import ROOT, chapters, toc_files

BOOK = ROOT / "book"
# Needed by the browser tests only, which do not run on Binder.
NOT_ON_BINDER = {"playwright"}


def chapter_files(suffix: str) -> set[str]:
    return {f"book/{p.stem}" for p in BOOK.glob(f"[0-9][0-9]-*{suffix}")}


def test_toc_lists_every_page_and_every_page_exists() -> None:
    listed = set(toc_files())
    pages = {f"book/{p.stem}" for p in BOOK.glob("*.md") if not p.stem[:2].isdigit()} | chapter_files(".ipynb")
    assert pages == listed, f"not in _toc.yml: {pages - listed}; missing files: {listed - pages}"


def test_every_chapter_has_its_myst_twin_in_sync() -> None:
    assert chapter_files(".ipynb") == chapter_files(".md")
    for chapter in chapters():
        nb = jupytext.read(ROOT / f"{chapter}.ipynb")
        md = jupytext.read(ROOT / f"{chapter}.md")
        pair = [[(c.cell_type, c.source.strip()) for c in n.cells] for n in (nb, md)]
        assert pair[0] == pair[1], f"{chapter}.ipynb and .md differ: run `jupytext --sync {chapter}.md`"


@pytest.mark.parametrize("chapter", chapters())
def test_no_outputs_are_committed(chapter: str) -> None:
    nb = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, f"{chapter}: strip the outputs"
    assert "widgets" not in nb["metadata"], f"{chapter}: saved widget state in the source"


def pins_in_pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [s for extra in project["optional-dependencies"].values() for s in extra]
    pins = {}
    for spec in specs:
        name, _, version = spec.partition("==")
        assert version, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[name.lower()] = version
    return pins


def pins_in_environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pins = {}
    for dep in env["dependencies"]:
        specs = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in specs:
            name, version = re.split(r"==|=", spec)[:2] if "=" in spec else (spec, "")
            pins[{"pytorch": "torch"}.get(name.lower(), name.lower())] = version
    return pins


def test_environment_yml_agrees_with_pyproject() -> None:
    pyproject, environment = pins_in_pyproject(), pins_in_environment()
    assert environment.pop("python") == "3.11"
    environment.pop("pip")
    missing = set(pyproject) - set(environment) - NOT_ON_BINDER
    assert not missing, f"environment.yml lacks {missing}"
    for name, version in environment.items():
        assert name in pyproject, f"environment.yml has {name}, pyproject.toml does not"
        # conda's '2.13.*' admits pip's '2.13.0'
        assert re.fullmatch(version.replace(".", r"\.").replace("*", ".*"), pyproject[name]), (
            f"{name}: environment.yml {version} vs pyproject.toml {pyproject[name]}"
        )


def test_torch_is_pinned_to_the_local_cpu_build() -> None:
    assert pins_in_pyproject()["torch"] == "2.13.0"


def test_intro_chapter_map_links_every_chapter() -> None:
    intro = (BOOK / "intro.md").read_text(encoding="utf-8")
    for chapter in chapters():
        assert "{doc}`" + Path(chapter).name + "`" in intro, f"book/intro.md does not link {chapter}"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and re.search(r"^make test$", ci, re.M)


CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


@pytest.mark.parametrize("chapter", chapters())
def test_citations_are_prefixed_and_in_the_bibliography(chapter: str) -> None:
    """Each chapter lists its own references: its {cite} keys carry the chapter's prefix ("03-su2022cross"), which
    its bibliography strips; without the prefix, a work cited by two chapters would be a duplicate citation."""
    text = (ROOT / f"{chapter}.md").read_text(encoding="utf-8")
    prefix = Path(chapter).name[:3]
    bib = set(re.findall(r"@\w+\{([^,]+),", (BOOK / "references.bib").read_text(encoding="utf-8")))
    keys = [k.strip() for group in CITE.findall(text) for k in group.split(",")]
    assert keys, f"{chapter} cites nothing"
    for key in keys:
        assert key.startswith(prefix), f"{chapter}: cite {key!r} as {prefix}{key}"
        assert key[len(prefix):] in bib, f"{chapter}: {key[len(prefix):]} is not in book/references.bib"
    assert f":keyprefix: {prefix}\n" in text and f":labelprefix: {prefix}\n" in text


def solution_code_cells(cells: list[dict]) -> list[dict]:
    """The code cells that sit between a ``{solution-start}`` and its ``{solution-end}`` markdown cell."""
    inside, found = False, []
    for cell in cells:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            if "{solution-start}" in source:
                inside = True
            if "{solution-end}" in source:
                inside = False
        elif inside and cell["cell_type"] == "code":
            found.append(cell)
    return found


@pytest.mark.parametrize("chapter", chapters())
def test_solution_cells_are_tagged_and_collapsed(chapter: str) -> None:
    """Solution code is tagged (a student edition strips it, the site hides it) and collapsed in JupyterLab."""
    nb = json.loads((ROOT / f"{chapter}.ipynb").read_text(encoding="utf-8"))
    cells = solution_code_cells(nb["cells"])
    assert cells, f"{chapter}: no code cell inside a solution"
    for cell in cells:
        first = "".join(cell["source"]).splitlines()[0] if cell["source"] else ""
        tags = set(cell["metadata"].get("tags", []))
        assert {"solution", "hide-input"} <= tags, f"{chapter}: solution cell {first!r} lacks the tags"
        assert cell["metadata"].get("jupyter", {}).get("source_hidden") is True, (
            f"{chapter}: solution cell {first!r} lacks jupyter.source_hidden")
