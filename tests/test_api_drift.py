"""Every ``kexue`` name a chapter uses exists: ``from kexue.x import y``, ``import kexue.x as m`` then ``m.y``.

Static and fast (no kexue module is imported): the chapters' code cells are parsed with ``ast``, and each module's
top-level names are read from its source. A renamed or removed helper fails here in well under a second, long
before the chapter is executed.
"""
from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "kexue"
CHAPTERS = sorted(p for p in (ROOT / "book").glob("[0-9][0-9]-*.md"))
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def code_cells(path: Path) -> list[str]:
    """The code of a MyST chapter's code cells (jupytext's format), without cell options and IPython magics."""
    cells = []
    for body in CELL.findall(path.read_text(encoding="utf-8")):
        lines = body.splitlines()
        if lines and lines[0].strip() == "---":  # a YAML options block
            end = lines.index("---", 1) if "---" in lines[1:] else 0
            lines = lines[end + 1:]
        cells.append("\n".join(line for line in lines if not line.lstrip().startswith(("%", "!", ":"))))
    return cells


def module_path(module: str) -> Path | None:
    """The source file of ``kexue.<...>`` (a module or a package's __init__), or None."""
    rel = module.split(".")[1:]
    base = PACKAGE.joinpath(*rel) if rel else PACKAGE
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def top_level_names(module: str) -> frozenset[str] | None:
    """Names a module defines at top level (functions, classes, assignments, imports, submodules); None if unknown."""
    path = module_path(module)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node in tree.body:
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.add(leaf.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.If, ast.Try)) and node in tree.body:
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.ClassDef)):
                    names.add(sub.name)
                elif isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    if "__getattr__" in names:
        return None  # the module answers any name: nothing to check
    if path.name == "__init__.py":
        names.update(p.stem for p in path.parent.glob("*.py"))
        names.update(p.name for p in path.parent.iterdir() if (p / "__init__.py").is_file())
    return frozenset(names)


def uses(code: str) -> list[tuple[str, str, int]]:
    """(module, attribute, line) for every kexue attribute the code uses."""
    tree = ast.parse(code)
    aliases: dict[str, str] = {}  # local name -> kexue module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "kexue":
                    if a.asname:
                        aliases[a.asname] = a.name
                    else:
                        aliases["kexue"] = "kexue"
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "kexue":
            for a in node.names:
                found.append((node.module, a.name, node.lineno))
                if module_path(f"{node.module}.{a.name}") is not None:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            found.append((aliases[node.value.id], node.attr, node.lineno))
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_uses_only_existing_kexue_names(chapter: Path) -> None:
    missing = []
    for index, code in enumerate(code_cells(chapter)):
        try:
            used = uses(code)
        except SyntaxError as err:
            missing.append(f"cell {index + 1}: does not parse ({err.msg}, line {err.lineno})")
            continue
        for module, attribute, line in used:
            names = top_level_names(module)
            if module_path(module) is None:
                missing.append(f"cell {index + 1}, line {line}: no module {module}")
            elif names is not None and attribute not in names:
                missing.append(f"cell {index + 1}, line {line}: {module}.{attribute} does not exist")
    assert not missing, f"{chapter.name} uses kexue names that do not exist:\n" + "\n".join(missing)


def test_the_check_sees_drift() -> None:
    code = "from kexue import hippo\nimport kexue.hippo as h\nhippo.legs_matrices(3)\nh.no_such_helper()\n"
    used = uses(code)
    assert ("kexue.hippo", "legs_matrices", 3) in used and ("kexue.hippo", "no_such_helper", 4) in used
    names = top_level_names("kexue.hippo")
    assert "legs_matrices" in names and "no_such_helper" not in names
