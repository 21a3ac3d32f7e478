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
import threading
from urllib.parse import urlparse

import pytest

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
  else if (!document.querySelector('.arithmatex') || Date.now() - start > 10000) { done(false); }
  else { setTimeout(poll, 50); }
})();
"""
PAGE_REPORT = """
const done = arguments[arguments.length - 1];
(async () => {
  const content = document.querySelector('.md-content') || document.body;
  // Material mounts code blocks (and their copy buttons) as they scroll into view.
  const blocks = [...content.querySelectorAll('pre > code')].map(code => code.parentElement);
  for (const pre of blocks) {
    pre.scrollIntoView();
    await new Promise(resolve => setTimeout(resolve, 25));
  }
  await new Promise(resolve => setTimeout(resolve, 100));
  const prose = content.cloneNode(true);
  prose.querySelectorAll('code, pre, mjx-container, script, style').forEach(el => el.remove());
  const text = prose.textContent;
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
  // Markdown that no extension handled shows up as literal syntax.
  for (const literal of ['--8<--', '++slash++', '!!! ', '??? ', '=== "']) {
    if (text.includes(literal)) raw.push('literal ' + literal);
  }
  const images = [...document.images].filter(img => !(img.complete && img.naturalWidth > 0))
    .map(img => img.getAttribute('src'));
  const withoutCopy = blocks.filter(pre => !pre.querySelector('.md-clipboard, [data-md-type="copy"]')).length;
  done({raw, images, blocks: blocks.length, withoutCopy});
})();
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


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
    yield driver
    driver.quit()


def _pages(site):
    return sorted(p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")
                  if "assets" not in p.parts and "search" not in p.parts)


def _requests(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_every_page_renders_offline(built_site, server, browser):
    problems = {}
    pages = _pages(built_site)
    assert len(pages) > 60
    browser.get_log("browser"), browser.get_log("performance")  # start clean
    for page in pages:
        url = f"{server}/{page}/" if page != "." else f"{server}/"
        browser.get(url)
        browser.execute_async_script(WAIT_FOR_MATHJAX)
        report = browser.execute_async_script(PAGE_REPORT)
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        remote = [u for u in _requests(browser)
                  if urlparse(u).scheme in {"http", "https"} and urlparse(u).hostname not in LOOPBACK]
        found = {k: v for k, v in {"raw TeX or Markdown": report["raw"], "broken images": report["images"],
                                   "code blocks without copy button": report["withoutCopy"],
                                   "console errors": errors, "remote requests": remote}.items() if v}
        if found:
            problems[page] = found
    assert not problems, problems


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


@pytest.mark.parametrize("query, page, within", [("ReLU", "q07-popular-activation-functions", None),
                                                 ("Q31", "q31-adam", 3)])
def test_search_finds_the_page(built_site, server, browser, query, page, within):
    """Search finds Q7 for "ReLU", and a question number puts its page among the first results."""
    browser.get(f"{server}/")
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    if not box.is_displayed():
        browser.find_element(By.CSS_SELECTOR, "label.md-search__icon").click()
    box.send_keys(query)
    results = ".md-search-result__item a"
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, results))
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, results)]
    assert any(page in href for href in links[:within]), links
