"""The course as data, for the teaching kit: chapters, their teaching notes, exercises, run times and glossary.

Nothing here is typed twice. A chapter is a notebook ``book/NN-slug.ipynb`` (found by globbing, so a chapter that
lands appears everywhere at once); its objectives, prerequisites and time come from its own header box, its
exercises from its ``{exercise}`` blocks, its run time from ``benchmarks/RESULTS.md``. What only a teacher can
write (a class plan, discussion questions, homework picks, the chapters to do first) is kept in
``book/_teaching/NN-slug.yml``, one file per chapter of the course, landed or not; ``book/_teaching/course.yml``
names the parts and ``book/_teaching/glossary.yml`` holds the zh–en glossary. Used by the Sphinx extension
``kexue_teaching`` (the instructor's guide, glossary and errata pages) and by ``tools/editions.py`` (student and
instructor notebooks).
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEACHING = Path("book") / "_teaching"
CHAPTER_ID = re.compile(r"^\d{2}-[a-z0-9-]+$")
STAR = "★"


# --- Chapters -------------------------------------------------------------------------------------------------------
def chapters(root: Path = ROOT) -> list[str]:
    """The chapters that exist (``NN-slug``, sorted): every ``book/NN-slug.ipynb``."""
    return sorted(p.stem for p in (root / "book").glob("[0-9][0-9]-*.ipynb"))


def notebook(chapter: str, root: Path = ROOT) -> dict:
    """A chapter's notebook as JSON."""
    return json.loads((root / "book" / f"{chapter}.ipynb").read_text(encoding="utf-8"))


def source(cell: Mapping) -> str:
    """A cell's source as one string (notebooks may store it as a list of lines)."""
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


def prose(chapter: str, root: Path = ROOT) -> str:
    """The Markdown of a chapter (its text cells, joined)."""
    return "\n\n".join(source(c) for c in notebook(chapter, root)["cells"] if c["cell_type"] == "markdown")


def title(chapter: str, root: Path = ROOT) -> str:
    """A chapter's title: its first level-1 heading."""
    for line in prose(chapter, root).splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise ValueError(f"{chapter} has no '# ' title")


@dataclass(frozen=True)
class Header:
    """What a chapter's header box says: the learning goals, the prerequisites and the time to work through it."""

    objectives: tuple[str, ...]
    prerequisites: str
    time: str


def _joined(text: str) -> str:
    return " ".join(text.split())


def header(chapter: str, root: Path = ROOT) -> Header:
    """The "You will learn" bullets, the prerequisites and the time of a chapter, as its header box gives them."""
    text = prose(chapter, root)
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "**You will learn**")
    except StopIteration:
        raise ValueError(f"{chapter} has no '**You will learn**' box") from None
    items: list[str] = []
    for line in lines[start + 1:]:
        if line.startswith("- "):
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
        elif line.strip() or items:
            break
    match = re.search(r"\*\*Prerequisites:\*\*(.*?)\*\*Time:\*\*(.*?)(?:\n\s*\n|$)", text, re.S)
    if not items or not match:
        raise ValueError(f"{chapter}: the header box lacks its bullets, '**Prerequisites:**' or '**Time:**'")
    return Header(tuple(_joined(i) for i in items), _joined(match[1]), _joined(match[2]))


def mentioned_chapters(text: str) -> set[int]:
    """The chapter numbers a text names ("chapter 04", "chapters 08 and 09")."""
    found: set[int] = set()
    for match in re.finditer(r"[Cc]hapters?\s+((?:\d{1,2}(?:\s*(?:,|and|–|-)\s*)?)+)", text):
        found |= {int(n) for n in re.findall(r"\d{1,2}", match[1])}
    return found


# --- Exercises ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Exercise:
    """One ``{exercise}`` block: its label, title, difficulty (number of ★) and the id its check uses."""

    label: str
    title: str
    stars: int
    check_id: str | None

    @property
    def plot(self) -> bool:
        """Whether it is an "explain with a plot" exercise."""
        return "explain with a plot" in self.title.lower()


EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)$")


