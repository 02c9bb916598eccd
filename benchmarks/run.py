"""The performance harness (`make bench`): measure the course against its budgets and write benchmarks/RESULTS.md.

RESULTS.md has one `## ` section per part, each with one table:

- Machine: where and when it was measured (always re-measured).
- Chapters: every chapter in _toc.yml executed in a fresh kernel, --repeat times: wall time, and peak memory of the
  kernel alone and of the whole process tree (kernel plus the worker processes a chapter starts, polled with psutil).
- Book build: a cold build of a clean copy of the project, then a no-op rebuild of that copy.
- Topic: <name>: one section per module benchmarks/bench_<name>.py, which exposes ``run() -> str`` returning the
  section's Markdown body (a sentence and a table; use ``###`` for sub-headings, never ``##``). A topic module may
  ``from run import markdown_table`` to format its table.

``--only chapters build topics`` runs some parts; the sections of the parts not run are kept from the previous file.
Each section ends with its date and the one command that reproduces it.
``--chapter 06-hippo`` measures one chapter and prints its row without touching RESULTS.md (for authors).
The exit status is 1 when a budget is missed or a measurement failed (RESULTS.md is written either way).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml
from nbclient import NotebookClient

from kexue.runtime import PeakMemory

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "benchmarks"
BIN = Path(sys.executable).parent
RESULTS = HERE / "RESULTS.md"

CHAPTER_SECONDS = 60.0
CHAPTER_MIB = 1536.0
COLD_BUILD_SECONDS = 480.0
NOOP_BUILD_SECONDS = 15.0
PASS, FAIL = "pass", "**FAIL**"

# Appended to each chapter: the kernel's own peak resident set size (KiB on Linux).
MAXRSS_MARKER = "kexue-bench-maxrss"
MAXRSS_CELL = f"import resource\nprint('{MAXRSS_MARKER}', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"

# Local state that a clean checkout does not have (used when git cannot list the project's files).
NOT_COPIED = {".venv", "_build", ".git", ".pytest_cache", ".hypothesis", "__pycache__", ".ipynb_checkpoints",
              ".jupyter_cache", "node_modules"}
# Needed by the build but not versioned: fetched by tools/vendor_web_assets.sh.
UNVERSIONED_ASSETS = ["web/vendor"]

MACHINE, CHAPTERS, BUILD, TOPIC = "Machine", "Chapters", "Book build", "Topic: "
PARTS = ("chapters", "build", "topics")


# ---------------------------------------------------------------------------------------------------- helpers
def reproduce(arguments: str) -> str:
    """The closing line of a section: when it was measured and the one command that measures it again."""
    command = f".venv/bin/python benchmarks/run.py {arguments}".strip()
    return f"\n_Measured {now()}; reproduce with `{command}`._\n"


def say(message: str) -> None:
    """Print a progress line at once."""
    print(message, flush=True)


def now() -> str:
    """The current time in UTC, to the minute."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def cell(text: object) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown_table(headers: list[str], rows: list[list[object]]) -> str:
    """A Markdown table (pipe syntax) with the given header and rows."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def toc_chapters() -> list[str]:
    """The chapters (book/NN-slug, no suffix) listed in _toc.yml, in order; the same rule as tests/conftest.py."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]] + [entry["file"] for part in toc.get("parts", []) for entry in part["chapters"]]
    return [f for f in files if Path(f).name[:2].isdigit()]


