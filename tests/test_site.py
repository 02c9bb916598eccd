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

    # Launch buttons: Binder and Colab, plus the notebook download. No JupyterHub button while no hub is set in
    # _config.yml, and no "Live Code" (it would need an online kernel).
    launch = page.locator(".dropdown-launch-buttons")
    assert launch.count() == 1
    hrefs = " ".join(a.get_attribute("href") or "" for a in launch.locator("a").all())
    for target in ("mybinder.org", "colab.research.google.com"):
        assert target in hrefs, f"no {target} launch link in {hrefs}"
    assert "git-pull" not in hrefs and "example" not in hrefs, f"a JupyterHub button to an unset hub: {hrefs}"
    assert page.locator(".btn-launch-thebe, .thebe-launch-button").count() == 0
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


# ---- Phones and tablets -------------------------------------------------------------------------------------------

def narrow_page(browser, url: str, width: int):
    """A page at a phone or tablet width, with touch."""
    context = browser.new_context(viewport={"width": width, "height": 844}, has_touch=True, is_mobile=width < 600)
    page = context.new_page()
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return context, page


@pytest.mark.parametrize("width", [390, 800])
def test_menu_opens_the_contents_and_a_chapter_link_navigates(browser, server: str, width: int) -> None:
    first, second = chapters()[:2]
    context, page = narrow_page(browser, f"{server}/{first}.html", width)
    menu = [b for b in page.locator("button.primary-toggle").all() if b.is_visible()]
    assert menu, "no visible ☰ button"
    menu[0].tap()
    dialog = page.locator("#pst-primary-sidebar-modal")
    dialog.wait_for(state="visible", timeout=5_000)
    link = dialog.locator(f"a.reference.internal[href$='{Path(second).name}.html']")
    link.first.wait_for(state="visible", timeout=5_000)
    link.first.tap()
    page.wait_for_url(f"**/{second}.html", wait_until="commit", timeout=20_000)
    context.close()


@pytest.mark.parametrize("width", [390, 800])
def test_contents_button_opens_the_page_outline(browser, server: str, width: int) -> None:
    context, page = narrow_page(browser, f"{server}/{chapters()[0]}.html", width)
    buttons = [b for b in page.locator("button.secondary-toggle").all() if b.is_visible()]
    assert buttons, "no visible Contents button"
    buttons[0].tap()
    dialog = page.locator("#pst-secondary-sidebar-modal")
    dialog.wait_for(state="visible", timeout=5_000)
    assert dialog.locator("a.reference.internal").count() >= 3, "the page outline is empty"
    context.close()


@pytest.mark.parametrize("chapter", chapters())
def test_display_equations_do_not_overlap_their_numbers_on_a_phone(browser, server: str, chapter: str) -> None:
    context, page = narrow_page(browser, f"{server}/{chapter}.html", 390)
    page.wait_for_selector("mjx-container", state="attached", timeout=20_000)
    page.wait_for_function("() => !window.MathJax || !MathJax.startup || MathJax.startup.promise", timeout=20_000)
    page.evaluate("() => MathJax.startup.promise")
    overlaps = page.evaluate("""() => {
        const bad = [];
        for (const eq of document.querySelectorAll("article div.math")) {
            const number = eq.querySelector(".eqno"), math = eq.querySelector("mjx-container");
            if (!number || !math) continue;
            const n = number.getBoundingClientRect();
            // The visible part of the equation: its box clipped by the scrolling container.
            const m = math.getBoundingClientRect(), c = eq.getBoundingClientRect();
            const left = Math.max(m.left, c.left), right = Math.min(m.right, c.right);
            const top = Math.max(m.top, c.top), bottom = Math.min(m.bottom, c.bottom);
            if (left < n.right - 1 && n.left + 1 < right && top < n.bottom - 1 && n.top + 1 < bottom)
                bad.push(eq.id + " " + number.textContent.trim());
        }
        return bad;
    }""")
    assert overlaps == [], f"{chapter}: equations overlapping their numbers at 390 px: {overlaps}"
    context.close()


