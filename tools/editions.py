"""Student and instructor editions of every chapter, from the same sources, with nbgrader metadata.

    python tools/editions.py student OUT      # `make student`: solutions removed, every check kept
    python tools/editions.py instructor OUT   # `make instructor`: solutions kept, instructor notes added

Each edition is a folder ``OUT/book/NN-slug.ipynb`` (one per chapter that exists), beside copies of the data files
the chapters read by relative path (``OUT/benchmarks/...``), so a notebook runs from there as it does in the
repository. An exercise becomes, in both editions:

1. the exercise's statement, a read-only cell;
2. where the solution has prose, a written-answer cell (the instructor edition holds the solution's text, the student
   edition a blank to fill; graded by hand, 0 points until the teacher sets some);
3. an answer cell that binds ``answer``: the instructor edition holds the reference solution between nbgrader's
   ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines, the student edition ``answer = None``;
4. a locked cell that runs the exercise's check on ``answer`` and fails until it passes, worth one point per ★.

That is nbgrader's own layout (metadata schema version 3), so the instructor edition is an nbgrader *source* notebook
(``OUT/nbgrader/source/NN-slug/NN-slug.ipynb`` holds it without the instructor notes, ready for
``nbgrader generate_assignment``), and the student edition is what nbgrader would release. The chapter sources are not
changed: everything here is added on export.
"""
from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import kexue_course as course  # noqa: E402

DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{(exercise|solution-start|solution-end)\}[ \t]*(.*)$")
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUDENT_ANSWER = "answer = None  # replace None by your answer"
STUDENT_WRITTEN = "*Your answer: the reasoning, in words and formulas, where the exercise asks for it.*"
SCHEMA_VERSION = 3
NOTE_TAG = "instructor-note"


@dataclass
class Exercise:
    """An exercise statement in a notebook."""

    label: str
    title: str
    body: str


@dataclass
class Solution:
    """A solution block: its label, its prose and its code cells."""

    label: str
    prose: list[str] = field(default_factory=list)
    code: list[dict] = field(default_factory=list)