def parse_exercise(block: list[str]) -> tuple[str, str, list[str]]:
    """The label, title and body lines of an exercise directive (its fence lines included in ``block``)."""
    title_text = EXERCISE.match(block[0])[2].strip()
    label, body = "", []
    options = True
    for line in block[1:-1]:
        if options and line.startswith(":"):
            if line.startswith(":label:"):
                label = line.split(":", 2)[2].strip()
            continue
        options = False
        body.append(line)
    while body and not body[0].strip():
        body.pop(0)
    return label, title_text, body


def exercises(chapter: str, root: Path = ROOT) -> list[Exercise]:
    """A chapter's exercises in page order."""
    found = []
    lines = prose(chapter, root).splitlines()
    i = 0
    while i < len(lines):
        match = EXERCISE.match(lines[i])
        if not match:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == match[1])
        label, title_text, body = parse_exercise(lines[i:end + 1])
        ids = re.findall(r'check\("([^"]+)"', "\n".join(body))
        found.append(Exercise(label, title_text.lstrip(STAR + " ").strip(), title_text.count(STAR),
                              ids[0] if ids else None))
        i = end + 1
    return found


# --- Teaching data --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Teaching:
    """What a teacher needs beyond the chapter itself, written by hand in ``book/_teaching/NN-slug.yml``."""

    chapter: str
    short: str
    part: int
    article: str
    requires: tuple[str, ...]
    plan: tuple[tuple[int, str], ...]
    discussion: tuple[str, ...]
    homework: tuple[str, ...] | None
    planned_title: str = ""
    planned_objectives: tuple[str, ...] = field(default=())

    @property
    def minutes(self) -> int:
        """The length of the suggested class."""
        return sum(m for m, _ in self.plan)


_TEACHING_FIELDS = {"chapter", "short", "part", "article", "requires", "plan", "discussion", "homework",
                    "planned_title", "planned_objectives"}


def load_yaml(text: str) -> object:
    """YAML through libyaml when PyYAML has it (several times faster: every build reads each file several times)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def teaching_chapters(root: Path = ROOT) -> list[str]:
    """Every chapter of the course that has teaching data (all sixteen, landed or not)."""
    return sorted(p.stem for p in (root / TEACHING).glob("[0-9][0-9]-*.yml"))


def teaching(chapter: str, root: Path = ROOT) -> Teaching:
    """The teaching data of ``chapter``, checked field by field."""
    path = root / TEACHING / f"{chapter}.yml"
    if not path.exists():
        raise ValueError(f"{chapter} has no teaching data: write {TEACHING}/{chapter}.yml")
    raw = load_yaml(path.read_text(encoding="utf-8"))
    where = f"{TEACHING}/{chapter}.yml"
    if not isinstance(raw, Mapping) or raw.get("chapter") != chapter:
        raise ValueError(f"{where} must start with 'chapter: {chapter}'")
    unknown = set(raw) - _TEACHING_FIELDS
    missing = {"short", "part", "article", "requires", "plan", "discussion"} - set(raw)
    if unknown or missing:
        raise ValueError(f"{where}: unknown fields {sorted(unknown)}, missing fields {sorted(missing)}")
    plan = []
    for step in raw["plan"]:
        if not (isinstance(step, Mapping) and isinstance(step.get("minutes"), int) and step["minutes"] > 0
                and isinstance(step.get("do"), str)):
            raise ValueError(f"{where}: each plan step is {{minutes: <positive int>, do: <text>}}, got {step!r}")
        plan.append((step["minutes"], " ".join(step["do"].split())))
    homework = raw.get("homework")
    if homework is not None and not (isinstance(homework, list) and all(isinstance(h, str) for h in homework)):
        raise ValueError(f"{where}: homework is a list of exercise labels, or absent")
    for name in ("discussion", "planned_objectives"):
        if not all(isinstance(q, str) for q in raw.get(name) or []):
            raise ValueError(f"{where}: {name} is a list of strings (quote one that holds ': ')")
    if not raw["discussion"]:
        raise ValueError(f"{where}: discussion is a non-empty list of questions")
    return Teaching(chapter, str(raw["short"]), int(raw["part"]), str(raw["article"]),
                    tuple(raw["requires"] or ()), tuple(plan),
                    tuple(" ".join(q.split()) for q in raw["discussion"]),
                    None if homework is None else tuple(homework),
                    " ".join(str(raw.get("planned_title", "")).split()),
                    tuple(" ".join(o.split()) for o in raw.get("planned_objectives") or ()))


def parts(root: Path = ROOT) -> dict[int, str]:
    """The course's parts, by number."""
    raw = load_yaml((root / TEACHING / "course.yml").read_text(encoding="utf-8"))
    return {int(k): str(v) for k, v in raw["parts"].items()}


