"""Chapters are executed again when the kexue package changes, not only when their code cells do."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from kexue_book import fingerprint  # noqa: E402

CONFIG = f"""\
title: cache test
only_build_toc_files: true
execute: {{execute_notebooks: cache, raise_on_error: true}}
sphinx:
  local_extensions: {{kexue_book: {ROOT / 'book' / '_ext'}}}
  config: {{kexue_cache_keys: [pkg]}}
"""
CHAPTER = """\
---
jupytext: {text_representation: {extension: .md, format_name: myst}}
kernelspec: {display_name: Python 3, language: python, name: python3}
---
# Page

```{code-cell} ipython3
import sys; sys.path.insert(0, "pkg")
import helper
print("VALUE", helper.VALUE)
```
"""


def test_fingerprint_follows_content(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    before = fingerprint([tmp_path])
    assert fingerprint([tmp_path]) == before
    (tmp_path / "a.py").write_text("x = 2\n")
    assert fingerprint([tmp_path]) != before
    with pytest.raises(FileNotFoundError, match="kexue_cache_keys"):
        fingerprint([tmp_path / "missing"])


@pytest.mark.slow
def test_changing_the_package_reexecutes_the_chapter(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text(CONFIG)
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "page.md").write_text(CHAPTER)
    (tmp_path / "pkg").mkdir()
    html = tmp_path / "_build" / "html" / "page.html"

    def build_with(value: int) -> str:
        (tmp_path / "pkg" / "helper.py").write_text(f"VALUE = {value}\n")
        subprocess.run([BIN / "jupyter-book", "build", str(tmp_path), "-W", "-n"], check=True, capture_output=True)
        return html.read_text(encoding="utf-8")

    assert "VALUE 1" in build_with(1)
    # Same code cells, new package: a cache keyed on the cells alone would still show 1.
    assert "VALUE 2" in build_with(2)
    caches = list((tmp_path / "_build" / ".jupyter_cache").glob("kexue-*"))
    assert len(caches) == 1, "the outdated cache folder was not removed"
