"""Every content tab runs exactly as a reader pastes it.

The text of each Python tab is taken from the built page, as the copy button gives it, and

* checked by pyflakes: a name it uses but does not define (a missing import, a helper left in
  another section) fails;
* executed with only the standard library, NumPy and PyTorch: ``dlhandbook`` cannot be imported.
  All tabs run in one fresh interpreter (importing torch once keeps the suite fast), each in a
  namespace of its own, so no tab can lean on another's definitions;
* read as a reader reads it: each top-level ``def``/``class`` follows a blank line (two joined
  sections must not run into each other), and docstrings carry no raw TeX (the math is on the
  page).
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from pyflakes import api as pyflakes_api
from pyflakes import messages as pyflakes_messages
from pyflakes.reporter import Reporter

from sitetools import all_pages

pytestmark = pytest.mark.site

PAGES = [p for p in all_pages() if p.meta.get("state") == "complete" and '=== "' in p.body]
# Unused or repeated imports are harmless in a tab (an imports section may serve two tabs, and a
# tab may join two files); these are not.
FATAL = (pyflakes_messages.UndefinedName, pyflakes_messages.UndefinedLocal,
         pyflakes_messages.UndefinedExport, pyflakes_messages.ImportStarUsed)
TEX = re.compile(r"\$|\\(?:frac|hat|beta|theta|eta|lambda|sqrt|mathbb|epsilon|nabla|sum|partial|cdot)\b")

RUN_TABS = r"""
import importlib.abc, json, sys, traceback
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "dlhandbook" or name.startswith("dlhandbook."):
            raise ImportError("a tab must not need dlhandbook: " + name)
sys.meta_path.insert(0, Block())
results = {}
for key, code in json.load(sys.stdin).items():
    try:
        exec(compile(code, key, "exec"), {"__name__": "__tab__"})
        results[key] = None
    except BaseException:
        results[key] = traceback.format_exc(limit=4)
print(json.dumps(results))
"""


def page_html(site: Path, uri: str) -> str:
    stem = uri.removesuffix(".md")
    return (site / ("index.html" if stem == "index" else f"{stem}/index.html")).read_text("utf-8")


def python_tabs(html: str) -> list[tuple[str, str]]:
    """(label, code) of every tab whose content is Python code, as the copy button copies it."""
    soup = BeautifulSoup(html, "html.parser")
    tabs = []
    for tabset in soup.select("div.tabbed-set"):
        labels = [label.get_text(strip=True) for label in tabset.select(":scope > .tabbed-labels > label")]
        blocks = tabset.select(":scope > .tabbed-content > .tabbed-block")
        for label, block in zip(labels, blocks, strict=True):
            codes = block.select("div.language-python pre > code")
            if codes:
                tabs.append((label, "\n\n".join(code.get_text() for code in codes)))
    return tabs


def problems(code: str) -> list[str]:
    """What a reader would trip over in this text, before running it."""
    out = []

    class Collect(Reporter):
        def __init__(self):
            super().__init__(sys.stdout, sys.stderr)

        def flake(self, message):
            if isinstance(message, FATAL):
                out.append(f"line {message.lineno}: {message.message % message.message_args}")

        def syntaxError(self, filename, msg, lineno, offset, text):  # noqa: N802 (pyflakes API)
            out.append(f"syntax error, line {lineno}: {msg}")

    pyflakes_api.check(code, "tab", Collect())
    if out:
        return out
    lines = code.splitlines()
    tree = ast.parse(code)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            above = lines[first - 2].strip() if first >= 2 else ""
            if above and not above.startswith("#"):
                out.append(f"line {first}: `{node.name}` runs straight into the line above it")
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef, ast.Module)):
            doc = ast.get_docstring(node)
            if doc and TEX.search(doc):
                out.append(f"docstring of {getattr(node, 'name', 'the module')} has raw TeX")
    return out


@pytest.fixture(scope="module")
def tabs(built_site) -> dict[str, dict[str, str]]:
    return {page.uri: dict(python_tabs(page_html(built_site, page.uri))) for page in PAGES}


@pytest.fixture(scope="module")
def run_results(tabs) -> dict[str, str | None]:
    """Execute every tab once, each in its own namespace, in one fresh interpreter."""
    payload = {f"{uri} [{label}]": code for uri, page in tabs.items() for label, code in page.items()}
    proc = subprocess.run([sys.executable, "-c", RUN_TABS], input=json.dumps(payload), cwd="/",
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.uri)
def test_every_tab_runs_as_pasted(page, tabs, run_results):
    found = tabs[page.uri]
    assert found, f"{page.uri} has tabs but none with Python code"
    failures = []
    for label, code in found.items():
        failures += [f"[{label}] {p}" for p in problems(code)]
        error = run_results[f"{page.uri} [{label}]"]
        if error:
            failures.append(f"[{label}] raised when run:\n{error}")
    assert not failures, "\n".join(failures)


def test_the_checker_catches_what_readers_hit():
    """Guards the test above: a missing import, joined sections and TeX are all reported."""
    assert any("NamedTuple" in p for p in problems("class S(NamedTuple):\n    x: int\n"))
    joined = "import math\n\ndef f():\n    raise ValueError\ndef g():\n    return math.pi\n"
    assert any("`g` runs straight into" in p for p in problems(joined))
    assert any("raw TeX" in p for p in problems('def f():\n    """Returns $x$."""\n'))
    assert problems("import numpy as np\n\n\ndef f(x):\n    return np.abs(x)\n") == []


def test_tabs_are_read_from_the_built_html():
    html = ('<div class="tabbed-set"><div class="tabbed-labels"><label>NumPy</label><label>Out</label>'
            '</div><div class="tabbed-content"><div class="tabbed-block"><div class="language-python '
            'highlight"><pre><span></span><code><span>import numpy as np</span>\n<a></a>x = 1\n'
            '</code></pre></div></div><div class="tabbed-block"><p>text</p></div></div></div>')
    assert python_tabs(html) == [("NumPy", "import numpy as np\nx = 1\n")]
