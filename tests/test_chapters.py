"""Every chapter executes without error in a fresh kernel (in the book build), its key numbers are the expected
ones, and every exercise's reference solution passes its check."""
from __future__ import annotations

import math
import re
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import ROOT, chapters

pytestmark = pytest.mark.slow

# tests/chapters/<chapter>.yml: the numbers each chapter glues, with their expected values. A float is compared
# with a relative tolerance of 1e-9 unless the file gives {value: ..., rtol: ...}; anything else as text.
EXPECTED_DIR = ROOT / "tests" / "chapters"


def expected_numbers(name: str) -> dict[str, object]:
    """The expected glued values of chapter ``name``."""
    path = EXPECTED_DIR / f"{name}.yml"
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: list the chapter's key numbers there"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def matches(actual: str, expected: object) -> bool:
    """Whether a glued value (its plain-text form) equals the expectation."""
    if isinstance(expected, dict):
        return math.isclose(float(actual), expected["value"], rel_tol=expected.get("rtol", 1e-9),
                            abs_tol=expected.get("atol", 0.0))
    if isinstance(expected, float):
        return math.isclose(float(actual), expected, rel_tol=1e-9)
    return actual == str(expected)


def glued(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The plain-text value of every glued variable in an executed notebook."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook", {})
            if record:
                values[record["name"]] = out["data"][record.get("mime_prefix", "") + "text/plain"].strip("'\"")
    return values


def outputs_text(nb: nbformat.NotebookNode) -> str:
    """All text outputs of a notebook, joined."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture(scope="module", params=chapters(), ids=lambda c: Path(c).name)
def executed(request, site: Path) -> tuple[str, nbformat.NotebookNode]:
    """A chapter as the book build executed it (top to bottom in a fresh kernel, from the book folder, any error
    fatal), read from the build's execution cache; executing every chapter a second time here would add nothing."""
    from jupyter_cache import get_cache

    path = ROOT / f"{request.param}.ipynb"
    cache = get_cache(str(site.parent / ".jupyter_cache"))
    try:
        record = cache.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        pytest.fail(f"the book build left no executed outputs of {path.name}")
    return path.stem, cache.get_cache_bundle(record.pk).nb


def test_chapter_numbers(executed) -> None:
    name, nb = executed
    values = glued(nb)
    for key, expected in expected_numbers(name).items():
        assert key in values, f"{name} does not glue {key}"
        assert matches(values[key], expected), f"{name}: {key} = {values[key]}, expected {expected}"


def test_every_solution_passes_its_check(executed) -> None:
    name, nb = executed
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    ids = set(re.findall(r'check\("([\w-]+)"', source))
    text = outputs_text(nb)
    assert len(ids) >= 4, f"{name} has checks for only {sorted(ids)}"
    for exercise_id in ids:
        assert f"✓ Correct [{exercise_id}]" in text, f"{name}: the reference solution to {exercise_id} fails its check"
    assert "✗ Not yet" not in text


def test_every_registered_exercise_appears_in_a_chapter() -> None:
    from kexue import exercises  # registered() loads every checker module itself

    sources = "\n".join((ROOT / f"{c}.md").read_text(encoding="utf-8") for c in chapters())
    for exercise_id in exercises.registered():
        assert f'check("{exercise_id}"' in sources, f"{exercise_id} is registered but no chapter uses it"