def execute_timeout() -> int:
    """The per-cell timeout the book build uses (_config.yml execute.timeout)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return int(config.get("execute", {}).get("timeout", 120))


# ---------------------------------------------------------------------------------------------------- machine
def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's processor string)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def total_memory_gib() -> str:
    """Total physical memory in GiB from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def version(package: str) -> str:
    """The installed version of a distribution, without importing it."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_section(load_at_start: tuple[float, float, float]) -> str:
    """The Machine section: hardware, load, software versions and date."""
    rows = [
        ["CPU", cpu_model()],
        ["cores (os.cpu_count / usable by this process)", f"{os.cpu_count()} / {len(os.sched_getaffinity(0))}"],
        ["memory", total_memory_gib()],
        ["load average at start (1, 5, 15 min)", " ".join(f"{x:.2f}" for x in load_at_start)],
        ["Python", platform.python_version()],
        ["torch", version("torch")],
        ["numpy", version("numpy")],
        ["jupyter-book", version("jupyter-book")],
        ["date", now()],
    ]
    return f"## {MACHINE}\n\n" + markdown_table(["item", "value"], rows) + reproduce(" ".join(sys.argv[1:]))


# ---------------------------------------------------------------------------------------------------- chapters
@dataclass
class ChapterRun:
    """One execution of a chapter: wall seconds (kernel start included), peak MiB of the kernel and of its tree."""
    seconds: float
    kernel_mib: float
    tree_mib: float


def run_chapter(path: Path, timeout: int) -> ChapterRun:
    """Execute a notebook in a fresh kernel, with its folder as working directory, as the book build does.

    The process tree's memory is polled every 50 ms: the kernel is this process's child and the workers a chapter
    starts are the kernel's children. The kernel's own ru_maxrss is exact; the tree's peak is at least that.
    """
    nb = jupytext.read(path)
    nb.cells.append(nbformat.v4.new_code_cell(MAXRSS_CELL))
    client = NotebookClient(nb, timeout=timeout, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    with PeakMemory(os.getpid(), interval=0.05, include_root=False) as tree:
        client.execute()
    seconds = time.perf_counter() - start
    text = "".join(out.get("text", "") for out in nb.cells[-1].get("outputs", []))
    kernel = int(text.split(MAXRSS_MARKER, 1)[1].split()[0]) / 1024
    return ChapterRun(seconds, kernel, max(kernel, tree.peak_mb))


def short_error(exc: BaseException) -> str:
    """The exception's type and the last line of its message (for a cell error: the kernel's error line)."""
    lines = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()  # without terminal colours
    return f"{type(exc).__name__}: {lines[-1] if lines else ''}"[:160]


def chapter_row(name: str, runs: list[ChapterRun], repeat: int, error: str | None, load: float) -> list[object]:
    """A row of the chapters table, with the budget verdict, when it was measured and the load average then."""
    when = [now().removesuffix(" UTC"), f"{load:.1f}"]
    if not runs:
        return [name, f"0/{repeat}", "–", "–", "–", "–", f"{FAIL} {error}", *when]
    times = [r.seconds for r in runs]
    kernel, tree = max(r.kernel_mib for r in runs), max(r.tree_mib for r in runs)
    ok = error is None and max(times) <= CHAPTER_SECONDS and tree <= CHAPTER_MIB
    verdict = PASS if ok else f"{FAIL} {error}" if error else FAIL
    return [name, f"{len(runs)}/{repeat}", f"{statistics.median(times):.1f}", f"{max(times):.1f}", f"{kernel:.0f}",
            f"{tree:.0f}", verdict, *when]


CHAPTER_HEADERS = ["chapter", "runs", "median time (s)", "max time (s)", "kernel peak (MiB)",
                   "process tree peak (MiB)", "budget", "measured (UTC)", "1-min load at start"]


def old_chapter_rows(section: str) -> dict[str, list[str]]:
    """The rows of an existing Chapters section by chapter; rows from before the date columns get the section's date."""
    date = re.search(r"_Measured (.+?) UTC", section)
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("chapter", "") and not set(cells[0]) <= {"-"}:
            missing = max(0, len(CHAPTER_HEADERS) - len(cells))
            rows[cells[0]] = cells + [date[1] if date else "–", "–"][:missing]
    return rows


def find_chapter(name: str) -> str:
    """The _toc.yml entry (book/NN-slug) matching ``name`` (``06-hippo``, ``book/06-hippo.md`` or ``06``)."""
    stem = Path(name).stem
    matches = [c for c in toc_chapters() if Path(c).name == stem or Path(c).name.startswith(f"{stem}-")]
    if len(matches) != 1:
        raise SystemExit(f"--chapter {name!r} matches {len(matches)} chapters of _toc.yml: {matches}")
    return matches[0]


