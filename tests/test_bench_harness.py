"""The benchmark harness's bookkeeping (benchmarks/run.py), without executing chapters: rows, verdicts, updates."""
from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import run  # noqa: E402


def test_a_row_fails_on_time_or_memory_and_says_when() -> None:
    fast = run.ChapterRun(seconds=20.0, kernel_mib=500.0, tree_mib=600.0)
    slow = run.ChapterRun(seconds=61.0, kernel_mib=500.0, tree_mib=600.0)
    heavy = run.ChapterRun(seconds=20.0, kernel_mib=500.0, tree_mib=1600.0)
    assert run.chapter_row("01-x", [fast, fast], 2, None, 0.5)[6] == run.PASS
    assert run.chapter_row("01-x", [fast, slow], 2, None, 0.5)[6] == run.FAIL
    assert run.chapter_row("01-x", [heavy], 1, None, 0.5)[6] == run.FAIL
    row = run.chapter_row("01-x", [], 1, "CellExecutionError: boom", 1.25)
    assert row[6].startswith(run.FAIL) and row[-1] == "1.2" and len(row) == len(run.CHAPTER_HEADERS)


def test_an_update_keeps_the_other_rows_and_dates_rows_from_before_the_date_columns() -> None:
    legacy = ("## Chapters\n\n| chapter | runs |\n|---|---|\n| 01-logsumexp | 3/3 | 17.0 | 17.1 | 492 | 492 | pass |\n"
              "\n_Measured 2026-12-02 09:45 UTC; reproduce with `x`._\n")
    rows = run.old_chapter_rows(legacy)
    assert rows == {"01-logsumexp": ["01-logsumexp", "3/3", "17.0", "17.1", "492", "492", "pass",
                                     "2026-12-02 09:45", "–"]}
    current = run.markdown_table(run.CHAPTER_HEADERS, [rows["01-logsumexp"]])
    assert run.old_chapter_rows(current) == rows
