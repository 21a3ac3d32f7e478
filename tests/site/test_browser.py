"""What a reader sees: every page of the built site in headless Chromium, with the network blocked.

Chromium and ChromeDriver come from Debian (`apt-get install chromium chromium-driver`); `.ci/run`
installs them. `CHROME_BIN` and `CHROMEDRIVER` point elsewhere (GitHub's runners ship Google Chrome).
Without a browser this module is skipped with that reason.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import pytest

from sitetools import REPO, run

pytestmark = [pytest.mark.site, pytest.mark.browser]

CHROMIUM = os.environ.get("CHROME_BIN") or shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("no Chromium/ChromeDriver binary found (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost"}
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const ready = () => window.MathJax && MathJax.startup && MathJax.startup.promise;
const start = Date.now();
(function poll() {
  if (ready()) { MathJax.startup.promise.then(() => done(true), () => done(false)); }
  else if (!document.querySelector('.arithmatex, .jp-RenderedMarkdown') || Date.now() - start > 15000) {
    done(false);
  }
  else { setTimeout(poll, 50); }
})();
"""
PAGE_REPORT = """
const done = arguments[arguments.length - 1];
(async () => {
  const content = document.querySelector('.md-content') || document.body;
  // Material gives every code block its copy button when the page is mounted (it would wait
  // for the block to scroll into view only with the content.lazy feature, which is off).
  const blocks = [...content.querySelectorAll('pre > code')].map(code => code.parentElement);
  // The prose: every text node outside code and typeset math (the notebook's hidden copy-button
  // text is code too), collapsed blocks included.
  const skip = 'code, pre, mjx-container, script, style, .clipboard-copy-txt';
  const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest(skip)) parts.push(node.textContent);
  }
  const text = parts.join(' ');
  const raw = [];
  for (const el of content.querySelectorAll('.arithmatex')) {
    if (!el.querySelector('mjx-container')) raw.push(el.textContent.slice(0, 60));
  }
  // Typeset math must also be visible: glyphs drawn (width > 0) wherever the math is rendered.
  for (const c of content.querySelectorAll('mjx-container')) {
    if (c.getClientRects().length && c.getBoundingClientRect().width < 1) raw.push('invisible math');
  }
  for (const marker of ['\\\\(', '\\\\[', '$$', '\\\\frac', '\\\\sum']) {
    if (text.includes(marker)) raw.push('visible ' + marker);
  }
  // Single-dollar math left raw (the notebook's Markdown cells write $...$).
  const dollar = text.match(/\\$[^$\\s][^$]{0,80}\\$/);
  if (dollar) raw.push('visible ' + dollar[0]);
  // Markdown that no extension handled shows up as literal syntax.
  for (const literal of ['--8<--', '++slash++', '!!! ', '??? ', '=== "']) {
    if (text.includes(literal)) raw.push('literal ' + literal);
  }
  // Lazy figures load as they near the viewport. Load every shown one now, as reading the page
  // to its end would (scrolling through it costs seconds of painting per page); the hidden
  // colour scheme's variants and figures in closed blocks stay unloaded, as they do for a reader.
  const shown = () => [...document.images].filter(img => img.getClientRects().length);
  for (const img of shown()) img.loading = 'eager';
  // Then wait (up to 10 s, for a loaded machine) until every shown image has finished loading.
  for (let t = 0; t < 200 && shown().some(img => !img.complete); t++) {
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  const images = shown().filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'));
  const withoutCopy = blocks.filter(pre => !pre.querySelector('.md-clipboard, [data-md-type="copy"]')).length;
  done({raw, images, blocks: blocks.length, withoutCopy});
})();
"""


SERVED: list[tuple[str, int]] = []   # (path, bytes) of every file the server sent


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the built site quietly and counts what it sends, workers' fetches included."""

    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        start = source.tell()
        super().copyfile(source, outputfile)
        SERVED.append((urlparse(self.path).path, source.tell() - start))


