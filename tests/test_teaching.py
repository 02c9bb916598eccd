"""The teaching kit: teaching data for every chapter, the student and instructor editions (no solution left in the
first, every check kept, valid nbgrader metadata), the course bundle, and the pages rendered from data (instructor's
guide, prerequisite map, glossary, errata, course ledger)."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
import yaml
from conftest import ROOT

sys.path[:0] = [str(ROOT / "book" / "_ext"), str(ROOT / "tools")]
import bundle  # noqa: E402
import editions  # noqa: E402
import kexue_course as course  # noqa: E402
import kexue_ledger  # noqa: E402
import kexue_teaching  # noqa: E402

from kexue import ledger  # noqa: E402

CHAPTERS = course.chapters()
COURSE = course.teaching_chapters()


# --- Teaching data ---------------------------------------------------------------------------------------------------
def test_teaching_data_covers_the_sixteen_chapters() -> None:
    assert [int(c[:2]) for c in COURSE] == list(range(1, 17)), f"book/_teaching/ must hold 01..16, has {COURSE}"
    parts = course.parts()
    for chapter in COURSE:
        data = course.teaching(chapter)
        assert data.part in parts, f"{chapter}: part {data.part} is not in course.yml"
        assert data.article.startswith("https://kexue.fm/archives/"), f"{chapter}: article {data.article}"
        assert set(data.requires) <= set(COURSE) - {chapter}, f"{chapter}: requires unknown {data.requires}"
        assert 30 <= data.minutes <= 120 and len(data.discussion) >= 3, f"{chapter}: class plan or questions"
        if chapter not in CHAPTERS:
            assert data.planned_title and len(data.planned_objectives) >= 3, f"{chapter}: planned title, objectives"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_landed_chapter_has_its_teaching_data(chapter: str) -> None:
    """A chapter that lands without book/_teaching/NN-slug.yml (or with a slug that differs from it) fails here."""
    assert chapter in COURSE, f"{chapter} has no teaching data: write book/_teaching/{chapter}.yml"
    data = course.teaching(chapter)
    head = course.header(chapter)
    assert len(head.objectives) >= 3 and head.prerequisites and head.time
    picks = course.homework(chapter)  # raises if a pick is not an exercise of the chapter
    assert picks, f"{chapter}: no homework picks"
    if data.homework is not None:
        assert len(set(data.homework)) == len(data.homework)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    caption = next(p["caption"] for p in toc["parts"] if any(e["file"] == f"book/{chapter}" for e in p["chapters"]))
    assert caption == course.parts()[data.part], f"{chapter}: part {data.part} is '{caption}' in _toc.yml"


def test_prerequisites_form_a_map_without_cycles() -> None:
    """The map's arrows (teaching data plus the chapters a prerequisites line names) never loop."""
    edges = {c: kexue_teaching.requires(c) for c in COURSE}
    assert edges["05-token-mixing"] == ["04-position-encoding"]  # named in chapter 05's own prerequisites line
    done: set[str] = set()
    while len(done) < len(edges):
        ready = [c for c in edges if c not in done and set(edges[c]) <= done]
        assert ready, f"a cycle among {sorted(set(edges) - done)}"
        done |= set(ready)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_has_a_label_stars_and_a_registered_check(chapter: str) -> None:
    from kexue.exercises import registered

    found = course.exercises(chapter)
    assert len(found) >= 5 and len({e.label for e in found}) == len(found)
    for e in found:
        assert e.label and 1 <= e.stars <= 3, f"{chapter}: {e}"
        assert e.check_id in registered(), f"{chapter}: {e.label} checks {e.check_id!r}, which is not registered"


# --- Editions --------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both editions, written once for the module."""
    out = tmp_path_factory.mktemp("kit")
    for kind in ("student", "instructor"):
        editions.write(kind, out / kind)
    return {"student": out / "student", "instructor": out / "instructor"}


def load(folder: Path, chapter: str) -> dict:
    return json.loads((folder / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))


def text_of(cell: dict) -> str:
    return course.source(cell)


