"""Claim ledgers: for each chapter, every result of its article, our value, and how far it was reproduced.

A ledger is a YAML file ``kexue/ledgers/<chapter>.yml`` shipped with the package, so the chapter's "in the article
vs. in this notebook" table renders the same on the site, in Binder and in Colab.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import pandas as pd
import yaml

STATUSES: tuple[str, ...] = ("reproduced", "approximated", "out of reach")
_FIELDS = ("id", "result", "article", "ours", "status", "reason", "test")


@dataclass(frozen=True)
class Claim:
    """One result of the article: its value there, the glued name of ours, the status and the test asserting it."""

    id: str
    result: str
    article: str
    ours: str | None
    status: str
    reason: str
    test: str
    correction: bool = False


@dataclass(frozen=True)
class Ledger:
    """A chapter's claims, with the address of its article."""

    chapter: str
    article: str
    claims: tuple[Claim, ...]


def _folder() -> resources.abc.Traversable:
    return resources.files("kexue") / "ledgers"


def chapters() -> list[str]:
    """The chapters that have a ledger (``NN-slug``), sorted."""
    folder = _folder()
    if not folder.is_dir():  # no chapter has a ledger yet
        return []
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".yml"))


def _claim(raw: object, where: str) -> Claim:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where} must be a mapping of {', '.join(_FIELDS)}")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise ValueError(f"{where} lacks {', '.join(missing)}")
    unknown = set(raw) - set(_FIELDS) - {"correction"}
    if unknown:
        raise ValueError(f"{where} has unknown fields {sorted(unknown)}")
    if raw["status"] not in STATUSES:
        raise ValueError(f"{where}: status must be one of {STATUSES}, got {raw['status']!r}")
    if raw["ours"] is None and raw["status"] != "out of reach":
        raise ValueError(f"{where}: ours may be null only when the status is 'out of reach'")
    if "::" not in str(raw["test"]) or not str(raw["test"]).startswith("tests/"):
        raise ValueError(f"{where}: test must look like tests/test_x.py::test_name, got {raw['test']!r}")
    text = {f: str(raw[f]) for f in _FIELDS if f != "ours"}
    return Claim(ours=None if raw["ours"] is None else str(raw["ours"]),
                 correction=bool(raw.get("correction", False)), **text)


def load(chapter: str) -> Ledger:
    """The ledger of ``chapter`` (``NN-slug``), checked field by field."""
    if not isinstance(chapter, str):
        raise TypeError(f"chapter must be a string like '06-hippo', got {type(chapter).__name__}")
    if chapter not in chapters():
        raise ValueError(f"chapter {chapter!r} has no ledger; known: {', '.join(chapters()) or 'none'}")
    # libyaml's parser when PyYAML has it: several times faster, and the book build reads every ledger often.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    raw = yaml.load((_folder() / f"{chapter}.yml").read_text(encoding="utf-8"), Loader=loader)
    if not isinstance(raw, Mapping) or raw.get("chapter") != chapter:
        raise ValueError(f"ledgers/{chapter}.yml must start with 'chapter: {chapter}'")
    claims = tuple(_claim(c, f"ledgers/{chapter}.yml claim {i}") for i, c in enumerate(raw.get("claims") or []))
    if not claims:
        raise ValueError(f"ledgers/{chapter}.yml lists no claims")
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"ledgers/{chapter}.yml repeats a claim id")
    return Ledger(chapter, str(raw.get("article", "")), claims)


def table(chapter: str, values: Mapping[str, str]) -> pd.DataFrame:
    """The chapter's "in the article vs. in this notebook" table, with our values taken from ``values`` by name."""
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a mapping of glued names to text, got {type(values).__name__}")
    ledger = load(chapter)
    missing = [c.ours for c in ledger.claims if c.ours is not None and c.ours not in values]
    if missing:
        raise ValueError(f"values lacks the glued names {missing} that ledgers/{chapter}.yml refers to")
    rows = [{"result": c.result, "in the article": c.article,
             "in this notebook": "—" if c.ours is None else values[c.ours],
             "status": c.status, "why": c.reason} for c in ledger.claims]
    return pd.DataFrame(rows)


def status_counts(chapter: str) -> dict[str, int]:
    """How many of the chapter's claims have each status."""
    claims = load(chapter).claims
    return {s: sum(c.status == s for c in claims) for s in STATUSES}