@pytest.fixture(scope="module")
def server(built_site, site_port):
    handler = functools.partial(_Quiet, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions",
                 "--window-size=1280,900",
                 # Every host but loopback fails to resolve: the site must need no network.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)   # PAGE_REPORT scrolls long pages and waits for lazy figures
    yield driver
    driver.quit()


def _pages(site):
    # The print view (every page on one, print_page/) has its own test, which reads it the same way.
    return sorted(p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")
                  if "assets" not in p.parts and "search" not in p.parts and p.parent.name != "print_page")


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _settle(seconds: float = 0.2) -> None:
    """Wait until the server has sent nothing for ``seconds`` (late fetches: search, fonts)."""
    last, quiet_since = len(SERVED), time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        time.sleep(0.05)
        if len(SERVED) != last:
            last, quiet_since = len(SERVED), time.monotonic()


SHARDS = 4   # the pages are read in four interleaved quarters, which pytest-xdist can share out


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_page_renders_offline(built_site, server, browser, shard):
    """Every page, loaded cold (no browser cache): typeset, images loaded, no errors, and weighed.

    Each quarter of the pages (every fourth page, from page ``shard``) is one test, and the
    median page weight is checked in each: if no quarter's median is over the limit, the whole
    site's median is not either."""
    problems, weights = {}, {}
    every = _pages(built_site)
    assert len(every) > 60
    pages = every[shard::SHARDS]
    browser.get_log("browser"), browser.get_log("performance")  # start clean
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    _settle()
    for page in pages:   # each page's last _settle() is the next one's quiet start
        url = f"{server}/{page}/" if page != "." else f"{server}/"
        SERVED.clear()
        browser.get(url)
        browser.execute_async_script(WAIT_FOR_MATHJAX)
        _settle()
        at_load = sum(n for _, n in SERVED), len(SERVED)
        report = browser.execute_async_script(PAGE_REPORT)   # reads the page to its end
        _settle()
        weights[page] = (*at_load, sum(n for _, n in SERVED),
                         any("/generated/mathjax/" in path for path, _ in SERVED))
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        remote = [u for u in _requests(browser)
                  if urlparse(u).scheme in {"http", "https"} and urlparse(u).hostname not in LOOPBACK]
        found = {k: v for k, v in {"raw TeX or Markdown": report["raw"], "broken images": report["images"],
                                   "code blocks without copy button": report["withoutCopy"],
                                   "console errors": errors, "remote requests": remote}.items() if v}
        if found:
            problems[page] = found
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    _report_weights(built_site, weights)
    assert not problems, problems
    median = statistics.median(n for n, *_ in weights.values())
    assert median <= 1.5e6, f"the median page weighs {median / 1e6:.2f} MB at load (all transfers)"
    no_math = [p for p, (*_, mathjax) in weights.items() if mathjax and not _has_math(built_site, p)]
    assert not no_math, f"pages without math load MathJax: {no_math}"


def _page_html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


def _has_math(site: Path, page: str) -> bool:
    html = _page_html(site, page)
    return 'class="arithmatex"' in html or "jp-RenderedMarkdown" in html and "$" in html


def _report_weights(site: Path, weights: dict) -> None:
    """Print every page's weight: at load, and once the reader has scrolled to its end (lazy
    figures fetched). Cold cache, all transfers, uncompressed bytes; heaviest first."""
    lines = [f"{n / 1e6:6.2f} MB {k:3d} requests {end / 1e6:6.2f} MB read through  "
             f"{'MathJax ' if m else '        '}{page}"
             for page, (n, k, end, m) in sorted(weights.items(), key=lambda kv: -kv[1][0])]
    load = [n for n, *_ in weights.values()]
    end = [e for _, _, e, _ in weights.values()]
    print("\nPage weights (cold cache, all transfers, uncompressed):\n" + "\n".join(lines)
          + f"\nmedian at load {statistics.median(load) / 1e6:.2f} MB, "
          f"read through {statistics.median(end) / 1e6:.2f} MB over {len(load)} pages")


def test_math_is_typeset(built_site, server, browser):
    browser.get(f"{server}/part-2-activations/q07-popular-activation-functions/")
    assert browser.execute_async_script(WAIT_FOR_MATHJAX)
    assert browser.find_elements(By.CSS_SELECTOR, ".arithmatex mjx-container")


def test_math_is_typeset_again_after_instant_navigation(built_site, server, browser):
    """Material swaps pages without reloading scripts; MathJax must typeset each new page."""
    browser.get(f"{server}/part-4-gradients/q37-xavier-and-he-initialization/")
    assert browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.execute_script("window.__sameDocument = true")
    link = browser.find_element(By.CSS_SELECTOR, 'a[href$="q14-vanishing-gradients/"]')
    browser.execute_script("arguments[0].click()", link)
    WebDriverWait(browser, 20).until(lambda d: "q14-vanishing-gradients" in d.current_url)
    assert browser.execute_script("return window.__sameDocument === true"), "expected instant navigation"
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "const c = [...document.querySelectorAll('.md-content mjx-container')]"
        ".filter(c => c.getClientRects().length);"
        "return c.length > 0 && c.every(c => c.getBoundingClientRect().width >= 1)"))


def test_code_blocks_have_copy_buttons(built_site, server, browser):
    browser.get(f"{server}/part-2-activations/q07-popular-activation-functions/")
    report = browser.execute_async_script(PAGE_REPORT)
    assert report["blocks"] > 0 and report["withoutCopy"] == 0