def _tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def _closing(lines: list[str], start: int, fence: str, chapter: str) -> int:
    """The index of the line that closes the directive opened at ``start``."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip() == fence:
            return j
    raise ValueError(f"{chapter}: the directive {lines[start]!r} is not closed in its cell")


def parse(nb: dict, chapter: str = "notebook") -> list[object]:
    """The notebook as a list of Markdown texts, code cells, Exercises and Solutions, in order."""
    items: list[object] = []
    solution: Solution | None = None
    buffer: list[str] = []

    def flush() -> None:
        text = "\n".join(buffer).strip("\n")
        if text.strip():
            (solution.prose if solution else items).append(text)
        buffer.clear()

    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            flush()
            if solution is not None:
                solution.code.append(cell)
            elif "solution" in _tags(cell):
                raise ValueError(f"{chapter}: a cell tagged 'solution' sits outside a solution block")
            else:
                items.append(cell)
            continue
        lines = course.source(cell).split("\n")
        i = 0
        while i < len(lines):
            match = DIRECTIVE.match(lines[i])
            if not match:
                buffer.append(lines[i])
                i += 1
                continue
            flush()
            end = _closing(lines, i, match[1], chapter)
            if match[2] == "exercise":
                label, title, body = course.parse_exercise(lines[i:end + 1])
                items.append(Exercise(label, title, "\n".join(body).strip("\n")))
            elif match[2] == "solution-start":
                solution = Solution(match[3].strip())
                items.append(solution)
            else:
                solution = None
            i = end + 1
        flush()
    if solution is not None:
        raise ValueError(f"{chapter}: a solution block is never closed")
    return items


def answer_code(code: str, chapter: str, label: str) -> tuple[str, str]:
    """The check id of a solution and its code with the final ``check(id, X)`` replaced by ``answer = X``."""
    tree = ast.parse(code)
    last = tree.body[-1] if tree.body else None
    call = last.value if isinstance(last, ast.Expr) else None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check"
            and len(call.args) == 2 and isinstance(call.args[0], ast.Constant)):
        raise ValueError(f"{chapter}: the solution of {label} must end with check(\"<id>\", answer)")
    value = ast.get_source_segment(code, call.args[1])
    bound = f"answer = {value}" if "\n" not in value else f"answer = (\n{value}\n)"
    lines = code.split("\n")
    return str(call.args[0].value), "\n".join(lines[:last.lineno - 1] + [bound])


def nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
             points: int | None = None) -> dict:
    """An nbgrader cell-metadata block (schema version 3)."""
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": SCHEMA_VERSION,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points or 0
    return meta


def _markdown(text: str, **metadata: object) -> dict:
    return {"cell_type": "markdown", "metadata": dict(metadata), "source": text}


def _code(text: str, **metadata: object) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": dict(metadata), "outputs": [], "source": text}


def check_cell(check_id: str) -> str:
    """The source of the locked cell that checks ``answer``."""
    return (f"from kexue.exercises import check\n\nfeedback = check(\"{check_id}\", answer)\nprint(feedback)\n"
            "assert feedback.passed, \"not passed yet: see the message above\"")


def _exercise_cells(ex: Exercise, sol: Solution | None, kind: str, chapter: str) -> list[dict]:
    stars = ex.title.count(course.STAR)
    heading = f"**Exercise {ex.title}** (`{ex.label}`)"
    cells = [_markdown(f"{heading}\n\n{ex.body}", nbgrader=nbgrader(ex.label, locked=True))]
    if sol is None:
        return cells
    if sol.prose:
        text = "**Solution.**\n\n" + "\n\n".join(sol.prose) if kind == "instructor" else STUDENT_WRITTEN
        cells.append(_markdown(text, nbgrader=nbgrader(f"{ex.label}-written", grade=True, solution=True,
                                                       points=0)))
    if sol.code:
        codes = [course.source(c) for c in sol.code]
        check_id, last = answer_code(codes[-1], chapter, ex.label)
        comment = (f"# Exercise {ex.label}: set `answer` to what you would pass to check(\"{check_id}\", ...); "
                   "the next cell checks it.")
        body = "\n\n".join([*codes[:-1], last]) if kind == "instructor" else STUDENT_ANSWER
        text = f"{comment}\n{BEGIN}\n{body}\n{END}" if kind == "instructor" else f"{comment}\n{body}"
        cells.append(_code(text, tags=["solution"] if kind == "instructor" else ["answer"],
                           nbgrader=nbgrader(f"{ex.label}-answer", solution=True)))
        cells.append(_code(check_cell(check_id), tags=["check"],
                           nbgrader=nbgrader(f"{ex.label}-check", grade=True, locked=True, points=stars)))
    return cells


def instructor_note(chapter: str, root: Path = ROOT) -> str:
    """The chapter's instructor notes, as Markdown, from its teaching data, run time, exercises and ledger."""
    data = course.teaching(chapter, root)
    head = course.header(chapter, root)
    times = course.run_times(root)
    t = times.get(chapter)
    run = (f"{t.median_s:g} s median ({t.max_s:g} s max, {t.memory_mib:g} MiB) on two cores, measured "
           f"{t.measured}" if t else "not measured yet (`make bench`)")
    exercises = course.exercises(chapter, root)
    lines = ["**Instructor notes** (in the instructor edition only)", "",
             f"- Run time of the whole notebook: {run}. Time to work through it: {head.time}",
             f"- Suggested class plan ({data.minutes} minutes):"]
    lines += [f"  {i}. {m} min: {do}" for i, (m, do) in enumerate(data.plan, 1)]
    lines += ["- Discussion questions:"] + [f"  {i}. {q}" for i, q in enumerate(data.discussion, 1)]
    lines += ["- Homework: " + "; ".join(f"{e.title} (`{e.label}`)" for e in course.homework(chapter, root))]
    points = sum(e.stars for e in exercises)
    lines += [f"- Grading: {len(exercises)} exercises, {points} points in nbgrader (one per ★). Each exercise ends "
              "with an answer cell that binds `answer` and a locked cell that checks it; written answers are "
              "graded by hand and carry 0 points until you set some."]
    try:
        from kexue import ledger

        if chapter in ledger.chapters():
            counts = ledger.status_counts(chapter)
            fixes = [c.result for c in ledger.load(chapter).claims if c.correction]
            lines += ["- The article's claims: " + ", ".join(f"{n} {s}" for s, n in counts.items())
                      + (". Where the chapter corrects the article: " + "; ".join(fixes) if fixes else "") + "."]
    except ImportError:  # the package is not installed: the notes go without the ledger line
        pass
    return "\n".join(lines)