def chapters_section(repeat: int, chapters: list[str] | None = None, old: str = "") -> str:
    """Execute every chapter (or the given ones) ``repeat`` times; the Chapters section, keeping ``old``'s rows of the
    chapters not measured now (and of _toc.yml's chapters only)."""
    timeout, measured = execute_timeout(), {}
    for chapter in chapters or toc_chapters():
        path = ROOT / f"{chapter}.ipynb"
        runs, error = [], None
        for i in range(repeat):
            say(f"[chapters] {path.name}: run {i + 1}/{repeat} ...")
            try:
                runs.append(run_chapter(path, timeout))
            except Exception as exc:  # a failing chapter is reported in its row; the others still run
                error = short_error(exc)
                say(f"[chapters] {path.name}: FAILED {error}")
                break
            say(f"[chapters] {path.name}: {runs[-1].seconds:.1f} s, kernel {runs[-1].kernel_mib:.0f} MiB, "
                f"process tree {runs[-1].tree_mib:.0f} MiB")
        measured[Path(chapter).name] = chapter_row(Path(chapter).name, runs, repeat, error, os.getloadavg()[0])
    rows = old_chapter_rows(old) | measured
    rows = [rows[Path(c).name] for c in toc_chapters() if Path(c).name in rows]
    intro = (f"Each chapter's `.ipynb` executed top to bottom by nbclient in a fresh kernel (working directory "
             f"`book/`, as in the build), as many times as the runs column says. Time is wall time including kernel "
             f"start. Memory is the peak resident set size of the kernel (`ru_maxrss`) and of the whole process tree "
             f"(the kernel and the worker processes it starts, summed, polled every 50 ms with psutil). Budget: every "
             f"run ≤ {CHAPTER_SECONDS:.0f} s and a process tree ≤ {CHAPTER_MIB:.0f} MiB. The load average says how "
             f"busy the machine was when the row was measured (2 cores: above 1, other work shared them).\n\n")
    return (f"## {CHAPTERS}\n\n" + intro + markdown_table(CHAPTER_HEADERS, rows)
            + reproduce(f"--only chapters --repeat {repeat}") + "One chapter's row alone: `--update NN-slug`.\n")