def _search(browser, server, query) -> list[tuple[str, str]]:
    """(href, preview text) of the search results for ``query``, best first."""
    browser.get(f"{server}/part-6-gradient-descent/q10-gradient-descent/")
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    if not box.is_displayed():
        browser.find_element(By.CSS_SELECTOR, "label.md-search__icon").click()
    box.send_keys(query)
    results = ".md-search-result__item > a"
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, results))
    time.sleep(0.3)   # results are rendered as they come
    return [(a.get_attribute("href"), a.text) for a in browser.find_elements(By.CSS_SELECTOR, results)]


@pytest.mark.parametrize("query, page", [("Adam", "q31-adam"), ("ReLU", "q07-popular-activation-functions"),
                                         ("bias correction", "q31-adam"),
                                         ("vanishing", "q14-vanishing-gradients")])
def test_search_puts_the_answer_first(built_site, server, browser, query, page):
    """The answer comes first (not the gallery, the home index or the notebook), and its
    preview is the 30-second answer, not the difficulty tag."""
    results = _search(browser, server, query)
    href, preview = results[0]
    assert page in href, [h for h, _ in results[:5]]
    words = preview.split()
    assert len(words) > 15 and words[-1].lower() not in {"easy", "medium", "hard"}, preview


@pytest.mark.parametrize("query, page, within", [("Q31", "q31-adam", 3)])
def test_search_finds_a_question_by_number(built_site, server, browser, query, page, within):
    links = [href for href, _ in _search(browser, server, query)]
    assert any(page in href for href in links[:within]), links


