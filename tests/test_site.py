"""The built site: it builds with warnings as errors, and every page works offline in headless Chromium."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import chapters, toc_files

pytestmark = pytest.mark.slow


def open_page(browser, url: str, allowed_prefixes: tuple[str, ...]):
    """Open ``url`` in a fresh page, blocking and recording requests that leave the allowed prefixes."""
    page = browser.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r):
        if r.request.url.startswith(allowed_prefixes + ("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url)
    return page, errors, outside


@pytest.mark.parametrize("doc", toc_files())
def test_page_is_offline_and_clean(browser, server: str, doc: str) -> None:
    page, errors, outside = open_page(browser, f"{server}/{doc}.html", (server,))
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)
    assert outside == [], f"{doc} requested resources outside 127.0.0.1: {outside}"
    assert errors == [], f"{doc} logged console errors: {errors}"
    # Every image in the article (figures, not the theme's icons) has a real description.
    for img in page.locator("article img").all():
        alt = (img.get_attribute("alt") or "").strip()
        src = (img.get_attribute("src") or "")[:80]
        assert alt and not alt.startswith("<Figure"), f"{doc}: image {src} lacks alt text"
    page.close()


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_page(browser, server: str, chapter: str) -> None:
    page, errors, outside = open_page(browser, f"{server}/{chapter}.html", (server,))
    page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    assert page.locator("article mjx-container").count() > 5, "too little rendered math"
    assert page.locator("article figure img, article .cell_output img").count() >= 3, "too few figures"
    # The explorer's saved widget state is drawn by the vendored widget manager.
    page.wait_for_selector(".jupyter-widgets", state="attached", timeout=20_000)

    # Launch buttons: Binder, JupyterHub, Colab, and live code (Thebe), plus the notebook download.
    launch = page.locator(".dropdown-launch-buttons")
    assert launch.count() == 1
    hrefs = " ".join(a.get_attribute("href") or "" for a in launch.locator("a").all())
    for target in ("mybinder.org", "hub/user-redirect/git-pull", "colab.research.google.com"):
        assert target in hrefs, f"no {target} launch link in {hrefs}"
    assert page.locator(".dropdown-launch-buttons .btn-launch-thebe, button.btn-launch-thebe").count() >= 1
    assert f"{chapter}.ipynb" in page.locator(".dropdown-download-buttons").inner_html()

    # Exercises: at least four, and each solution stays hidden until its toggle is clicked.
    assert page.locator("article .exercise").count() >= 4
    solutions = page.locator("article .solution.dropdown")
    assert solutions.count() >= page.locator("article .exercise").count()
    for solution in solutions.all():
        assert not solution.locator("#solution-content").is_visible(), "a solution shows before it is clicked"
    first = solutions.first
    first.locator("button.toggle-button").click()
    first.locator("#solution-content").wait_for(state="visible", timeout=5_000)

    assert outside == [] and errors == [], (outside, errors)
    page.close()


def test_site_works_from_disk(browser, site: Path) -> None:
    """Opened straight from disk (a copy on a USB stick), a chapter still renders its math."""
    url = (site / f"{chapters()[0]}.html").as_uri()
    page, errors, outside = open_page(browser, url, ("file://",))
    page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    assert outside == [], outside
    page.close()


def test_status_page_lists_every_chapter(site: Path) -> None:
    html = (site / "book" / "status.html").read_text(encoding="utf-8")
    for chapter in chapters():
        assert Path(chapter).name in html, f"{chapter} missing from the execution table"