# ---------------------------------------------------------------------------------------------------- book build
def project_files() -> list[str]:
    """The project's files, relative to ROOT: git's tracked and not-ignored files, else the tree minus local state."""
    try:
        listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 cwd=ROOT, capture_output=True, check=True).stdout.decode()
        files = [f for f in listing.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
    if not files:
        for folder, dirs, names in os.walk(ROOT):
            dirs[:] = [d for d in dirs if d not in NOT_COPIED]
            files += [os.path.relpath(os.path.join(folder, n), ROOT) for n in names]
    for extra in UNVERSIONED_ASSETS:
        files += [str(p.relative_to(ROOT)) for p in (ROOT / extra).rglob("*") if p.is_file()]
    return sorted({f for f in files if (ROOT / f).is_file()})


def copy_project(dest: Path) -> int:
    """Copy the project's files into ``dest``; the number of files copied."""
    files = project_files()
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return len(files)


def timed_build(book: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Run the venv's ``jupyter-book build <book> -W -n --keep-going``; wall seconds and the finished process."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run([str(BIN / "jupyter-book"), "build", str(book), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc


def build_row(step: str, seconds: float, proc: subprocess.CompletedProcess, budget: float) -> list[object]:
    """A row of the build table; prints the build's output tail when it failed."""
    if proc.returncode != 0:
        say(f"[build] {step} FAILED (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
        return [step, f"{seconds:.1f}", f"{budget:.0f}", f"{FAIL} build failed (exit {proc.returncode})"]
    return [step, f"{seconds:.1f}", f"{budget:.0f}", PASS if seconds <= budget else FAIL]


def build_section() -> str:
    """Build a clean copy of the book, then rebuild it unchanged; the Book build section."""
    with tempfile.TemporaryDirectory(prefix="kexue-bench-") as tmp:
        book = Path(tmp) / "book-copy"
        count = copy_project(book)
        say(f"[build] copied {count} files to {book}; cold build ...")
        cold, proc = timed_build(book)
        rows = [build_row("cold build from clean", cold, proc, COLD_BUILD_SECONDS)]
        say(f"[build] cold build {cold:.1f} s; no-op rebuild ...")
        noop, proc = timed_build(book)
        rows.append(build_row("no-op rebuild", noop, proc, NOOP_BUILD_SECONDS))
        say(f"[build] no-op rebuild {noop:.1f} s")
    intro = (f"`jupyter-book build <copy> -W -n --keep-going` on a fresh copy of the project's {count} files "
             f"(git's tracked and not-ignored files plus `web/vendor`; no `_build`, so no execution cache), "
             f"then the same command again with nothing changed.\n\n")
    return (f"## {BUILD}\n\n" + intro + markdown_table(["step", "time (s)", "budget (s)", "result"], rows)
            + reproduce("--only build"))


# ---------------------------------------------------------------------------------------------------- topics
def topic_modules() -> list[Path]:
    """The topic benchmark modules benchmarks/bench_*.py, sorted by name."""
    return sorted(HERE.glob("bench_*.py"))


def topic_section(path: Path) -> str:
    """Import a topic module and run it; its section (or a failure note with the exception)."""
    name = path.stem.removeprefix("bench_")
    say(f"[topics] {name} ...")
    start = time.perf_counter()
    try:
        spec = importlib.util.spec_from_file_location(f"kexue_bench_{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        body = module.run().strip() + "\n"
    except Exception:
        say(traceback.format_exc())
        body = f"{FAIL} the benchmark failed: `{cell(traceback.format_exc().strip().splitlines()[-1])}`\n"
    say(f"[topics] {name}: {time.perf_counter() - start:.1f} s")
    return f"## {TOPIC}{name}\n\n{body}\n" + reproduce(f"--only topics --topic {name}")


# ---------------------------------------------------------------------------------------------------- RESULTS.md
def read_sections(path: Path) -> dict[str, str]:
    """The `## ` sections of an existing RESULTS.md, keyed by heading text."""
    sections: dict[str, str] = {}
    current = None
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = ""
            if current is not None:
                sections[current] += line
    return sections


def placeholder(heading: str, part: str) -> str:
    """A section not measured yet."""
    return f"## {heading}\n\n_Not measured yet: run `benchmarks/run.py --only {part}`._\n"


PREAMBLE = f"""# Benchmark results

Written by `make bench` (`benchmarks/run.py`); do not edit by hand.
Budgets, on 2 CPU cores: each chapter ≤ {CHAPTER_SECONDS:.0f} s and ≤ {CHAPTER_MIB:.0f} MiB
(1.5 GB); the whole book from clean ≤ {COLD_BUILD_SECONDS / 60:.0f} min; a rebuild with nothing changed
≤ {NOOP_BUILD_SECONDS:.0f} s.
"pass" means within budget; "FAIL", over budget or failed. Each section gives the date it was measured.
Sections "Topic: ..." come from the topic benchmarks `benchmarks/bench_*.py`.
"""


def assemble(new: dict[str, str], old: dict[str, str]) -> str:
    """RESULTS.md: fixed sections in order, then topic sections; new sections replace old ones."""
    parts = [PREAMBLE]
    for heading, part in ((MACHINE, "chapters"), (CHAPTERS, "chapters"), (BUILD, "build")):
        parts.append(new.get(heading) or old.get(heading) or placeholder(heading, part))
    topics = {h: text for h, text in old.items()  # a topic whose benchmark module is gone is dropped
              if h.startswith(TOPIC) and (HERE / f"bench_{h.removeprefix(TOPIC)}.py").exists()}
    topics.update({h: text for h, text in new.items() if h.startswith(TOPIC)})
    parts += [topics[h] for h in sorted(topics)]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen parts, write RESULTS.md; 1 if a budget was missed or a measurement failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to measure (default all)")
    parser.add_argument("--repeat", type=int, default=3, help="executions per chapter (default 3)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="the results file (default benchmarks/RESULTS.md)")
    parser.add_argument("--chapter", help="measure one chapter (e.g. 06-hippo), print its row, leave RESULTS.md alone")
    parser.add_argument("--update", nargs="+", metavar="CHAPTER",
                        help="measure these chapters and replace only their rows of RESULTS.md's Chapters table")
    parser.add_argument("--topic", action="append", help="with --only topics: run only this topic (repeatable)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.chapter:
        section = chapters_section(args.repeat, [find_chapter(args.chapter)])
        say(section)
        return 1 if FAIL in section else 0

    old = read_sections(args.output)
    if args.update:
        new = {CHAPTERS: chapters_section(args.repeat, [find_chapter(c) for c in args.update], old.get(CHAPTERS, ""))}
        args.output.write_text(assemble(new, old), encoding="utf-8")
        say(f"updated {', '.join(args.update)} in {args.output}")
        return 1 if any(FAIL in row for row in new[CHAPTERS].splitlines() if any(c in row for c in args.update)) else 0

    load = os.getloadavg()
    new = {MACHINE: machine_section(load)}
    say(f"[machine] load average at start {load[0]:.2f}; measuring {', '.join(args.only)}")
    if "chapters" in args.only:
        new[CHAPTERS] = chapters_section(args.repeat)
    if "build" in args.only:
        new[BUILD] = build_section()
    if "topics" in args.only:
        for path in topic_modules():
            if args.topic and path.stem.removeprefix("bench_") not in args.topic:
                continue
            new[f"{TOPIC}{path.stem.removeprefix('bench_')}"] = topic_section(path)

    args.output.write_text(assemble(new, old), encoding="utf-8")
    say(f"wrote {args.output}")
    failed = [h for h, text in new.items() if FAIL in text]
    if failed:
        say(f"over budget or failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
