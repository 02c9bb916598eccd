"""Writes the teaching pages from data at build time: the instructor's guide, the glossary and the errata.

Each page holds one marker line (``<!-- instructor-guide -->``, ``<!-- glossary -->``, ``<!-- errata -->``) that is
replaced, when Sphinx reads the page, by Markdown rendered from the chapters themselves (``kexue_course``), the
teaching data in ``book/_teaching/``, ``benchmarks/RESULTS.md`` and the claim ledgers. The prerequisite map is drawn
with matplotlib into ``book/images/generated/`` when the build starts.
"""
from __future__ import annotations

import io
import re
import textwrap
from pathlib import Path

import kexue_course as course
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from kexue import ledger

MAP = Path("images") / "generated" / "prerequisite-map.svg"
PAGES = {"book/instructors": "<!-- instructor-guide -->", "book/glossary": "<!-- glossary -->",
         "book/errata": "<!-- errata -->"}


def _plain(text: str) -> str:
    """Text safe to paste on another page: citations dropped (their bibliography is on the chapter's page)."""
    return re.sub(r"\s*\{cite(?::\w+)?\}`[^`]*`", "", text)


def _ref_text(text: str) -> str:
    """An exercise title as link text: no maths markup, no characters a role would misread."""
    return re.sub(r"[$\\`<>{}]", "", text)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def requires(chapter: str, root: Path = course.ROOT) -> list[str]:
    """The chapters to do first: the teaching data's, and any the chapter's own prerequisites line names."""
    known = course.teaching_chapters(root)
    wanted = set(course.teaching(chapter, root).requires)
    if chapter in course.chapters(root):
        numbers = course.mentioned_chapters(course.header(chapter, root).prerequisites)
        wanted |= {c for c in known if int(c[:2]) in numbers}
    return sorted(wanted - {chapter})


def _link(chapter: str, root: Path) -> str:
    return f"{{doc}}`{chapter}`" if chapter in course.chapters(root) else f"{int(chapter[:2])}. " + (
        course.teaching(chapter, root).planned_title or course.teaching(chapter, root).short) + " (in preparation)"


def _run_time(chapter: str, times: dict[str, course.RunTime]) -> str:
    t = times.get(chapter)
    if t is None:
        return "not measured yet"
    return (f"{t.median_s:g} s median, {t.max_s:g} s max, {t.memory_mib:g} MiB peak memory ({t.budget}; "
            f"measured {t.measured})")


def _exercise_ref(e: course.Exercise) -> str:
    kind = ", explain with a plot" if e.plot else ""
    return f"{{ref}}`{_ref_text(e.title)} <{e.label}>` ({course.STAR * e.stars}{kind})"


def render_guide(root: Path = course.ROOT) -> str:
    """The instructor's guide: the overview table, the prerequisite map, then one section per chapter."""
    landed, times, part_names = course.chapters(root), course.run_times(root), course.parts(root)
    lines = ["| chapter | part | run time (median, s) | class plan (min) | do first | homework picks |",
             "|---|---|---|---|---|---|"]
    for chapter in course.teaching_chapters(root):
        data = course.teaching(chapter, root)
        t = times.get(chapter)
        picks = len(course.homework(chapter, root)) if chapter in landed else "—"
        first = ", ".join(str(int(c[:2])) for c in requires(chapter, root)) or "—"
        lines.append(f"| {_link(chapter, root)} | {data.part} | {f'{t.median_s:g}' if t else '—'} | "
                     f"{data.minutes} | {first} | {picks} |")
    lines += ["", "```{figure} " + MAP.as_posix(), ":name: fig-prerequisite-map",
              ":alt: The sixteen chapters in five columns, one per part, with arrows from each chapter to the "
              "chapters that build on it.", "",
              "The prerequisite map: an arrow runs from a chapter to one that builds on it (from the chapters' "
              "teaching data and their prerequisites lines); dashed boxes are chapters in preparation.", "```"]
    for chapter in course.teaching_chapters(root):
        lines += ["", *_guide_section(chapter, root, landed, times, part_names)]
    return "\n".join(lines)