def homework(chapter: str, root: Path = ROOT) -> list[Exercise]:
    """The exercises suggested as homework: the teacher's picks, or by default the ★★★ and explain-with-a-plot ones."""
    found = exercises(chapter, root)
    picks = teaching(chapter, root).homework
    if picks is None:
        return [e for e in found if e.stars >= 3 or e.plot]
    by_label = {e.label: e for e in found}
    unknown = [p for p in picks if p not in by_label]
    if unknown:
        raise ValueError(f"{TEACHING}/{chapter}.yml: homework names exercises {unknown} the chapter does not have")
    return [by_label[p] for p in picks]


# --- Run times ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunTime:
    """A chapter's measured run: median and max wall time, peak memory, the verdict, and when it was measured."""

    median_s: float
    max_s: float
    memory_mib: float
    budget: str
    measured: str


def run_times(root: Path = ROOT) -> dict[str, RunTime]:
    """The "Chapters" table of ``benchmarks/RESULTS.md``, by chapter (empty if it is missing)."""
    path = root / "benchmarks" / "RESULTS.md"
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    section = re.search(r"^## Chapters\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not section:
        return {}
    when = re.search(r"Measured (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", section[1])
    rows = [line.strip().strip("|").split("|") for line in section[1].splitlines() if line.startswith("|")]
    if len(rows) < 2:
        return {}
    columns = [c.strip() for c in rows[0]]
    # The memory column has been the kernel's peak, and is now the whole process tree's where that is measured.
    memory = next((c for c in ("process tree peak (MiB)", "kernel peak (MiB)", "peak memory (MiB)") if c in columns),
                  None)
    times = {}
    for row in rows[2:]:
        cell = dict(zip(columns, (c.strip() for c in row)))
        measured = f"{cell['measured (UTC)']} UTC" if cell.get("measured (UTC)") else (when[1] if when else "")
        try:
            times[cell["chapter"]] = RunTime(float(cell["median time (s)"]), float(cell["max time (s)"]),
                                             float(cell[memory]) if memory else float("nan"),
                                             cell["budget"].strip("*"), measured)
        except (KeyError, ValueError):
            continue  # a chapter that failed to run has no numbers
    return times


# --- Glossary -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """A glossary entry: English and Chinese, a short gloss, and the forms it is searched for in the chapters."""

    en: str
    zh: str
    gloss: str
    forms: tuple[str, ...]
    expect: tuple[str, ...]


def glossary(root: Path = ROOT) -> list[Term]:
    """The zh–en glossary, sorted by the English term."""
    raw = load_yaml((root / TEACHING / "glossary.yml").read_text(encoding="utf-8"))
    terms = []
    for entry in raw["terms"]:
        forms = (entry["en"], entry["zh"], *entry.get("forms", []))
        terms.append(Term(entry["en"], entry["zh"], " ".join(entry.get("gloss", "").split()), tuple(forms),
                          tuple(f"{n:02d}" if isinstance(n, int) else str(n) for n in entry.get("expect", []))))
    return sorted(terms, key=lambda t: t.en.lower())


def _pattern(form: str) -> re.Pattern:
    """A search pattern for a term: whole words, any case, British or American spelling of -is-/-iz-."""
    if re.search(r"[\u4e00-\u9fff]", form):
        return re.compile(re.escape(form))
    words = re.escape(form).replace(r"\ ", r"[\s-]+").replace("isation", "i[sz]ation").replace("ise", "i[sz]e")
    return re.compile(rf"(?<![\w]){words}(?:s|es)?(?![\w])", re.I)


def appearances(term: Term, texts: Mapping[str, str]) -> list[str]:
    """The chapters (keys of ``texts``) whose text holds one of the term's forms."""
    patterns = [_pattern(f) for f in term.forms]
    return [c for c, text in texts.items() if any(p.search(text) for p in patterns)]