def solution_lines(chapter: str) -> tuple[list[str], str]:
    """The lines of a chapter's solutions (code tagged `solution`, text between the solution markers) and the text
    of everything else, read straight from the source notebook."""
    inside, solution, other = False, [], []
    for cell in course.notebook(chapter)["cells"]:
        lines = text_of(cell).split("\n")
        if cell["cell_type"] == "code":
            tagged = "solution" in cell["metadata"].get("tags", [])
            (solution if inside or tagged else other).extend(lines)
            continue
        for line in lines:
            if "{solution-start}" in line:
                inside = True
            elif "{solution-end}" in line:
                inside = False
            elif not line.startswith((":class:", "```", ":::")):
                (solution if inside else other).append(line)
    return solution, "\n".join(other)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_solution_text_survives_in_the_student_edition(kit: dict[str, Path], chapter: str) -> None:
    nb = load(kit["student"], chapter)
    student = "\n".join(text_of(c) for c in nb["cells"])
    solution, other = solution_lines(chapter)
    own = [line.strip() for line in solution if len(line.strip()) >= 12 and line.strip() not in other]
    assert own, f"{chapter}: found no solution text to look for"
    leaked = [line for line in own if line in student]
    assert not leaked, f"{chapter}: solution text in the student edition: {leaked[:3]}"
    assert "{solution" not in student and editions.BEGIN not in student
    assert not any("solution" in c["metadata"].get("tags", []) for c in nb["cells"])
    assert not any(editions.NOTE_TAG in c["metadata"].get("tags", []) for c in nb["cells"])


def check_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code"]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_exercise_still_checks_in_both_editions(kit: dict[str, Path], chapter: str) -> None:
    wanted = [e.check_id for e in course.exercises(chapter)]
    for kind in ("student", "instructor"):
        nb = load(kit[kind], chapter)
        cells = nb["cells"]
        checks = check_cells(nb)
        ids = [re.search(r'check\("([^"]+)", answer\)', text_of(c))[1] for c in checks]
        assert ids == wanted, f"{chapter} ({kind}): checks {ids}, exercises {wanted}"
        for cell in checks:
            answer = cells[cells.index(cell) - 1]
            assert answer["metadata"]["nbgrader"]["solution"] and re.search(r"^answer = ", text_of(answer), re.M)
    students = [text_of(c) for c in load(kit["student"], chapter)["cells"] if "answer" in c["metadata"].get("tags", [])]
    assert len(students) == len(wanted) and all(editions.STUDENT_ANSWER in s for s in students)


def bound_names(code: str) -> set[str]:
    """The names a cell binds at its top level (assignments, functions, classes, imports)."""
    names = set()
    for node in ast.parse(code).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)} if target else set()
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_no_cell_of_the_student_edition_needs_a_removed_solution(kit: dict[str, Path], chapter: str) -> None:
    """A name only a solution defines is used by no cell the student edition keeps (it would raise NameError)."""
    cells = [c for c in load(kit["student"], chapter)["cells"] if c["cell_type"] == "code"]
    kept = set().union(*(bound_names(text_of(c)) for c in cells)) | {"answer"}
    removed: set[str] = set()
    for cell in course.notebook(chapter)["cells"]:
        if "solution" in cell["metadata"].get("tags", []):
            removed |= bound_names(text_of(cell))
    only_solutions = removed - kept
    for cell in cells:
        tree = ast.parse(text_of(cell))
        local = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        local |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - local
        assert not used & only_solutions, f"{chapter}: {sorted(used & only_solutions)} come from a removed solution"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_a_check_cell_refuses_the_do_nothing_answer(kit: dict[str, Path], chapter: str,
                                                      capsys: pytest.CaptureFixture) -> None:
    """Run each check cell of the student edition as it is handed out (answer = None): it fails with the check's
    own message, not with a NameError or a crash."""
    for cell in check_cells(load(kit["student"], chapter)):
        with pytest.raises(AssertionError, match="not passed yet"):
            exec(compile(text_of(cell), "check-cell", "exec"), {"answer": None})
        assert "Not yet" in capsys.readouterr().out