def _guide_section(chapter: str, root: Path, landed: list[str], times: dict, part_names: dict) -> list[str]:
    data = course.teaching(chapter, root)
    number = int(chapter[:2])
    if chapter not in landed:
        heading = f"## {number}. {data.planned_title or data.short} (in preparation)"
        out = [heading, "", f"Part {data.part}, {part_names[data.part]}; after <{data.article}>. This chapter is "
               "being written: its objectives below are the planned ones, and its run time, prerequisites box and "
               "exercises will appear here when it lands.", "", "**Objectives (planned)**", ""]
        out += [f"- {o}" for o in data.planned_objectives]
    else:
        head = course.header(chapter, root)
        out = [f"## {course.title(chapter, root)}", "",
               f"Chapter {{doc}}`{chapter}` (part {data.part}, {part_names[data.part]}), after <{data.article}>.",
               "", "**Objectives** (the chapter's \"You will learn\")", ""]
        out += [f"- {_plain(o)}" for o in head.objectives]
        out += ["", f"**Prerequisites:** {_plain(head.prerequisites)}",
                "", f"**Time to work through** (the chapter's estimate): {head.time}",
                "", f"**Measured run time** (`benchmarks/RESULTS.md`): {_run_time(chapter, times)}."]
    first = requires(chapter, root)
    out += ["", "**Chapters to do first:** " + (", ".join(_link(c, root) for c in first) or "none.")]
    out += ["", f"**Suggested class plan** ({data.minutes} minutes)", "", "| minutes | activity |", "|---|---|"]
    out += [f"| {m} | {_cell(do)} |" for m, do in data.plan]
    out += ["", "**Discussion questions**", ""] + [f"{i}. {q}" for i, q in enumerate(data.discussion, 1)]
    out += ["", "**Homework**", ""]
    if chapter in landed:
        exercises = course.exercises(chapter, root)
        picks = course.homework(chapter, root)
        out += [f"- {_exercise_ref(e)}" for e in picks]
        stars = {s: sum(e.stars == s for e in exercises) for s in (1, 2, 3)}
        out += ["", f"The chapter has {len(exercises)} exercises ({stars[1]} ★, {stars[2]} ★★, {stars[3]} ★★★); each "
                "has an automatic check, and the instructor edition (`make instructor`) grades them in nbgrader."]
        if chapter in ledger.chapters():
            counts = ledger.status_counts(chapter)
            out += ["", "**Claims** ({doc}`ledger`): " + ", ".join(f"{n} {s}" for s, n in counts.items()) + "."]
    else:
        out += ["When the chapter lands: its ★★★ exercises and its \"explain with a plot\" exercise."]
    return out