@pytest.fixture
def phone(browser):
    """The browser as a phone: 390 x 844 CSS px at 3x, touch, overlay scrollbars; then restored."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    yield browser
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


PHONE_REPORT = """
const content = document.querySelector('.md-content');
const width = document.documentElement.clientWidth;
const out = {pageOverflow: document.documentElement.scrollWidth - width, cut: []};
// Anything wider than the screen must sit in a box that fits the screen and scrolls sideways.
const inScrollBox = el => {
  for (let e = el; e && e !== content; e = e.parentElement) {
    const scrolls = ['auto', 'scroll'].includes(getComputedStyle(e).overflowX);
    if (scrolls && e.getBoundingClientRect().right <= width + 1) return true;
  }
  return false;
};
for (const el of content.querySelectorAll('div.arithmatex, table, pre')) {
  if (el.getBoundingClientRect().right > width + 1 && !inScrollBox(el)) {
    out.cut.push(el.outerHTML.slice(0, 80));
  }
}
return out;
"""


@pytest.mark.parametrize("page", ["part-7-adaptive-optimizers/q31-adam",
                                  "part-2-activations/q07-popular-activation-functions", "."])
def test_nothing_is_cut_off_on_a_phone(built_site, server, phone, page):
    phone.get(f"{server}/{page}/" if page != "." else f"{server}/")
    phone.execute_async_script(WAIT_FOR_MATHJAX)
    time.sleep(0.5)   # MathJax's and Material's layout settle
    report = phone.execute_script(PHONE_REPORT)
    assert report["pageOverflow"] <= 1 and not report["cut"], report


def test_home_index_is_readable_on_a_phone(built_site, server, phone):
    phone.get(f"{server}/")
    ratios = phone.execute_script(
        "return [...document.querySelectorAll('.dl-index table')].map(t => "
        "t.rows[1].cells[0].getBoundingClientRect().width / t.getBoundingClientRect().width)")
    assert ratios and max(ratios) < 0.2, ratios


STUB_PAGES = {
    "index.md": "---\nsearch:\n  exclude: true\n---\n# Home\n\nStart with [Q1](a/written.md).\n",
    "a/written.md": "---\nstate: complete\ndifficulty: easy\n---\n# Q1. Written\n\n"
                    "The next answer, [Q2](unwritten.md), is not written.\n",
    "a/unwritten.md": "---\nstate: todo\nnearest:\n  - a/written.md\n---\n# Q2. Unwritten\n\n"
                      '!!! warning "Not written yet"\n    This answer has not been written yet.\n',
}


@pytest.fixture(scope="module")
def stub_server(tmp_path_factory):
    """A two-answer site, one unwritten, built with the handbook's own configuration and hooks.

    (Every answer of the handbook itself is written, so the marking of unwritten pages is shown
    on a small site that inherits mkdocs.yml.)
    """
    root = tmp_path_factory.mktemp("stub")
    for name in ("stylesheets", "javascripts"):
        shutil.copytree(REPO / "docs" / name, root / "docs" / name)
    for uri, text in STUB_PAGES.items():
        (root / "docs" / uri).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / uri).write_text(text)
    (root / "mkdocs.yml").write_text(
        f"INHERIT: {REPO / 'mkdocs.yml'}\ndocs_dir: docs\n"
        f"hooks: [{REPO / 'snippets/dlhandbook/site/hooks.py'}]\n"
        f"theme:\n  custom_dir: {REPO / 'snippets/dlhandbook/site/overrides'}\nwatch: []\n"
        "nav:\n  - Home: index.md\n  - Part A:\n"
        '    - "Q1. Written": a/written.md\n    - "Q2. Unwritten": a/unwritten.md\n')
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root / "site")))
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(root / "mkdocs.yml"),
        "--site-dir", str(root / "site"), SITE_URL=f"{url}/")
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield url
    httpd.shutdown()


def test_unwritten_pages_are_marked_where_readers_meet_them(stub_server, browser):
    """In the sidebar, in links from written pages, in prev/next; and an unwritten page links to
    the written answers nearest it."""
    browser.get(f"{stub_server}/a/written/")
    sidebar = browser.execute_script(
        "return [...document.querySelectorAll('.md-sidebar--primary a.md-nav__link')]"
        ".filter(a => a.href.endsWith('/a/unwritten/')).map(a => a.textContent.trim())")
    assert sidebar and all("(unwritten)" in t for t in sidebar), sidebar
    marked = browser.execute_script(
        "return [...document.querySelectorAll('.md-content a[href$=\"unwritten/\"]')]"
        ".map(a => a.classList.contains('dl-unwritten') && "
        "getComputedStyle(a, '::after').content.includes('unwritten'))")
    assert marked and all(marked), marked
    nxt = browser.find_element(By.CSS_SELECTOR, ".md-footer__link--next").get_attribute("aria-label")
    assert "(unwritten)" in nxt, nxt
    browser.get(f"{stub_server}/a/unwritten/")
    nearest = browser.execute_script(
        "return [...document.querySelectorAll('.md-content a')].filter(a => "
        "a.href.endsWith('/a/written/') && !a.classList.contains('dl-unwritten')).length")
    assert nearest >= 1


NOTEBOOK = "generated/notebooks/activation-playground"


def test_notebook_math_is_typeset_and_it_can_be_downloaded(built_site, server, browser):
    browser.get(f"{server}/part-2-activations/q07-popular-activation-functions/")
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    browser.get_log("browser")
    link = browser.find_element(By.CSS_SELECTOR, f'a[href*="{NOTEBOOK}/"]')
    browser.execute_script("window.__sameDocument = true; arguments[0].click()", link)
    WebDriverWait(browser, 20).until(lambda d: NOTEBOOK in d.current_url)
    assert browser.execute_script("return window.__sameDocument === true"), "expected instant navigation"
    WebDriverWait(browser, 20).until(lambda d: d.execute_script(
        "return document.querySelectorAll('.jp-RenderedMarkdown mjx-container').length > 3"))
    report = browser.execute_async_script(PAGE_REPORT)
    assert not report["raw"], report["raw"]
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    download = browser.find_element(By.CSS_SELECTOR, 'a[href$=".ipynb"]').get_attribute("href")
    with urlopen(download) as response:
        assert json.loads(response.read())["cells"]


def test_only_the_active_colour_schemes_figures_are_fetched(built_site, server, browser):
    browser.get(f"{server}/part-7-adaptive-optimizers/q31-adam/")
    browser.execute_async_script(PAGE_REPORT)   # scrolls through the page
    browser.get_log("performance")
    _settle()
    SERVED.clear()
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    browser.refresh()
    browser.execute_async_script(PAGE_REPORT)
    _settle()
    browser.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    scheme = browser.execute_script("return document.body.dataset.mdColorScheme")
    svgs = [path for path, _ in SERVED if path.endswith(".svg")]
    light = [p for p in svgs if not p.endswith(".dark.svg")]
    dark = [p for p in svgs if p.endswith(".dark.svg")]
    active, inactive = (light, dark) if scheme == "default" else (dark, light)
    assert active and not inactive, (scheme, svgs)


def test_printing_expands_the_follow_up_answers(built_site, server, browser):
    browser.get(f"{server}/part-7-adaptive-optimizers/q31-adam/")
    hidden = "return [...document.querySelectorAll('details:not([open]) > :not(summary)')]" \
             ".filter(el => !el.checkVisibility()).length"
    assert browser.execute_script(hidden) > 0   # collapsed on screen
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert browser.execute_script(hidden) == 0
        figures = browser.execute_script(
            "return [...document.querySelectorAll('.md-content img')].filter(i => i.getClientRects().length)"
            ".length")
        assert figures > 0
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


# ---------------------------------------------------------------- revision tools (issue 13)

from selenium.webdriver.common.keys import Keys  # noqa: E402

from dlhandbook.site import revision  # noqa: E402
from sitetools import mkdocs_config  # noqa: E402


def _answer_pages() -> list[tuple[str, str, str]]:
    """(site URL from the root, difficulty, part) of every page in the nav's parts, in nav order,
    read from mkdocs.yml and the pages' front matter (not from the built site)."""
    from mkdocs.utils.meta import get_data

    out = []
    for part, uris in revision.parts(mkdocs_config()["nav"]):
        for uri in uris:
            _, meta = get_data((REPO / "docs" / uri).read_text(encoding="utf-8"))
            out.append((uri.removesuffix(".md") + "/", meta.get("difficulty", ""), part))
    return out