# nbgrader's cell-metadata schema, version 3, as documented ("JSON Metadata Format" in nbgrader's contributor guide,
# and nbgrader/nbgraderformat/v3.json).
NBGRADER_V3 = {
    "type": "object",
    "properties": {
        "schema_version": {"type": "integer", "minimum": 3, "maximum": 3},
        "grade": {"type": "boolean"},
        "locked": {"type": "boolean"},
        "solution": {"type": "boolean"},
        "task": {"type": "boolean"},
        "grade_id": {"type": "string", "pattern": "^[a-zA-Z0-9_\\-]*$"},
        "points": {"type": "number", "minimum": 0},
        "checksum": {"type": "string", "minLength": 32, "maxLength": 32},
        "cell_type": {"type": "string", "enum": ["raw", "code", "markdown"]},
    },
    "required": ["schema_version", "grade", "locked", "solution"],
    "additionalProperties": False,
}


def validate_nbgrader(nb: dict) -> list[dict]:
    """Check every nbgrader cell as nbgrader's v3 validator does; return the nbgrader cells."""
    cells = [c for c in nb["cells"] if "nbgrader" in c["metadata"]]
    ids = [c["metadata"]["nbgrader"]["grade_id"] for c in cells]
    assert len(set(ids)) == len(ids), "duplicate grade ids"
    for cell in cells:
        meta = cell["metadata"]["nbgrader"]
        jsonschema.validate(meta, NBGRADER_V3)
        assert meta["grade_id"], "empty grade_id"
        if meta["grade"]:
            assert "points" in meta, f"{meta['grade_id']}: a grade cell needs points"
        if cell["cell_type"] == "markdown" and not meta.get("task"):
            assert meta["grade"] == meta["solution"], f"{meta['grade_id']}: a Markdown answer is grade and solution"
        if meta.get("task"):
            assert cell["cell_type"] == "markdown" and not (meta["grade"] or meta["solution"])
        if meta["solution"]:
            assert not meta["locked"], f"{meta['grade_id']}: nbgrader never locks an answer cell"
    return cells


def released(nb: dict) -> list[tuple[str, str, dict]]:
    """What `nbgrader generate_assignment` makes of an instructor notebook: solution regions and written answers
    replaced by the stubs, instructor notes dropped (as our nbgrader/source copy does)."""
    out = []
    for cell in nb["cells"]:
        if editions.NOTE_TAG in cell["metadata"].get("tags", []):
            continue
        meta = cell["metadata"].get("nbgrader", {})
        text = text_of(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            text = re.sub(rf"{editions.BEGIN}\n.*\n{editions.END}", editions.STUDENT_ANSWER, text, flags=re.S)
        elif meta.get("solution"):
            text = editions.STUDENT_WRITTEN
        out.append((cell["cell_type"], text, meta))
    return out


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_nbgrader_metadata_is_valid_and_the_student_edition_is_its_release(kit: dict[str, Path],
                                                                            chapter: str) -> None:
    instructor, student = load(kit["instructor"], chapter), load(kit["student"], chapter)
    source = json.loads((kit["instructor"] / "nbgrader" / "source" / chapter / f"{chapter}.ipynb").read_text())
    for nb in (instructor, student, source):
        cells = validate_nbgrader(nb)
        points = sum(c["metadata"]["nbgrader"].get("points", 0) for c in cells)
        assert points == sum(e.stars for e in course.exercises(chapter)), f"{chapter}: one point per star"
    answers = [c for c in instructor["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
               and c["cell_type"] == "code"]
    assert answers and all(editions.BEGIN in text_of(c) and editions.END in text_of(c) for c in answers)
    assert released(instructor) == [(c["cell_type"], text_of(c), c["metadata"].get("nbgrader", {}))
                                    for c in student["cells"]]
    assert [text_of(c) for c in source["cells"]] == [text_of(c) for c in instructor["cells"]
                                                      if editions.NOTE_TAG not in c["metadata"].get("tags", [])]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_editions_are_notebooks_for_jupyterlab_and_colab(kit: dict[str, Path], chapter: str) -> None:
    first_code = next(text_of(c) for c in course.notebook(chapter)["cells"] if c["cell_type"] == "code")
    for kind in ("student", "instructor"):
        nb = load(kit[kind], chapter)
        nbformat.validate(nbformat.from_dict(nb))
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        assert "jupytext" not in nb["metadata"], "a paired notebook would write a .md twin beside itself"
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert text_of(code[0]) == first_code, f"{chapter} ({kind}): the install cell must stay first (Colab)"
        assert all(not c["outputs"] for c in code)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_instructor_notes_follow_the_header(kit: dict[str, Path], chapter: str) -> None:
    cells = load(kit["instructor"], chapter)["cells"]
    notes = [i for i, c in enumerate(cells) if editions.NOTE_TAG in c["metadata"].get("tags", [])]
    assert len(notes) == 1 and "**Time:**" in text_of(cells[notes[0] - 1])
    text = text_of(cells[notes[0]])
    data = course.teaching(chapter)
    assert f"({data.minutes} minutes)" in text and all(q in text for q in data.discussion)
    assert all(e.label in text for e in course.homework(chapter))
    t = course.run_times().get(chapter)
    assert (f"{t.median_s:g} s median" if t else "not measured yet") in text


@pytest.mark.slow
def test_the_instructor_edition_passes_its_own_checks(kit: dict[str, Path]) -> None:
    """Executed top to bottom, the reference answers pass every check cell (chapter 03, the quickest)."""
    from nbclient import NotebookClient

    chapter = "03-cross-coloring"
    nb = nbformat.from_dict(load(kit["instructor"], chapter))
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(kit["instructor"] / "book")}}).execute()
    outputs = ["".join(o.get("text", "")) for c in check_cells(nb) for o in c["outputs"]]
    assert len(outputs) == len(course.exercises(chapter)) and all("Correct" in o for o in outputs)