def draw_map(path: Path, root: Path = course.ROOT) -> Path:
    """Draw the prerequisite map of every chapter of the course as an SVG file at ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    chapters, landed = course.teaching_chapters(root), set(course.chapters(root))
    data = {c: course.teaching(c, root) for c in chapters}
    columns = sorted({d.part for d in data.values()})
    step, half_w, half_h = 3.6, 1.3, 0.32  # column spacing, half a box's width and height
    place: dict[str, tuple[float, float]] = {}
    for col, part in enumerate(columns):
        members = [c for c in chapters if data[c].part == part]
        for row, c in enumerate(members):
            place[c] = (col * step, -row * 1.1)
    with plt.rc_context({"svg.hashsalt": "kexue-prerequisite-map", "svg.fonttype": "none"}):
        fig, ax = plt.subplots(figsize=(12, 5.4))
        for col, part in enumerate(columns):
            name = textwrap.fill(f"{part}. {course.parts(root)[part]}", 22, break_on_hyphens=False)
            ax.text(col * step, 0.75, name, ha="center", va="bottom", fontsize=9, fontweight="bold")
        for c, (x, y) in place.items():
            box = FancyBboxPatch((x - half_w, y - half_h), 2 * half_w, 2 * half_h, boxstyle="round,pad=0.05",
                                 facecolor="#e8f1fa" if c in landed else "white", edgecolor="#0072B2",
                                 linestyle="-" if c in landed else "--")
            ax.add_patch(box)
            ax.text(x, y, f"{int(c[:2])}. {data[c].short}", ha="center", va="center", fontsize=8.5)
        for c in chapters:
            for before in requires(c, root):
                (x0, y0), (x1, y1) = place[before], place[c]
                if x0 == x1 and abs(y1 - y0) < 1.5:  # next in the same part: straight down
                    start, end, rad = (x0, y0 - half_h - 0.05), (x1, y1 + half_h + 0.05), 0.0
                elif x0 == x1:  # further down the same part: along the right-hand side
                    start, end, rad = (x0 + half_w + 0.05, y0), (x1 + half_w + 0.05, y1), -0.3
                else:  # a later part: right edge to left edge, bending over the parts in between
                    start, end = (x0 + half_w + 0.05, y0), (x1 - half_w - 0.05, y1)
                    rad = 0.2 if abs(x1 - x0) > step else 0.0
                ax.annotate("", xy=end, xytext=start,
                            arrowprops={"arrowstyle": "->", "color": "#D55E00", "lw": 1.2,
                                        "connectionstyle": f"arc3,rad={rad}"})
        ax.set_xlim(-half_w - 0.3, step * (len(columns) - 1) + half_w + 0.3)
        lowest = min(y for _, y in place.values())
        ax.set_ylim(lowest - 0.6, 1.4)
        ax.axis("off")
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
        plt.close(fig)
    # Written only when it changes, so that a rebuild with nothing changed does not see a new image.
    if not path.exists() or path.read_text(encoding="utf-8") != buffer.getvalue():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def render_glossary(root: Path = course.ROOT) -> str:
    """The glossary table: each term in English and Chinese, a gloss, and the chapters where it appears."""
    texts = {c: course.prose(c, root) for c in course.chapters(root)}
    lines = ["| English | 中文 | meaning | appears in |", "|---|---|---|---|"]
    for term in course.glossary(root):
        where = [f"{{doc}}`{int(c[:2])} <{c}>`" for c in course.appearances(term, texts)]
        pending = [str(int(n)) for n in term.expect if not any(c.startswith(n) for c in texts)]
        if pending:
            where.append("chapter " + ", ".join(pending) + " (in preparation)")
        lines.append(f"| {term.en} | {term.zh} | {_cell(term.gloss)} | {', '.join(where) or '—'} |")
    return "\n".join(lines)


def corrections(root: Path = course.ROOT) -> list[tuple[str, ledger.Claim]]:
    """Every claim, in every landed chapter's ledger, where the chapter corrects or qualifies its article."""
    landed = set(course.chapters(root))
    return [(c, claim) for c in ledger.chapters() if c in landed for claim in ledger.load(c).claims
            if claim.correction]


def render_errata(root: Path = course.ROOT) -> str:
    """The errata: one table per chapter with the places where it corrects or qualifies its article."""
    found = corrections(root)
    chapters = sorted({c for c, _ in found})
    lines = [f"{len(found)} places in {len(chapters)} chapters, from the claim ledgers (`correction: true`)."]
    for chapter in chapters:
        led = ledger.load(chapter)
        lines += ["", f"## {course.title(chapter, root)}", "", f"Chapter {{doc}}`{chapter}`, after <{led.article}>.",
                  "", "| result | the article says | this course computes | status | why | asserted by |",
                  "|---|---|---|---|---|---|"]
        for c, claim in found:
            if c == chapter:
                ours = "—" if claim.ours is None else f"{{glue:text}}`{c}.ipynb::{claim.ours}:s`"
                lines.append(f"| {_cell(claim.result)} | {_cell(claim.article)} | {ours} | {claim.status} | "
                             f"{_cell(claim.reason)} | `{claim.test}` |")
    return "\n".join(lines)


RENDER = {"book/instructors": render_guide, "book/glossary": render_glossary, "book/errata": render_errata}


def fill_pages(app: Sphinx, docname: str, source: list[str]) -> None:
    """Replace each teaching page's marker by its rendered Markdown."""
    marker = PAGES.get(docname)
    if marker and marker in source[0]:
        source[0] = source[0].replace(marker, RENDER[docname](Path(app.srcdir)))


def write_map(app: Sphinx) -> None:
    """Draw the prerequisite map before the pages are read."""
    draw_map(Path(app.srcdir) / "book" / MAP, Path(app.srcdir))


def always_read(app: Sphinx, env: BuildEnvironment, added: set, changed: set, removed: set) -> list[str]:
    """The teaching pages depend on files Sphinx does not track (chapters, teaching data, RESULTS.md): read them
    again on every build (three short pages)."""
    return [page for page in PAGES if page in env.found_docs]


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", write_map)
    app.connect("env-get-outdated", always_read)
    app.connect("source-read", fill_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
