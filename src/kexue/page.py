"""What a chapter page shows besides its prose: glued numbers, the code of its central helpers, its claim ledger."""
from __future__ import annotations

import html
import inspect
from collections.abc import Callable
from typing import Any

import pandas as pd

from kexue import ledger

_GLUED: dict[str, str] = {}


def glue(name: str, value: Any, fmt: str = "") -> None:
    """Glue ``value`` formatted with ``fmt`` under ``name`` for the page's prose and remember the text.

    It returns nothing, so a glue on a cell's last line adds no output (two outputs under a named figure would be
    two figures with one name)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be a format spec string, got {type(fmt).__name__}")
    text = format(value, fmt)
    from myst_nb import glue as myst_glue  # only where the book's toolchain is installed

    myst_glue(name, text, display=False)
    _GLUED[name] = text


def glued() -> dict[str, str]:
    """Every value glued so far in this kernel, by name."""
    return dict(_GLUED)


class Source:
    """A helper's source code, folded under its name; shown as HTML in notebooks and on the site."""

    def __init__(self, obj: Callable[..., Any] | type, summary: str) -> None:
        self.code = inspect.getsource(obj)
        self.summary = summary

    def _repr_html_(self) -> str:
        try:
            from pygments import highlight
            from pygments.formatters import HtmlFormatter
            from pygments.lexers import PythonLexer

            body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
        except ImportError:  # pygments comes with Jupyter; plain text is the fallback
            body = f"<pre>{html.escape(self.code)}</pre>"
        return f"<details><summary>{html.escape(self.summary)}</summary>{body}</details>"

    def __repr__(self) -> str:
        return f"{self.summary}\n{self.code}"


def show_source(obj: Callable[..., Any] | type, summary: str | None = None) -> Source:
    """The source of ``obj`` (a function or class), folded, so a chapter shows the very code it runs."""
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(f"obj must be a function or class, got {type(obj).__name__}")
    name = f"{obj.__module__}.{obj.__qualname__}"
    return Source(obj, summary or f"Show the code of {name}")


def ledger_table(chapter: str) -> pd.io.formats.style.Styler:
    """The chapter's "in the article vs. in this notebook" table, from its ledger and the values glued so far."""
    frame = ledger.table(chapter, _GLUED)
    return frame.style.hide(axis="index").set_properties(**{"text-align": "left"})