# --- The bundle ------------------------------------------------------------------------------------------------------
RUN_FROM_BUNDLE = """
import sys
import nbformat
from nbclient import NotebookClient

path, folder = sys.argv[1], sys.argv[2]
nb = nbformat.read(path, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell("import kexue\\nprint(kexue.__file__)"))
NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": folder}}).execute()
nbformat.write(nb, path)
"""


@pytest.mark.slow
def test_the_bundle_installs_in_a_fresh_venv_and_runs_a_chapter(tmp_path: Path) -> None:
    archive = bundle.bundle(tmp_path / "kexue-course.zip")
    with zipfile.ZipFile(archive) as z:
        names = set(z.namelist())
        z.extractall(tmp_path)
    top = tmp_path / bundle.NAME
    for chapter in CHAPTERS:
        assert f"{bundle.NAME}/book/{chapter}.ipynb" in names
    for name in ("README.md", "constraints.txt", "requirements.txt", "benchmarks/token_mixing.csv"):
        assert f"{bundle.NAME}/{name}" in names, name
    wheels = list((top / "wheels").glob("kexue-*-py3-none-any.whl"))
    assert len(wheels) == 1
    requirement = next(line for line in (top / "requirements.txt").read_text().splitlines() if "wheels/" in line)
    assert requirement == f"./wheels/{wheels[0].name}[{','.join(bundle.extras())}]"
    with zipfile.ZipFile(wheels[0]) as z:
        assert "kexue/ledgers/03-cross-coloring.yml" in z.namelist()
        metadata = z.read(next(n for n in z.namelist() if n.endswith("METADATA"))).decode()
        assert all(f"Provides-Extra: {e}" in metadata for e in bundle.extras())

    # A fresh venv holding only the wheel; the other packages are borrowed from ours through a .pth file, which
    # puts them after the venv's own site-packages (and skips our editable install of kexue).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
                    "--no-index", str(wheels[0])], check=True)
    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (bundle)", "language": "python"}))
    env = {**os.environ, "JUPYTER_PATH": str(tmp_path / "jupyter"), "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    notebook = top / "book" / "03-cross-coloring.ipynb"
    subprocess.run([python, "-c", RUN_FROM_BUNDLE, str(notebook), str(top / "book")], check=True, env=env,
                   timeout=300)

    nb = json.loads(notebook.read_text())
    errors = {}
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                errors[cell["id"]] = out["ename"]
    checks = {c["id"] for c in check_cells(nb)}
    assert errors == dict.fromkeys(checks, "AssertionError"), "only the check cells may fail (answer = None)"
    where = "".join(nb["cells"][-1]["outputs"][0]["text"])
    assert where.startswith(str(venv)), f"kexue was imported from {where}, not from the wheel"


# --- Pages -----------------------------------------------------------------------------------------------------------
def results_rows() -> dict[str, str]:
    """The median time of each chapter in benchmarks/RESULTS.md, read here independently of kexue_course."""
    text = (ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    section = text.split("## Chapters", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2] for m in re.finditer(r"^\| (\d\d-[a-z0-9-]+) \| [^|]+ \| ([0-9.]+) \|", section, re.M)}


def test_run_times_are_read_from_either_layout_of_the_chapters_table(tmp_path: Path) -> None:
    """The harness has written the table with one memory column and a date for the whole table, and writes it with
    kernel and process-tree memory and a date per row; both read the same way (a failed chapter has no numbers)."""
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "RESULTS.md").write_text(
        "## Chapters\n\n| chapter | runs | median time (s) | max time (s) | kernel peak (MiB) | process tree peak (MiB)"
        " | budget | measured (UTC) | 1-min load at start |\n|---|---|---|---|---|---|---|---|---|\n"
        "| 01-a | 3/3 | 17.0 | 138.1 | 604 | 605 | **FAIL** | 2026-12-02 09:45 | 1.2 |\n"
        "| 02-b | 0/3 | — | — | — | — | **FAIL** | 2026-12-02 09:46 | 1.0 |\n\n## Book build\n", encoding="utf-8")
    assert course.run_times(tmp_path) == {"01-a": course.RunTime(17.0, 138.1, 605.0, "FAIL", "2026-12-02 09:45 UTC")}
    (tmp_path / "benchmarks" / "RESULTS.md").write_text(
        "## Chapters\n\nMeasured 2026-11-21 12:54 UTC.\n\n| chapter | runs | median time (s) | max time (s) | "
        "peak memory (MiB) | budget |\n|---|---|---|---|---|---|\n| 01-a | 3/3 | 14.4 | 16.1 | 416 | pass |\n",
        encoding="utf-8")
    assert course.run_times(tmp_path) == {"01-a": course.RunTime(14.4, 16.1, 416.0, "pass", "2026-11-21 12:54 UTC")}


