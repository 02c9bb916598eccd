"""A per-chapter key for myst-nb's execution cache, so a chapter runs again exactly when its outputs could change.

jupyter-cache matches a notebook by its code cells alone. A chapter's outputs also depend on
- the ``kexue`` modules it imports, transitively (a static scan of the import statements, see :func:`modules_of`),
  and the exercise checkers of those topics (``kexue.exercises.<topic>``, loaded on demand by ``check``);
- the files it reads: those declared in the notebook's metadata (``kexue: {reads: [benchmarks/activations.csv]}``),
  string literals in its code that name an existing file, and package data named after the chapter (its ledger);
- which optional assets are installed (:data:`PROBES`), for chapters importing the module that uses them;
- the dependency pins in pyproject.toml (and any lock files named in ``kexue_cache_pin_files``).
The key of every chapter is kept in ``kexue-keys.json`` beside the cache. When a chapter's key changes, its cached
records are dropped and Sphinx is told to read it again; every other chapter keeps its outputs.

myst-nb executes the chapters one at a time as Sphinx reads them. Before reading, :func:`execute_ahead` executes the
chapters without cached outputs in ``kexue_execution_workers`` processes at once, with jupyter-cache's own worker,
into the same cache; myst-nb then finds their outputs there. A chapter that fails ahead is executed, and its error
reported, by myst-nb as before.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import shutil
import tomllib
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

logger = logging.getLogger(__name__)
PACKAGE = "kexue"
# Packages that import their submodules on demand (``check`` loads every checker): a chapter that imports
# ``kexue.<topic>`` depends on ``<package>.<topic>``, not on the checkers of other topics.
COMPANION_PACKAGES = ("kexue.exercises",)
MANIFEST = "kexue-keys.json"


@dataclass(frozen=True)
class Probe:
    """An optional asset: its name, the modules whose behaviour depends on it, and a test of its presence."""

    name: str
    modules: tuple[str, ...]
    present: Callable[[], bool]


def _fashion_mnist() -> bool:
    root = Path("/usr/share/datasets/fashion-mnist")
    return root.is_dir() and len(list(root.glob("*-ubyte*"))) >= 4


def _cjk_font() -> bool:
    # The font folders matplotlib's font manager scans on Debian; a font with CJK glyphs in its name is enough.
    roots = [Path("/usr/share/fonts"), Path.home() / ".local/share/fonts", Path.home() / ".fonts"]
    return any(root.is_dir() and any(root.rglob("*CJK*")) for root in roots)


PROBES: tuple[Probe, ...] = (
    Probe("fashion-mnist", ("kexue.data",), _fashion_mnist),
    Probe("cjk-font", ("kexue.plotting",), _cjk_font),
)


def module_file(name: str, src: Path) -> Path | None:
    """The source file of module ``name`` under ``src`` (a package's ``__init__.py``), or None."""
    base = src.joinpath(*name.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def imported_names(tree: ast.AST, module: str = "", is_package: bool = False) -> set[str]:
    """Every dotted name ``tree`` imports (``from a import b`` gives ``a`` and ``a.b``), relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = module.split(".") if is_package else module.split(".")[:-1]
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules_of(code: str, src: Path) -> set[str]:
    """The ``kexue`` modules that ``code`` imports, directly or through other kexue modules, with their packages."""
    found: set[str] = set()
    todo = [n for n in imported_names(parse(code)) if n == PACKAGE or n.startswith(PACKAGE + ".")]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            path = module_file(prefix, src)
            if path is None or prefix in found:
                continue
            found.add(prefix)
            stat = path.stat()
            todo += module_imports(path, prefix, stat.st_mtime_ns, stat.st_size)
            for package in COMPANION_PACKAGES:
                companion = f"{package}.{prefix.rpartition('.')[2]}"
                if prefix.count(".") == 1 and companion != prefix and module_file(companion, src):
                    todo.append(companion)
    return found


@functools.cache
def module_imports(path: Path, name: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The ``kexue`` names module ``name`` (file ``path``) imports; cached per version of the file, since every
    chapter's scan reads the same modules."""
    inner = imported_names(parse(path.read_text(encoding="utf-8")), name, path.name == "__init__.py")
    return tuple(sorted(n for n in inner if n.startswith(PACKAGE + ".") or n == PACKAGE))


def parse(code: str) -> ast.AST:
    """Parse notebook or module code; IPython magics and shell lines are blanked first."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return ast.parse("")


def string_literals(tree: ast.AST) -> set[str]:
    """Every string constant in ``tree``."""
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def files_read(notebook: Path, nb: dict, code: str, root: Path, src: Path) -> set[Path]:
    """The data files a chapter reads: declared in its metadata, named by its string literals, or its package data."""
    declared = nb.get("metadata", {}).get("kexue", {}).get("reads", [])
    files = set()
    for name in declared:
        path = root / name
        if not path.is_file():
            raise FileNotFoundError(f"{notebook.name}: metadata kexue.reads names {name}, which does not exist")
        files.add(path)
    for literal in string_literals(parse(code)):
        if "\n" in literal or len(literal) > 200 or not literal.strip():
            continue
        for base in (notebook.parent, root):
            path = (base / literal).resolve()
            if path.is_file() and root in path.parents:
                files.add(path)
    # Package data named after the chapter (its claim ledger, src/kexue/ledgers/NN-slug.yml).
    files.update(p for p in (src / PACKAGE).rglob(f"{notebook.stem}.*") if p.suffix != ".py")
    return files


def pins(root: Path, extra: Iterable[str]) -> str:
    """pyproject.toml's dependency lists, and the text of any lock file named in ``extra``."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8")).get("project", {})
    text = json.dumps([project.get("requires-python"), project.get("dependencies"),
                       project.get("optional-dependencies")], sort_keys=True)
    for name in extra:
        path = root / name
        text += "\0" + (path.read_text(encoding="utf-8") if path.is_file() else "missing")
    return text


def chapter_key(notebook: Path, root: Path, src: Path, pin_text: str) -> tuple[str, dict]:
    """The chapter's cache key and what went into it (for the manifest, so a re-run can be explained)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                     for c in nb["cells"] if c["cell_type"] == "code")
    modules = sorted(modules_of(code, src))
    reads = sorted(files_read(notebook, nb, code, root, src))
    assets = sorted(f"{p.name}={p.present()}" for p in PROBES if set(p.modules) & set(modules))
    digest = hashlib.sha256()
    for part in (code, pin_text, *assets):
        digest.update(part.encode() + b"\0")
    for path in [module_file(m, src) for m in modules] + reads:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    parts = {"modules": modules, "reads": [str(p.relative_to(root)) for p in reads], "assets": assets}
    return digest.hexdigest()[:16], parts


def cache_dir(app: Sphinx) -> Path:
    return Path(app.outdir).parent / ".jupyter_cache"


def set_cache_path(app: Sphinx, config: Config) -> None:
    """One cache folder for the book (folders of the former whole-package key are removed)."""
    base = cache_dir(app)
    for old in base.glob("kexue-*"):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    config.nb_execution_cache_path = str(base)


def outdated_chapters(app: Sphinx, env: BuildEnvironment, added: set, changed: set, removed: set) -> list[str]:
    """Drop the cached outputs of every chapter whose key changed, and have Sphinx read those chapters again."""
    root = Path(app.confdir)
    src = root / app.config.kexue_cache_source
    pin_text = pins(root, app.config.kexue_cache_pin_files)
    manifest_path = cache_dir(app) / MANIFEST
    old = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    new, stale = {}, []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb":
            continue
        key, parts = chapter_key(path, root, src, pin_text)
        new[docname] = {"key": key, **parts}
        if old.get(docname, {}).get("key") != key:
            stale.append(docname)
            drop_records(app, path)
    app.env.kexue_cache_keys = new  # written to the manifest once the build succeeds
    if stale:
        logger.info(f"kexue cache: chapters to execute again: {', '.join(stale)}")
    return [d for d in stale if d not in added and d not in changed]


def drop_records(app: Sphinx, notebook: Path) -> None:
    """Remove the cached executions of ``notebook`` (matched by path) from jupyter-cache."""
    base = cache_dir(app)
    if not base.is_dir():
        return
    from jupyter_cache import get_cache

    cache = get_cache(str(base))
    for record in cache.list_cache_records():
        if Path(record.uri).resolve() == notebook.resolve():
            cache.remove_cache(record.pk)


def write_manifest(app: Sphinx, exception: Exception | None) -> None:
    """Record the key of every chapter the cache now holds outputs for (records of stale keys were dropped before
    execution, so a record is current); a chapter whose execution failed has none and is tried again next time."""
    keys = getattr(app.env, "kexue_cache_keys", None)
    base = cache_dir(app)
    if keys is None or not base.is_dir():
        return
    from jupyter_cache import get_cache

    cached = {Path(r.uri).resolve() for r in get_cache(str(base)).list_cache_records()}
    current = {doc: entry for doc, entry in keys.items() if Path(app.env.doc2path(doc)).resolve() in cached}
    (base / MANIFEST).write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")


def execute_ahead(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """Execute the notebooks about to be read that have no cached outputs, several at a time, into the cache."""
    workers = app.config.kexue_execution_workers
    if app.config.nb_execution_mode != "cache" or workers < 2:
        return
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

    cache = get_cache(app.config.nb_execution_cache_path)
    todo = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if path.suffix != ".ipynb" or any(fnmatch(str(path), p) for p in app.config.nb_execution_excludepatterns):
            continue
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
            continue
        except KeyError:  # no cached outputs for this code
            pass
        record = cache.add_nb_to_project(str(path))
        todo.append(ProcessData(record.pk, record.uri, cache, app.config.nb_execution_timeout,
                                app.config.nb_execution_allow_errors))
    if len(todo) < 2:
        return
    logger.info(f"kexue cache: executing {len(todo)} notebooks, {min(workers, len(todo))} at a time")
    with ProcessPoolExecutor(min(workers, len(todo))) as pool:
        for status, uri in pool.map(ExecutionWorkerLocalMProc(), todo):
            if status:  # myst-nb executes it again when reading and reports the error there
                traceback = (cache.get_project_record(uri).traceback or "").strip()
                reason = traceback.splitlines()[-1] if traceback else f"worker status {status}"
                logger.info(f"kexue cache: {Path(uri).name} failed ahead ({reason}); it runs again when read")


def setup(app: Sphinx) -> dict:
    app.add_config_value("kexue_cache_source", "src", "")
    # The exact versions `make` installs (constraints.txt) are part of every key, with pyproject.toml's ranges.
    app.add_config_value("kexue_cache_pin_files", ["constraints.txt"], "")
    # Before myst-nb reads its configuration at builder-inited.
    app.connect("config-inited", set_cache_path, priority=400)
    app.connect("env-get-outdated", outdated_chapters)
    # Two at a time by default: chapters are sized for two cores each, and memory grows with every process.
    app.add_config_value("kexue_execution_workers", min(2, len(os.sched_getaffinity(0))), "")
    app.connect("env-before-read-docs", execute_ahead)
    app.connect("build-finished", write_manifest)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