VISIBLE_ROWS = ("return [...document.querySelectorAll('.dl-index tr[data-dl-page]')]"
                ".filter(r => r.getClientRects().length).map(r => r.dataset.dlPage)")
VISIBLE_PARTS = ("return [...document.querySelectorAll('.dl-index h2')]"
                 ".filter(h => h.getClientRects().length)"
                 ".map(h => h.textContent.replace('\\u00b6', '').trim())")


def _progress(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, ".dl-review-progress").text


def test_cheat_sheet_lists_every_answer_page_with_its_difficulty_and_link(built_site, server, browser):
    """Every page of every part, in nav order, grouped under its part, with its front matter's
    difficulty and a working link to it; its math typeset; its answers the pages' own text."""
    pages = _answer_pages()
    assert len(pages) >= 63
    browser.get(f"{server}/cheat-sheet/")
    assert browser.execute_async_script(WAIT_FOR_MATHJAX)
    items = browser.execute_script(
        "return [...document.querySelectorAll('.dl-cheat__item')].map(i => ["
        "i.querySelector('.dl-cheat__meta a').href, i.querySelector('.dl-difficulty').textContent.trim(),"
        "i.closest('.dl-cheat') && [...document.querySelectorAll('.dl-cheat h2, .dl-cheat__item')]"
        ".filter(e => e.tagName === 'H2' && (e.compareDocumentPosition(i) & 4)).pop().textContent"
        ".replace('\\u00b6', '').trim()])")
    assert items == [[f"{server}/{url}", level, part] for url, level, part in pages]
    for href, *_ in items:
        assert (built_site / urlparse(href).path.strip("/") / "index.html").is_file(), href
    report = browser.execute_async_script(PAGE_REPORT)
    assert not report["raw"], report["raw"]
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    # The sheet's answer to Q6 (which links to Q8 and Q12) is the text of Q6's own section.
    text = ("const h = document.getElementById('answer-in-30-seconds'); const out = [];"
            "for (let e = h.nextElementSibling; e && e.tagName !== 'H2'; e = e.nextElementSibling)"
            " out.push(e.textContent); return out.join(' ').replace(/\\s+/g, ' ').trim()")
    on_sheet = browser.execute_script(
        "const a = document.querySelector('.dl-cheat__meta a[href$=\"q06-activation-function/\"]');"
        "const i = a.closest('.dl-cheat__item'); return [...i.children].filter(e => e.tagName === 'P'"
        " && !e.classList.contains('dl-cheat__meta')).map(e => e.textContent).join(' ')"
        ".replace(/\\s+/g, ' ').trim()")
    links = browser.execute_script(
        "const a = document.querySelector('.dl-cheat__meta a[href$=\"q06-activation-function/\"]');"
        "return [...a.closest('.dl-cheat__item').querySelectorAll('p:not(.dl-cheat__meta) a')]"
        ".map(a => a.href)")
    assert links and all((built_site / urlparse(h).path.strip("/") / "index.html").is_file() for h in links)
    browser.get(f"{server}/part-2-activations/q06-activation-function/")
    browser.execute_async_script(WAIT_FOR_MATHJAX)
    assert on_sheet == browser.execute_script(text)


def test_cheat_sheet_prints_on_few_pages(built_site, server, browser):
    """Two columns of small type and narrow margins in print: every answer on at most 10 pages
    (Letter; 9 in Chromium 156, where Material's print style alone takes 24)."""
    import base64

    browser.get(f"{server}/cheat-sheet/")
    assert browser.execute_async_script(WAIT_FOR_MATHJAX)
    pdf = base64.b64decode(browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})["data"])
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 0 < pages <= 10, pages


def test_cheat_sheet_is_not_cut_off_on_a_phone(built_site, server, phone):
    phone.get(f"{server}/cheat-sheet/")
    phone.execute_async_script(WAIT_FOR_MATHJAX)
    time.sleep(0.5)
    report = phone.execute_script(PHONE_REPORT)
    assert report["pageOverflow"] <= 1 and not report["cut"], report