def test_the_instructors_guide_renders_from_data() -> None:
    page = kexue_teaching.render_guide()
    measured = results_rows()
    assert measured, "no chapter times in benchmarks/RESULTS.md"
    for chapter in COURSE:
        data = course.teaching(chapter)
        section = page.split(f"## {course.title(chapter) if chapter in CHAPTERS else int(chapter[:2])}", 1)[1]
        section = section.split("\n## ", 1)[0]
        assert all(q in section for q in data.discussion) and f"({data.minutes} minutes)" in section
        if chapter not in CHAPTERS:
            assert "(in preparation)" in page and all(o in section for o in data.planned_objectives)
            continue
        assert all(kexue_teaching._plain(o) in section for o in course.header(chapter).objectives)
        assert all(f"<{e.label}>" in section for e in course.homework(chapter))
        if chapter in measured:
            assert f"{float(measured[chapter]):g} s median" in section
        else:
            assert "not measured yet" in section
        assert "{cite" not in section, "a citation outside its chapter has no bibliography"
    assert "```{figure} images/generated/prerequisite-map.svg" in page


def test_the_prerequisite_map_is_drawn_from_the_data(tmp_path: Path) -> None:
    first = kexue_teaching.draw_map(tmp_path / "a.svg").read_text()
    second = kexue_teaching.draw_map(tmp_path / "b.svg").read_text()
    assert first == second, "the map must be the same file for the same data"
    for chapter in COURSE:
        assert f"{int(chapter[:2])}. {course.teaching(chapter).short}" in first
    arrows = sum(len(kexue_teaching.requires(c)) for c in COURSE)
    assert arrows >= 5 and first.count("<svg") == 1


