"""The handbook's Python-Markdown extension, honoured by MkDocs and by Zensical alike.

Listed in ``mkdocs.yml`` under ``markdown_extensions`` as ``dlhandbook.site.mdext`` with the
repository's URL. On every page it:

* turns ``[claim](test:tests/path/test_x.py::test_name)`` links into links to that test's source
  line at the commit being built, and fails the build when the test does not exist (a link whose
  text is just "test" gets the test's name as its text);
* renders the difficulty tag under an answer's title, from its ``difficulty`` front matter, and
  the provenance stamp next to it (``provenance.py``);
* shows each figure lazily (so only the active colour scheme's variant is fetched), inside a link
  to the full-size SVG.

A builder hands an extension the page's Markdown without its front matter or file name, so the
page is found by its title: the first ``# `` heading, unique among the pages of ``docs_dir``.
"""

from __future__ import annotations

import ast
import re
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

from markdown import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from mkdocs.exceptions import PluginError
from mkdocs.utils.meta import get_data

from dlhandbook.site import provenance, revision

REPO_ROOT = Path(__file__).resolve().parents[3]
TEST_LINK = re.compile(
    r"\[(?P<text>[^\]]*)\]\(test:(?P<path>tests/[\w./-]+\.py)::(?P<name>\w+)\)"
)
H1 = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)
FIGURE_SRC = re.compile(r"^(?P<src>[^#]*generated/figures/[\w.-]+\.svg)(?:#[\w-]+)?$")


# ---------------------------------------------------------------- test links


def _test_line(path: str, name: str) -> int | None:
    file = REPO_ROOT / path
    if not file.is_file():
        return None
    return _test_lines(file, file.stat().st_mtime_ns).get(name)


@cache
def _test_lines(file: Path, mtime_ns: int) -> dict[str, int]:
    """Each test function's line in a test file, parsed once per build (or per save, in serve)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    lines: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            lines.setdefault(node.name, node.lineno)
    return lines


def build_commit(repo_root: Path = REPO_ROOT) -> str:
    """The commit the site is built from, so test links point at the lines that were built.

    ``main`` only when the build does not run in a git checkout (a source tarball, say).
    """
    try:
        proc = subprocess.run(["git", "rev-parse", "--verify", "HEAD"], cwd=repo_root,
                              capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return "main"
    sha = proc.stdout.strip()
    return sha if proc.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", sha) else "main"


@cache
def commit() -> str:
    return build_commit()


def _describe_test(name: str) -> str:
    """``test_first_step_is_lr`` -> ``first step is lr``: a link text that says what it proves."""
    return name.removeprefix("test_").replace("_", " ")


def link_tests(markdown: str, repo_url: str, page: str, commit: str = "main") -> str:
    """Replace ``test:`` links with links to the test's source line at ``commit``.

    Raises ``PluginError`` naming the page if the test does not exist.
    """

    def replace(match: re.Match) -> str:
        line = _test_line(match["path"], match["name"])
        if line is None:
            raise PluginError(f"{page}: links to {match['path']}::{match['name']}, which does not exist")
        text = match["text"]
        if text.strip().lower() == "test":
            text = "test: " + _describe_test(match["name"])
        url = f"{repo_url.rstrip('/')}/blob/{commit}/{match['path']}#L{line}"
        where = f"{match['path']}::{match['name']}"
        return f'[{text}]({url} "{where}"){{ .dl-test-link }}'

    return TEST_LINK.sub(replace, markdown)


# ---------------------------------------------------------------- the page and its tags


def difficulty_tag(markdown: str, meta: dict, page: str) -> str:
    level = revision.difficulty(meta, page)
    if level is None:
        return markdown
    tag = f'<span class="dl-difficulty dl-difficulty--{level}">{level}</span>\n'
    return H1.sub(lambda m: m.group(0) + "\n\n" + tag, markdown, count=1)


@cache
def _title_and_meta(path: Path, mtime_ns: int) -> tuple[str | None, dict]:
    body, meta = get_data(path.read_text(encoding="utf-8"))
    match = H1.search(body)
    return (match["title"].strip() if match else None), meta


def find_page(docs_dir: Path, title: str) -> tuple[str, dict] | None:
    """(uri, front matter) of the page of ``docs_dir`` whose title is ``title``, if any."""
    found = []
    for path in sorted(docs_dir.rglob("*.md")):
        uri = path.relative_to(docs_dir).as_posix()
        if uri.startswith("generated/"):
            continue
        page_title, meta = _title_and_meta(path, path.stat().st_mtime_ns)
        if page_title == title:
            found.append((uri, meta))
    if len(found) > 1:
        raise PluginError(f"pages {', '.join(u for u, _ in found)} share the title {title!r}")
    return found[0] if found else None


def render_page(markdown: str, uri: str, meta: dict, repo_url: str, commit: str) -> str:
    """A page's Markdown with its stamp, difficulty tag and resolved test links."""
    stamp = provenance.stamp_markdown(markdown, uri, meta, commit, repo_url)
    markdown = link_tests(markdown, repo_url, uri, commit)
    markdown = difficulty_tag(markdown, meta, uri)
    return provenance.insert_stamp(markdown, stamp)


class _PagePreprocessor(Preprocessor):
    def __init__(self, md, repository: str, docs_dir: Path):
        super().__init__(md)
        self.repository, self.docs_dir = repository, docs_dir

    def run(self, lines: list[str]) -> list[str]:
        markdown = "\n".join(lines)
        title = H1.search(markdown)
        page = find_page(self.docs_dir, title["title"].strip()) if title else None
        uri, meta = page if page else ((title["title"] if title else "<untitled page>"), {})
        return render_page(markdown, uri, meta, self.repository, commit()).split("\n")


# ---------------------------------------------------------------- figures


class _FigureTreeprocessor(Treeprocessor):
    """``<img src=".../generated/figures/x.svg#only-light">`` -> lazy, inside a link to the SVG."""

    def run(self, root: ET.Element) -> None:
        found = [(parent, child, match) for parent in root.iter() for child in parent
                 if child.tag == "img" and (match := FIGURE_SRC.match(child.get("src", "")))]
        for parent, child, match in found:   # changed after the walk: the walk sees no link
            child.set("loading", child.get("loading", "lazy"))
            link = ET.Element("a", {"class": "dl-figure-link", "href": match["src"],
                                    "title": "Open the figure full size"})
            link.tail, child.tail = child.tail, None
            index = list(parent).index(child)
            parent.remove(child)
            link.append(child)
            parent.insert(index, link)


class HandbookExtension(Extension):
    def __init__(self, **kwargs):
        self.config = {
            "repository": ["", "the repository's URL, where test links point"],
            "docs_dir": ["docs", "the pages' folder, where a page is found by its title"],
        }
        super().__init__(**kwargs)

    def extendMarkdown(self, md):
        repository = self.getConfig("repository")
        if not repository:
            raise PluginError("dlhandbook.site.mdext needs the 'repository' option")
        docs_dir = Path(self.getConfig("docs_dir")).resolve()
        # After pymdownx.snippets (32), so included Markdown is rendered too; before raw HTML
        # is set aside (20), so the tags are HTML like any other.
        md.preprocessors.register(_PagePreprocessor(md, repository, docs_dir), "dlhandbook", 25)
        # After MkDocs' relative-path rewriting (0), so the link gets the image's final URL.
        md.treeprocessors.register(_FigureTreeprocessor(md), "dlhandbook-figures", -10)


def makeExtension(**kwargs):  # noqa: N802 - Python-Markdown's entry point
    return HandbookExtension(**kwargs)