def test_home_index_filters_by_difficulty_and_part_with_the_keyboard(built_site, server, browser):
    pages = _answer_pages()
    browser.get(f"{server}/")
    assert browser.execute_script(VISIBLE_ROWS) == [url for url, *_ in pages]
    hard = browser.find_element(By.CSS_SELECTOR, ".dl-filters button[data-level='hard']")
    hard.send_keys(Keys.ENTER)
    assert hard.get_attribute("aria-pressed") == "true"
    expected = [url for url, level, _ in pages if level == "hard"]
    assert expected and browser.execute_script(VISIBLE_ROWS) == expected
    parts = list(dict.fromkeys(part for _, level, part in pages if level == "hard"))
    assert browser.execute_script(VISIBLE_PARTS) == parts   # parts without a hard question hidden
    # The part filter: arrow keys on the focused select (Part I is one step down from "All parts").
    select = browser.find_element(By.CSS_SELECTOR, ".dl-filters select")
    all_parts = list(dict.fromkeys(part for *_, part in pages))
    target = all_parts.index("Part VII. Second-order and adaptive optimizers") + 1
    for _ in range(target):
        select.send_keys(Keys.ARROW_DOWN)
    WebDriverWait(browser, 5).until(lambda d: d.execute_script(
        "return document.querySelector('.dl-filters select').selectedIndex") == target)
    expected = [url for url, level, part in pages if level == "hard" and part == all_parts[target - 1]]
    assert len(expected) >= 2 and browser.execute_script(VISIBLE_ROWS) == expected
    browser.find_element(By.CSS_SELECTOR, ".dl-filters button[data-level='']").send_keys(Keys.SPACE)
    expected = [url for url, _, part in pages if part == all_parts[target - 1]]
    assert browser.execute_script(VISIBLE_ROWS) == expected
    assert browser.execute_script(VISIBLE_PARTS) == [all_parts[target - 1]]
    assert f"{len(expected)} shown" in _progress(browser)


def _instant_click(driver, selector: str, url_part: str) -> None:
    from selenium.webdriver.support.expected_conditions import staleness_of

    old = driver.find_element(By.CSS_SELECTOR, "article")   # replaced when the new page is in
    link = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].click()", link)
    WebDriverWait(driver, 20).until(lambda d: url_part in d.current_url)
    WebDriverWait(driver, 20).until(staleness_of(old))
    assert driver.execute_script("return window.__sameDocument === true"), "expected instant navigation"