def test_the_glossary_lists_where_each_term_appears() -> None:
    terms = course.glossary()
    assert len(terms) >= 30 and len({t.en.lower() for t in terms}) == len(terms)
    texts = {c: course.prose(c) for c in CHAPTERS}
    for term in terms:
        assert re.search(r"[\u4e00-\u9fff]", term.zh), f"{term.en}: the Chinese term has no Chinese"
        found = course.appearances(term, texts)
        pending = [n for n in term.expect if not any(c.startswith(n) for c in CHAPTERS)]
        assert found or pending, f"glossary term {term.en!r} appears in no chapter"
    logsumexp = next(t for t in terms if t.en == "logsumexp")
    assert "01-logsumexp" in course.appearances(logsumexp, texts)
    page = kexue_teaching.render_glossary()
    assert all(f"| {t.en} | {t.zh} |" in page for t in terms)
    assert "{doc}`1 <01-logsumexp>`" in page


def test_the_errata_page_gathers_every_correction_in_the_ledgers() -> None:
    wanted = []
    for path in sorted((ROOT / "src" / "kexue" / "ledgers").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if raw["chapter"] in CHAPTERS:
            wanted += [(raw["chapter"], c["id"]) for c in raw["claims"] if c.get("correction")]
    assert wanted, "no ledger marks a correction"
    found = kexue_teaching.corrections()
    assert [(c, claim.id) for c, claim in found] == wanted
    page = kexue_teaching.render_errata()
    assert page.startswith(f"{len(wanted)} places in {len({c for c, _ in wanted})} chapters")
    for _, claim in found:
        assert claim.result.replace("|", "\\|") in page and f"`{claim.test}`" in page


def test_the_course_ledger_page_counts_every_chapter() -> None:
    page = kexue_ledger.render(ROOT / "book")
    totals = dict.fromkeys(ledger.STATUSES, 0)
    for chapter in (c for c in ledger.chapters() if c in CHAPTERS):
        counts = ledger.status_counts(chapter)
        fixes = sum(c.correction for c in ledger.load(chapter).claims)
        row = f"| {{doc}}`{chapter}` | " + " | ".join(str(counts[s]) for s in ledger.STATUSES)
        assert f"{row} | {sum(counts.values())} | {fixes} |" in page
        totals = {s: totals[s] + counts[s] for s in ledger.STATUSES}
    assert "| **all chapters** | " + " | ".join(f"**{totals[s]}**" for s in ledger.STATUSES) in page
    missing = [c for c in COURSE if c not in CHAPTERS]
    assert not missing or ", ".join(missing) in page


def test_the_pages_are_in_the_appendix_with_their_markers() -> None:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    appendix = [e["file"] for e in toc["parts"][-1]["chapters"]]
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert "kexue_teaching" in config["sphinx"]["local_extensions"]
    for page, marker in kexue_teaching.PAGES.items():
        assert page in appendix, f"{page} is not in the appendix of _toc.yml"
        assert marker in (ROOT / f"{page}.md").read_text(encoding="utf-8")


# --- make -------------------------------------------------------------------------------------------------------------
def make(*args: str) -> subprocess.CompletedProcess:
    """Run make in the project without rebuilding the virtualenv."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS")}
    return subprocess.run(["make", "-o", ".venv/.installed", *args], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)


def test_make_student_and_make_instructor_write_the_editions(tmp_path: Path) -> None:
    make("student", f"KIT={tmp_path}")
    make("instructor", f"KIT={tmp_path}")
    for chapter in CHAPTERS:
        assert (tmp_path / "student" / "book" / f"{chapter}.ipynb").is_file()
        assert (tmp_path / "instructor" / "nbgrader" / "source" / chapter / f"{chapter}.ipynb").is_file()
    assert (tmp_path / "student" / "benchmarks" / "token_mixing.csv").is_file()


def test_make_lab_opens_the_chapters_and_make_bundle_builds_the_archive() -> None:
    assert re.search(r"jupyter lab book$", make("-n", "lab", "-o", "setup").stdout, re.M)
    assert "tools/bundle.py _build/kexue-course.zip" in make("-n", "bundle").stdout
