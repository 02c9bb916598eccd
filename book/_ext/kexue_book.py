"""Sphinx glue for the course.

1. Key the notebook execution cache on the kexue package as well as on the code cells: jupyter-cache hashes a
notebook's code cells only, so a change in ``src/kexue`` would leave stale outputs in the book. This extension
gives every state of the package (and of pyproject.toml, which pins the dependencies) its own cache folder: when
either changes, every chapter is executed again, and older cache folders are removed.
2. Emit sphinx-thebe's inline scripts once: on Sphinx 7.4 it is added twice, and the second copy
   throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser console.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config


def fingerprint(paths: list[Path]) -> str:
    """A short SHA-256 over the relative names and contents of every .py file under ``paths`` (files or folders)."""
    digest = hashlib.sha256()
    for root in paths:
        if not root.exists():
            raise FileNotFoundError(f"kexue_cache_keys: {root} does not exist")
        files = [root] if root.is_file() else sorted(
            p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".toml"})
        for path in files:
            if "__pycache__" in path.parts:
                continue
            name = path.name if path == root else str(path.relative_to(root))
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def set_cache_path(app: Sphinx, config: Config) -> None:
    """Point myst-nb's execution cache at a folder named after the package's fingerprint."""
    confdir = Path(app.confdir)
    key = fingerprint([confdir / p for p in config.kexue_cache_keys])
    base = Path(app.outdir).parent / ".jupyter_cache"
    cache = base / f"kexue-{key}"
    if base.is_dir():
        for old in base.glob("kexue-*"):
            if old != cache:
                shutil.rmtree(old, ignore_errors=True)
    config.nb_execution_cache_path = str(cache)


def drop_duplicate_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree: object) -> None:
    """Keep the first of any inline scripts with the same body on a page."""
    seen: set[str] = set()
    unique = []
    for script in context.get("script_files", []):
        body = getattr(script, "attributes", {}).get("body")
        if body is not None:
            if body in seen:
                continue
            seen.add(body)
        unique.append(script)
    context["script_files"] = unique


def setup(app: Sphinx) -> dict:
    app.add_config_value("kexue_cache_keys", ["src/kexue", "pyproject.toml"], "env")
    # Before myst-nb reads its configuration at builder-inited.
    app.connect("config-inited", set_cache_path, priority=400)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