def test_review_marks_survive_reload_and_instant_navigation(built_site, server, browser):
    """Marked on the home index by keyboard, kept over a reload, shown on the answer page after
    instant navigation, changed there and on the next page, and the index agrees afterwards."""
    total = len(_answer_pages())
    adam, adamw = "part-7-adaptive-optimizers/q31-adam/", "part-7-adaptive-optimizers/q32-adamw/"
    browser.get(f"{server}/")
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    assert _progress(browser) == f"0 of {total} reviewed"
    box = f".dl-index tr[data-dl-page='{adam}'] .dl-review-box"
    browser.find_element(By.CSS_SELECTOR, box).send_keys(Keys.SPACE)
    assert _progress(browser) == f"1 of {total} reviewed"
    browser.refresh()
    assert browser.find_element(By.CSS_SELECTOR, box).is_selected()
    assert _progress(browser) == f"1 of {total} reviewed"
    # Instant navigation to the answer: its toggle, under the title, says it is reviewed.
    browser.execute_script("window.__sameDocument = true")
    _instant_click(browser, f".dl-index a[href$='/{adam}']", "q31-adam")
    toggle = browser.find_element(By.CSS_SELECTOR, "article > h1 + p .dl-review-toggle")
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.send_keys(Keys.ENTER)   # un-mark Q31 ...
    assert toggle.get_attribute("aria-pressed") == "false"
    _instant_click(browser, ".md-footer__link--next", "q32-adamw")
    toggle = browser.find_element(By.CSS_SELECTOR, "article > h1 + p .dl-review-toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.send_keys(Keys.ENTER)   # ... and mark Q32 on its page
    assert toggle.get_attribute("aria-pressed") == "true"
    _instant_click(browser, "a.md-header__button.md-logo", f"{server}/")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".dl-review-progress"))
    assert _progress(browser) == f"1 of {total} reviewed"
    assert not browser.find_element(By.CSS_SELECTOR, box).is_selected()
    assert browser.find_element(By.CSS_SELECTOR,
                                f".dl-index tr[data-dl-page='{adamw}'] .dl-review-box").is_selected()
    browser.refresh()
    assert _progress(browser) == f"1 of {total} reviewed"
    browser.execute_script("localStorage.clear()")
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_self_test_reveals_follow_up_answers_one_by_one_by_keyboard(built_site, server, browser):
    browser.get(f"{server}/part-7-adaptive-optimizers/q31-adam/")
    state = ("const h = document.getElementById('follow-up-questions'); const out = [];"
             "for (let e = h.nextElementSibling; e && e.tagName !== 'H2'; e = e.nextElementSibling)"
             " if (e.tagName === 'DETAILS') out.push(e.open && [...e.children]"
             ".some(c => c.tagName !== 'SUMMARY' && c.checkVisibility())); return out")
    blocks = len(browser.execute_script(state))
    assert blocks >= 2
    browser.execute_script("document.querySelector('#follow-up-questions ~ details').open = true")
    toggle = browser.find_element(By.CSS_SELECTOR, ".dl-self-test__toggle")
    reveal = browser.find_element(By.CSS_SELECTOR, ".dl-self-test__next")
    assert toggle.get_attribute("aria-pressed") == "false" and not reveal.is_displayed()
    toggle.send_keys(Keys.ENTER)
    assert toggle.get_attribute("aria-pressed") == "true"
    assert browser.execute_script(state) == [False] * blocks   # every answer collapsed
    assert reveal.is_displayed()
    for k in range(1, blocks + 1):
        reveal.send_keys(Keys.ENTER)
        expected = [True] * k + [False] * (blocks - k)   # the first k revealed, in order
        WebDriverWait(browser, 5).until(lambda d, expected=expected: d.execute_script(state) == expected)
        status = browser.find_element(By.CSS_SELECTOR, ".dl-self-test__status").text
        assert status == f"{k} of {blocks} answers revealed", status
    assert not reveal.is_enabled()
    # The last answer revealed, focus moves to it, and the focus is visible.
    focus = browser.execute_script(
        "const a = document.activeElement; return [a.tagName, a.matches(':focus-visible'),"
        "getComputedStyle(a).outlineStyle, parseFloat(getComputedStyle(a).outlineWidth)]")
    assert focus[0] == "SUMMARY" and focus[1] and focus[2] != "none" and focus[3] > 0, focus
    toggle.send_keys(Keys.ENTER)   # end the self-test: answers collapsed again, no reveal button
    assert toggle.get_attribute("aria-pressed") == "false" and not reveal.is_displayed()
    assert browser.execute_script(state) == [False] * blocks
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_cheat_sheet_filters_by_difficulty_and_hides_reviewed_answers(built_site, server, browser):
    pages = _answer_pages()
    shown = ("return [...document.querySelectorAll('.dl-cheat__item')].filter(i => i.getClientRects().length)"
             ".map(i => i.querySelector('.dl-cheat__meta a').href)")
    browser.get(f"{server}/")
    browser.execute_script("localStorage.clear()")
    browser.find_element(
        By.CSS_SELECTOR, ".dl-index tr[data-dl-page='part-7-adaptive-optimizers/q31-adam/'] .dl-review-box"
    ).send_keys(Keys.SPACE)
    browser.get(f"{server}/cheat-sheet/")
    browser.find_element(By.CSS_SELECTOR, ".dl-filters button[data-level='hard']").send_keys(Keys.ENTER)
    hard = [f"{server}/{url}" for url, level, _ in pages if level == "hard"]
    assert hard and browser.execute_script(shown) == hard
    browser.find_element(By.CSS_SELECTOR, ".dl-filters button[data-level='']").send_keys(Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, ".dl-filters__unreviewed").send_keys(Keys.SPACE)
    rest = [f"{server}/{url}" for url, *_ in pages if url != "part-7-adaptive-optimizers/q31-adam/"]
    assert browser.execute_script(shown) == rest
    assert _progress(browser) == f"{len(rest)} of {len(pages)} answers shown"
    browser.execute_script("localStorage.clear()")


# ---------------------------------------------------------------- the print view (issue 13)

from fnmatch import fnmatch  # noqa: E402

from sitetools import nav_uris  # noqa: E402

PRINT_PAGE = "print_page/"
# On the print page, with print media emulated: every follow-up open and shown, figures (light
# variants only) displayed and loaded, no navigation chrome.
PRINT_REPORT = """
const done = arguments[arguments.length - 1];
(async () => {
  const shown = (el) => el.checkVisibility();
  const figures = () => [...document.querySelectorAll('#print-site-page img')]
    .filter(img => img.getAttribute('src').includes('generated/figures/'));
  for (let t = 0; t < 200 && figures().some(img => !img.complete); t++) {
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  const details = [...document.querySelectorAll('#print-site-page details')];
  const chrome = ['.md-header', '.md-sidebar--primary', '.md-sidebar--secondary', '.md-footer', '.md-tabs',
                  '.md-search', '.dl-filters', '.dl-review-toggle', '.dl-self-test', '.md-top'];
  done({
    details: details.length,
    closed: details.filter(d => !d.open || [...d.children].some(c => c.tagName !== 'SUMMARY' && !shown(c)))
      .map(d => d.querySelector('summary').textContent),
    light: figures().filter(img => !img.src.includes('.dark.svg')).length,
    dark: figures().filter(img => img.src.includes('.dark.svg') && shown(img)).map(img => img.src),
    hidden: figures().filter(img => !img.src.includes('.dark.svg') && !shown(img)).map(img => img.src),
    broken: figures().filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    chrome: chrome.filter(sel => [...document.querySelectorAll(sel)].some(shown)),
    present: chrome.filter(sel => document.querySelector(sel)).length,
    scheme: document.body.dataset.mdColorScheme,
  });
})();
"""