# ---- Nothing goes online unless the reader asks -------------------------------------------------------------------

# Controls whose purpose is to leave the site; following them is not a request made by the page.
LEAVES_ON_PURPOSE = ("https://mybinder.org/", "https://colab.research.google.com/", "https://github.com/",
                     "https://kexue.fm", "https://nbgitpuller.readthedocs.io")


def test_clicking_every_control_of_a_chapter_stays_on_127_0_0_1(browser, server: str) -> None:
    chapter = chapters()[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    requested: list[str] = []
    outside: list[str] = []

    def route(r):
        url = r.request.url
        requested.append(url)
        if url.startswith((server, "data:", "blob:")):
            r.continue_()
        else:
            outside.append(url)
            r.abort()

    context.route("**/*", route)
    page.goto(f"{server}/{chapter}.html")
    page.wait_for_load_state("networkidle")

    def click_all(selector: str) -> int:
        count = 0
        for element in page.locator(selector).all():
            if element.is_visible():
                element.click()
                count += 1
                page.wait_for_timeout(100)
        return count

    # Header buttons: sidebars, full screen, theme, each dropdown (launch, download, repository).
    assert click_all("button.primary-toggle, button.secondary-toggle") >= 1
    page.keyboard.press("Escape")
    click_all("button.theme-switch-button")
    for dropdown in page.locator(".bd-header-article .dropdown-toggle").all():
        if dropdown.is_visible():
            dropdown.click()
            for link in page.locator(".dropdown-menu.show a").all():
                href = link.get_attribute("href") or ""
                if href.startswith("http") and not href.startswith(server):
                    assert href.startswith(LEAVES_ON_PURPOSE), f"a control leaves for an unexpected host: {href}"
            page.keyboard.press("Escape")
    # Page content: folded code, solutions, tabs, the explorer (inactive), figure zoom.
    click_all("article details > summary")
    click_all("article .solution.dropdown button.toggle-button")
    click_all("article .sd-tab-label")
    for img in page.locator("article img.kexue-zoomable").all()[:3]:
        img.click()
        page.locator(".kexue-zoom").click()
    # MathJax's menu, with its accessibility explorer (speech) switched on, then keyboard exploration.
    math = page.locator("article mjx-container").first
    math.click(button="right")
    page.wait_for_timeout(300)
    page.keyboard.press("Escape")
    page.evaluate("""() => {
        const menu = MathJax.startup.document.menu;
        for (const name of ["explorer", "speech", "braille", "collapsible", "assistiveMml"]) {
            const v = menu.menu.pool.lookup(name); if (v) v.setValue(true);
        }
        menu.menu.pool.lookup("locale").setValue("de");  // speech rules of another language: served locally too
    }""")
    math.focus()
    for key in ("Enter", "ArrowDown", "ArrowRight", "Escape"):
        page.keyboard.press(key)
        page.wait_for_timeout(300)
    # Search: the button opens the search box; a query goes to the site's own search page.
    page.keyboard.press("Escape")
    next(b for b in page.locator("button.search-button-field, button.search-button").all() if b.is_visible()).click()
    box = page.locator("input[name=q]:visible").first
    box.fill("logsumexp")
    box.press("Enter")
    page.wait_for_url("**/search.html*", wait_until="commit", timeout=20_000)
    page.wait_for_load_state("networkidle")
    page.locator("#search-results li").first.wait_for(timeout=20_000)
    assert outside == [], f"requests left 127.0.0.1: {sorted(set(outside))}"
    context.close()


# ---- The static explorer ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", chapters())
def test_explorer_is_visibly_inactive_and_its_default_figure_appears_once(browser, server: str, chapter: str) -> None:
    page, errors, outside = open_page(browser, f"{server}/{chapter}.html", (server,))
    page.wait_for_selector(".jupyter-widgets", state="attached", timeout=20_000)
    page.wait_for_selector(".kexue-inactive-note", state="visible", timeout=10_000)
    page.wait_for_timeout(500)
    # Sliders, buttons, dropdowns...: present, greyed, and out of reach of pointer and keyboard (inert).
    assert page.locator(".kexue-inactive .widget-slider, .kexue-inactive .widget-button, .kexue-inactive select, "
                        ".kexue-inactive .widget-toggle-buttons, .kexue-inactive input").count() >= 1
    for root in page.locator(".kexue-inactive").all():
        assert root.get_attribute("inert") is not None and root.get_attribute("aria-disabled") == "true"
        assert float(root.evaluate("el => getComputedStyle(el).opacity")) < 0.7
    for control in page.locator(".kexue-inactive input, .kexue-inactive button, .kexue-inactive select").all():
        assert control.is_disabled(), f"{chapter}: an explorer control is enabled on the static page"
    assert "run" in page.locator(".kexue-inactive-note").first.inner_text().lower()
    # The snapshot of the explorer's output would repeat the static default figure printed just above it.
    visible = [img for img in page.locator(".kexue-inactive img").all() if img.is_visible()]
    assert visible == [], f"{chapter}: the explorer's saved figure repeats the default figure"
    sources = [img.get_attribute("src") for img in page.locator("article img").all() if img.is_visible()]
    repeated = {s for s in sources if sources.count(s) > 1}
    assert not repeated, f"{chapter}: the same image is shown more than once: {repeated}"
    page.close()


# ---- Figures -------------------------------------------------------------------------------------------------------

# matplotlib's default text is 10 pt; the course's figures are drawn at figure.dpi = 110 (kexue.plotting).
TEXT_PX_AT_INTENDED_SIZE = 10 / 72 * 110


@pytest.mark.parametrize("chapter", chapters())
def test_figures_are_sharp_and_their_text_readable(browser, server: str, chapter: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server}/{chapter}.html")
    page.wait_for_load_state("networkidle")
    figures = page.evaluate("""() => [...document.querySelectorAll("article .cell_output img, article figure img")]
        .filter(img => img.offsetParent !== null && img.src.endsWith(".png")).map(img => ({
            src: img.src.split("/").pop(), natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
            intended: parseFloat(img.style.width) || parseFloat(img.getAttribute("width")) || img.naturalWidth,
            aspect: (img.getBoundingClientRect().width / img.getBoundingClientRect().height)
                    / (img.naturalWidth / img.naturalHeight),
            zoomable: img.classList.contains("kexue-zoomable")}))""")
    assert len(figures) >= 3
    for fig in figures:
        # Drawn at twice the size it is laid out for (sharp on HiDPI screens).
        assert fig["natural"] >= 1.9 * fig["intended"], f"{chapter}: {fig['src']} is not a 2x image: {fig}"
        assert abs(fig["aspect"] - 1) < 0.03, f"{chapter}: {fig['src']} is distorted: {fig}"
        text_px = TEXT_PX_AT_INTENDED_SIZE * fig["shown"] / fig["intended"]
        if text_px < 9:
            assert fig["zoomable"], f"{chapter}: {fig['src']} is shrunk (text {text_px:.1f} px) and cannot be enlarged"
    zoomable = page.locator("article img.kexue-zoomable")
    if zoomable.count():
        zoomable.first.click()
        big = page.locator(".kexue-zoom img")
        big.wait_for(state="visible", timeout=5_000)
        assert big.evaluate("img => img.getBoundingClientRect().width") >= 0.9 * float(
            zoomable.first.evaluate("img => parseFloat(img.style.width) || img.naturalWidth"))
        page.keyboard.press("Escape")
        assert page.locator(".kexue-zoom").count() == 0
    context.close()


# ---- Citations -----------------------------------------------------------------------------------------------------

def citations_of(page) -> list[tuple[str, str]]:
    """(citation as printed in the text, text of the reference-list entry it links to) for every citation."""
    return page.evaluate("""() => [...document.querySelectorAll("article span.bibtex-citation")].flatMap(span => {
        const links = [...span.querySelectorAll("a.reference.internal[href^='#']")];
        // "Islam et al. [2020]" links the year only: the label is the whole citation. With several works in one
        // citation ("[Su, 2021, Vaswani et al., 2017]") each link carries its own author and year.
        return links.map(a => [(links.length === 1 ? span : a).textContent.replace(/\\s+/g, " ").trim(),
            document.getElementById(a.getAttribute("href").slice(1)).textContent.replace(/\\s+/g, " ")
                .replace(/^\\[[^\\]]*\\]\\s*(\\([\\d,]+\\))?\\s*/, "").trim()]);
    })""")


def test_citation_labels_are_unambiguous_and_lists_show_no_keys(browser, server: str) -> None:
    seen: dict[str, str] = {}
    for chapter in chapters():
        page, errors, outside = open_page(browser, f"{server}/{chapter}.html", (server,))
        pairs = citations_of(page)
        assert pairs, f"{chapter}: no citation links found"
        for label, entry in pairs:
            assert seen.setdefault(label, entry) == entry, (
                f"'{label}' names two different works:\n  {seen[label]}\n  {entry}")
        references = page.locator("article .bibliography, article #references").all_inner_texts()
        text = " ".join(references)
        assert text.strip(), f"{chapter}: no reference list"
        assert not __import__("re").search(r"\b\d\d-[A-Za-z]", text), f"{chapter}: a citation key shows: {text[:300]}"
        page.close()


# ---- Chapter numbers and the appendix -----------------------------------------------------------------------------

@pytest.mark.parametrize("chapter", chapters())
def test_chapter_number_on_the_page_is_the_file_number(site: Path, chapter: str) -> None:
    import re

    html = (site / f"{chapter}.html").read_text(encoding="utf-8")
    number = int(Path(chapter).name[:2])
    # A title may hold maths (<span class="math">), so take everything up to its permalink.
    heading = re.search(r"<h1>((?:(?!</h1>).)*?)<a class=\"headerlink\"", html, re.S)
    assert heading, f"{chapter}: no title"
    shown = re.match(r"\s*(?:<span class=\"section-number\">)?(\d+)\.", heading.group(1))
    assert shown and int(shown.group(1)) == number, f"{chapter}: title shows {heading.group(1)[:60]!r}"
    # Its sections are numbered under it too (N.1, N.2, ...).
    assert f'<span class="section-number">{number}.1. </span>' in html
    # And the sidebar of another page shows the same number.
    intro = (site / "book" / "intro.html").read_text(encoding="utf-8")
    assert re.search(rf"{Path(chapter).name}\.html\">\s*{number}\. ", intro), f"{chapter}: sidebar number"


# ---- Links for a school's JupyterHub ------------------------------------------------------------------------------

def test_hub_links_page_makes_a_link_for_every_chapter(browser, server: str) -> None:
    page, errors, outside = open_page(browser, f"{server}/book/hub-links.html", (server,))
    page.fill("#hub-address", "hub.example-school.edu/hub/")
    page.click("#hub-links-form button[type=submit]")
    table = page.locator("#hub-links-table")
    table.wait_for(state="visible", timeout=5_000)
    links = [a.get_attribute("href") for a in table.locator("a").all()]
    assert len(links) == len(chapters())
    for link, chapter in zip(links, chapters()):
        assert link.startswith("https://hub.example-school.edu/hub/user-redirect/git-pull?repo="), link
        assert f"{Path(chapter).name}.ipynb" in __import__("urllib.parse").parse.unquote(link), link
        assert "branch=main" in link
    # Nonsense is refused with a message, not turned into links.
    page.fill("#hub-address", "ftp://nope")
    page.click("#hub-links-form button[type=submit]")
    assert table.is_hidden() and "not a web address" in page.locator("#hub-links-message").inner_text()
    assert outside == [] and errors == [], (outside, errors)
    page.close()
