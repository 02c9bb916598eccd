"""Sphinx glue for the course.

1. Key each chapter's execution cache on what its outputs depend on (see kexue_cache.py, loaded from here).
2. Number every chapter by the NN of its file name (book/06-hippo is chapter 6, its sections 6.1, 6.2, its figures
   6.1, ...), whatever chapters precede it in the table of contents, so numbers never shift when a chapter lands.
3. Emit sphinx-thebe's inline scripts once: on Sphinx 7.4 it is added twice, and the second copy
   throws "Identifier 'THEBE_JS_URL' has already been declared" in the browser console.
"""
from __future__ import annotations

import json
import re
from pathlib import PurePosixPath

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.environment.collectors.toctree import TocTreeCollector

CHAPTER = re.compile(r"^(\d{2})-")


def chapter_number(docname: str) -> int | None:
    """The NN of a chapter file book/NN-slug, or None for a page that is not a chapter."""
    match = CHAPTER.match(PurePosixPath(docname).name)
    return int(match.group(1)) if match else None


def _with_number(secnumber: list | tuple, number: int) -> list | tuple:
    """``secnumber`` with its first component replaced by ``number`` (same sequence type)."""
    return type(secnumber)([number, *secnumber[1:]])


def renumber_chapters(env: BuildEnvironment) -> None:
    """Replace the first component of every section number of a chapter by the chapter's NN."""
    for docname, secnums in env.toc_secnumbers.items():
        number = chapter_number(docname)
        if number is None:
            continue
        for anchor, secnum in secnums.items():
            if secnum:
                secnums[anchor] = _with_number(secnum, number)
        if env.titles.get(docname, {}).get("secnumber"):
            env.titles[docname]["secnumber"] = _with_number(env.titles[docname]["secnumber"], number)
        # The sidebar and the page's own table of contents read the numbers stored on the toc's references.
        for ref in env.tocs[docname].findall(nodes.reference):
            if ref.get("secnumber"):
                ref["secnumber"] = _with_number(ref["secnumber"], number)


def _renumber_after(cls: type) -> None:
    """Make ``cls.assign_section_numbers`` renumber the chapters once it has numbered everything (before figures
    are numbered, which use these numbers)."""
    original = cls.assign_section_numbers

    def assign_section_numbers(self: TocTreeCollector, env: BuildEnvironment) -> list[str]:
        changed = original(self, env)
        renumber_chapters(env)
        return changed

    cls.assign_section_numbers = assign_section_numbers


# Sphinx numbers by position in the toctree; Jupyter Book's collector (sphinx-external-toc) then restyles the
# numbers per part. Renumber after both.
_renumber_after(TocTreeCollector)
try:
    from sphinx_external_toc.collectors import TocTreeCollectorWithStyles
except ImportError:
    pass
else:
    _renumber_after(TocTreeCollectorWithStyles)


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


def repository_for_scripts(app: Sphinx) -> None:
    """Give the site's scripts the repository of _config.yml (the JupyterHub link page builds links from it)."""
    options = app.config.html_theme_options or {}
    repository = {
        "url": options.get("repository_url", ""),
        "branch": options.get("repository_branch", "main"),
        "path": options.get("path_to_docs", "").strip("/"),
    }
    app.add_js_file(None, body=f"window.KEXUE_REPOSITORY = {json.dumps(repository)};")


def setup(app: Sphinx) -> dict:
    app.setup_extension("kexue_cache")
    app.setup_extension("kexue_citations")
    app.connect("builder-inited", repository_for_scripts)
    # web/ is the html_static_path: the course's own styles and behaviour (figure zoom, inactive explorers).
    app.add_css_file("kexue.css")
    app.add_js_file("kexue.js")
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