def _print_page_titles() -> list[str]:
    """The H1 of every nav page the print view includes (those its ``exclude`` leaves), in order."""
    from mkdocs.utils.meta import get_data

    plugin = next(p["print-site"] for p in mkdocs_config()["plugins"]
                  if isinstance(p, dict) and "print-site" in p)
    titles = []
    for uri in nav_uris():
        if any(fnmatch(uri, pattern) for pattern in plugin.get("exclude", [])):
            continue
        body, _ = get_data((REPO / "docs" / uri).read_text(encoding="utf-8"))
        titles.append(next(line[2:].strip() for line in body.splitlines() if line.startswith("# ")))
    return titles


def test_print_view_is_the_whole_handbook_in_light_figures_with_follow_ups_open(built_site, server, browser):
    """/print_page/ in one load, with the site set to the dark scheme: every nav page's H1 in nav
    order, math typeset, no raw TeX or Markdown, code with copy buttons; printed (emulated), every
    follow-up open, only light figures shown and all loaded, the dark ones never fetched, no
    navigation chrome; no console error, nothing remote."""
    titles = _print_page_titles()
    assert len(titles) >= 60 and titles[0] == "Deep Learning Interview Handbook"
    browser.get(f"{server}/404.html")   # a light page of the site, to choose the dark scheme on
    browser.execute_script("__md_set('__palette', {index: 1, color: {media: '(prefers-color-scheme: dark)',"
                           " scheme: 'slate', primary: 'indigo', accent: 'indigo'}})")
    browser.get_log("browser"), browser.get_log("performance")   # start clean
    _settle()
    SERVED.clear()
    # The whole handbook is one long page: 30 s to load and as long to read through on a busy 2-core CPU.
    browser.set_page_load_timeout(240)
    browser.set_script_timeout(240)
    try:
        browser.get(f"{server}/{PRINT_PAGE}")
        assert browser.execute_async_script(WAIT_FOR_MATHJAX), "MathJax did not typeset the print page"
        page = browser.execute_async_script(PAGE_REPORT)   # as test_every_page_renders_offline reads pages
    finally:
        browser.set_page_load_timeout(60)
        browser.set_script_timeout(60)
    assert not page["raw"] and not page["images"] and page["blocks"] > 100 and not page["withoutCopy"], page
    on_page = browser.execute_script(
        "return [...document.querySelectorAll('#print-site-page section.print-page:not(.md-section) > h1')]"
        ".map(h => h.textContent.replace('\\u00b6', '').trim())")
    assert on_page == titles
    raw = browser.execute_script(
        "return [...document.querySelectorAll('#print-site-page .arithmatex')]"
        ".filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))")
    assert not raw, raw[:5]
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        report = browser.execute_async_script(PRINT_REPORT)
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
        browser.execute_script("localStorage.clear()")
    _settle()
    assert report["scheme"] == "default", "the print view is not in the light scheme"
    assert report["details"] >= 2 * len(titles) and not report["closed"], report["closed"][:5]
    assert report["light"] >= 50 and not report["dark"] and not report["hidden"], report
    assert not report["broken"], report["broken"][:5]
    assert report["present"] >= 4 and not report["chrome"], report["chrome"]
    fetched_dark = [path for path, _ in SERVED if path.endswith(".dark.svg")]
    assert not fetched_dark, fetched_dark[:5]
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    remote = [u for u in _requests(browser)
              if urlparse(u).scheme in {"http", "https"} and urlparse(u).hostname not in LOOPBACK]
    assert not remote, remote


def test_print_view_is_linked_from_the_home_page_and_not_searched(built_site):
    """The home page links the print view; its one long page is not in the search index (every
    query would match it); its HTML has no dark figure to fetch, no "Full file" block, no code left
    aside, and every collapsible block open."""
    import re

    html = _page_html(built_site, PRINT_PAGE)
    assert "data-dl-print" in html and "<pre" in html
    assert not re.search(r'<img[^>]*\.dark\.svg', html) and "<summary>Full file:" not in html
    assert "dl-print-code:" not in html and not re.search(r"<details(?![^>]*\bopen\b)[\s>]", html)
    assert f'href="{PRINT_PAGE}"' in _page_html(built_site, ".")
    index = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert not [d["location"] for d in index["docs"] if d["location"].startswith(PRINT_PAGE)]
