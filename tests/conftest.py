"""Shared fixtures: the project's paths, the chapters in the table of contents, the built site, a browser."""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def toc_files() -> list[str]:
    """Every file named in _toc.yml (without suffix), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def chapters() -> list[str]:
    """The chapters (book/NN-slug) listed in _toc.yml."""
    return [f for f in toc_files() if Path(f).name[:2].isdigit()]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the book from clean with warnings as errors (the execution cache is kept) and return its HTML folder.
    Under pytest-xdist the first worker to ask builds it and the others wait for that build (a lock and a note in
    the run's shared temporary folder). With KEXUE_SITE_BUILT=1 the site already in _build/html is tested as it is
    (for iterating on the tests)."""
    html = ROOT / "_build" / "html"
    if os.environ.get("KEXUE_SITE_BUILT") == "1":
        return html
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None
    if shared is None:
        failure = build_site()
    else:
        from filelock import FileLock

        note = shared / "site-build.txt"  # empty once built, else the build's failure
        with FileLock(shared / "site-build.lock"):
            if not note.exists():
                note.write_text(build_site())
            failure = note.read_text()
    if failure:
        pytest.fail(failure)
    return html


def build_site() -> str:
    """Build the book from clean; an empty string, or why it failed."""
    subprocess.run([BIN / "jupyter-book", "clean", str(ROOT)], check=True, capture_output=True)
    build = subprocess.run(
        [BIN / "jupyter-book", "build", str(ROOT), "-W", "-n", "--keep-going"],
        capture_output=True, text=True,
    )
    if build.returncode != 0:
        return f"the book did not build:\n{build.stdout[-6000:]}\n{build.stderr[-3000:]}"
    return ""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging every request."""

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="session")
def server(site: Path) -> Iterator[str]:
    """Serve the built site on 127.0.0.1 from a thread; yields its base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's headless Chromium driven by Playwright (no browser download)."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is not installed: run `make setup` as root or `apt-get install chromium`")
    from playwright.sync_api import sync_playwright

    # Playwright gives every launch a fresh temporary profile and runs headless itself.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[a for a in CHROMIUM_ARGS if a != "--headless"])
        yield browser
        browser.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need the built site first: the build starts at once and, under pytest-xdist, other tests run
    beside it."""
    items.sort(key=lambda item: "site" not in getattr(item, "fixturenames", ()))