def edition(chapter: str, kind: str, notes: bool = True, root: Path = ROOT) -> dict:
    """The ``kind`` ("student" or "instructor") edition of a chapter, as notebook JSON."""
    if kind not in ("student", "instructor"):
        raise ValueError(f"kind must be 'student' or 'instructor', got {kind!r}")
    nb = course.notebook(chapter, root)
    items = parse(nb, chapter)
    solutions = {s.label: s for s in items if isinstance(s, Solution)}
    cells: list[dict] = []
    header_done = False
    for item in items:
        if isinstance(item, str) and not header_done and "**Time:**" in item:
            # The header box ends with the paragraph holding "**Time:**"; the notes go right after it.
            end = item.find("\n\n", item.index("**Time:**"))
            head, tail = (item, "") if end < 0 else (item[:end], item[end:].strip("\n"))
            cells.append(_markdown(head))
            if kind == "instructor" and notes:
                cells.append(_markdown(instructor_note(chapter, root), tags=[NOTE_TAG]))
            if tail.strip():
                cells.append(_markdown(tail))
            header_done = True
        elif isinstance(item, str):
            cells.append(_markdown(item))
        elif isinstance(item, Exercise):
            cells += _exercise_cells(item, solutions.get(item.label), kind, chapter)
        elif isinstance(item, dict):
            cell = copy.deepcopy(item)
            cell.pop("id", None)
            cell["source"] = course.source(cell)  # one string, as every cell made here
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
            cells.append(cell)
    if not header_done:
        raise ValueError(f"{chapter}: no '**Time:**' line to put the instructor notes after")
    for i, cell in enumerate(cells):
        cell["id"] = f"{chapter[:2]}-{i:03d}"
    metadata = {k: v for k, v in nb["metadata"].items() if k not in ("jupytext", "widgets")}
    metadata["kexue"] = {**metadata.get("kexue", {}), "chapter": chapter, "edition": kind}
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def data_files(root: Path = ROOT) -> list[Path]:
    """The files beside the notebooks that chapters read by relative path (the benchmarks' numbers, and any file
    a chapter declares in its metadata ``kexue.reads``)."""
    files = {p for pattern in ("*.csv", "*.json") for p in (root / "benchmarks").glob(pattern)}
    for chapter in course.chapters(root):
        declared = course.notebook(chapter, root)["metadata"].get("kexue", {}).get("reads", [])
        files |= {root / name for name in declared}
    return sorted(files)


def _dump(nb: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


README = {
    "student": """# Scientific Spaces, Runnable: student edition

One notebook per chapter in `book/`. Open them in JupyterLab (`jupyter lab book`) or upload one to Colab
(File > Upload notebook): the first cell installs the course package `kexue` where it is missing.

Every exercise ends with two cells: set `answer` in the first, run the second to check it. The check says what is
right or wrong without giving the answer away, and it stops "Run all" until the answer passes (as nbgrader's test cells
do), so run the exercises one by one. The files in `benchmarks/` are numbers some chapters read; keep them beside
`book/`.
""",
    "instructor": """# Scientific Spaces, Runnable: instructor edition

`book/` holds every chapter with its solutions and a cell of instructor notes (class plan, discussion questions,
homework picks, run time) after its header. The exercises carry nbgrader metadata: each has a written-answer cell
(graded by hand, 0 points by default), an answer cell with the reference solution between `### BEGIN SOLUTION` and
`### END SOLUTION`, and a locked check cell worth one point per star.

For nbgrader, copy `nbgrader/source/*` into your course's `source/` folder (the same notebooks, without the
instructor notes) and run `nbgrader generate_assignment NN-slug`: the release it writes is the student edition.
""",
}


def write(kind: str, out: Path, root: Path = ROOT) -> list[Path]:
    """Write the ``kind`` edition of every chapter into ``out``; return the notebooks written."""
    if out.exists():
        shutil.rmtree(out)
    written = []
    for chapter in course.chapters(root):
        path = out / "book" / f"{chapter}.ipynb"
        _dump(edition(chapter, kind, root=root), path)
        written.append(path)
        if kind == "instructor":
            source = out / "nbgrader" / "source" / chapter / f"{chapter}.ipynb"
            _dump(edition(chapter, kind, notes=False, root=root), source)
    for path in data_files(root):
        target = out / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    (out / "README.md").write_text(README[kind], encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["student", "instructor"])
    parser.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    written = write(args.kind, args.out)
    print(f"{args.kind} edition: {len(written)} chapters in {args.out}/book")


if __name__ == "__main__":
    main()
