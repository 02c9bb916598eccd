"""Mark every code cell inside a {solution-start} ... {solution-end} block of a MyST chapter as a solution.

Each such cell gets the tags ``solution`` and ``hide-input`` (a student edition strips the first, the site hides the
input) and the metadata ``jupyter: {source_hidden: true}`` (JupyterLab collapses it). Other metadata in the cell's
YAML header is kept. Run it on the .md twin, then ``jupytext --sync`` the chapter:

    python tools/tag_solutions.py book/NN-slug.md && .venv/bin/jupytext --sync book/NN-slug.md
"""
from __future__ import annotations

import sys
from pathlib import Path

HEADER = ["jupyter:", "  source_hidden: true", "tags: [solution, hide-input]"]


def _kept(header: list[str]) -> list[str]:
    """The header lines other than the tags and the jupyter block this tool writes."""
    kept, skipping = [], False
    for line in header:
        if line.startswith(("tags:", "jupyter:")):
            skipping = line.startswith("jupyter:")
            continue
        if skipping and line.startswith("  "):
            continue
        skipping = False
        kept.append(line)
    return kept


def tag(text: str) -> str:
    """The chapter text with every code cell inside a solution block tagged and collapsed."""
    lines, out, inside, i = text.split("\n"), [], False, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```{solution-start}"):
            inside = True
        elif line.startswith("```{solution-end}"):
            inside = False
        if inside and line.startswith("```{code-cell}"):
            out.append(line)
            i += 1
            header: list[str] = []
            if i < len(lines) and lines[i] == "---":
                end = lines.index("---", i + 1)
                header, i = lines[i + 1:end], end + 1
            elif i < len(lines) and lines[i].startswith(":tags:"):
                i += 1
            out += ["---", *HEADER, *_kept(header), "---"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(tag(path.read_text(encoding="utf-8")), encoding="utf-8")
