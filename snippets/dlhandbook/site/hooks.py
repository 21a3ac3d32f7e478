"""MkDocs hooks for the handbook (registered in ``mkdocs.yml``).

* Ship MathJax from the ``django-static-mathjax`` wheel, so equations typeset with no network.
* Turn ``[claim](test:tests/path/test_x.py::test_name)`` links into links to that test's source
  line, and fail the build when the test does not exist.
* Render a difficulty tag under each answer's title from its ``difficulty`` front matter.
* Fill the home page's question index and the figure gallery from the pages themselves.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from mkdocs.utils.meta import get_data

REPO_ROOT = Path(__file__).resolve().parents[3]
DIFFICULTIES = ("easy", "medium", "hard")
QUESTION_INDEX_MARKER = "<!-- question-index -->"
FIGURE_GALLERY_MARKER = "<!-- figure-gallery -->"
TEST_LINK = re.compile(r"\]\(test:(?P<path>tests/[\w./-]+\.py)::(?P<name>\w+)\)")
FIGURE_REF = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)#\s]*generated/figures/(?P<name>[\w-]+)\.svg)#only-light\)"
)
H1 = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)

# MathJax 3: the full TeX bundle, its CommonHTML fonts, and the small components the
# context menu loads on demand. The speech engine (sre, ~20 MB) is left out.
MATHJAX_PARTS = ("tex-chtml-full.js", "output/chtml/fonts/woff-v2", "ui", "a11y/assistive-mml.js",
                 "input/tex/extensions")


def _mathjax_root() -> Path:
    import mathjax  # the django-static-mathjax wheel; no Django needed

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def on_files(files, config):
    root = _mathjax_root()
    for part in MATHJAX_PARTS:
        path = root / part
        for src in sorted(path.rglob("*.*")) if path.is_dir() else [path]:
            uri = "assets/mathjax/" + src.relative_to(root).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(src)))
    return files


def _test_line(path: str, name: str) -> int | None:
    file = REPO_ROOT / path
    if not file.is_file():
        return None
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node.lineno
    return None


def link_tests(markdown: str, repo_url: str, page: str) -> str:
    """Replace ``test:`` links with links to the test's source line; fail if it is missing."""

    def replace(match: re.Match) -> str:
        line = _test_line(match["path"], match["name"])
        if line is None:
            raise PluginError(f"{page}: links to {match['path']}::{match['name']}, which does not exist")
        return f"]({repo_url.rstrip('/')}/blob/main/{match['path']}#L{line})"

    return TEST_LINK.sub(replace, markdown)


def _difficulty_tag(markdown: str, meta: dict, page: str) -> str:
    level = meta.get("difficulty")
    if level is None:
        return markdown
    if level not in DIFFICULTIES:
        raise PluginError(f"{page}: difficulty must be one of {DIFFICULTIES}, got {level!r}")
    tag = f'<span class="dl-difficulty dl-difficulty--{level}">{level}</span>\n'
    return H1.sub(lambda m: m.group(0) + "\n\n" + tag, markdown, count=1)


def _read_page(docs_dir: Path, uri: str) -> tuple[str, dict, str]:
    """Return (title, front matter, body) of a Markdown page."""
    body, meta = get_data((docs_dir / uri).read_text(encoding="utf-8"))
    match = H1.search(body)
    return (match["title"].strip() if match else uri), meta, body


def question_index(nav: list, docs_dir: Path) -> str:
    """A Markdown index of every question in the nav, grouped by part, with its status."""
    sections, answered, total, extras_done, extras = [], 0, 0, 0, 0
    for entry in nav:
        (part, pages), = entry.items()
        if not (isinstance(pages, list) and part.startswith("Part ")):
            continue
        rows = ["| | Question | Status |", "|---|---|---|"]
        for item in pages:
            (_, uri), = item.items()
            title, meta, _ = _read_page(docs_dir, uri)
            done = meta.get("state") == "complete"
            is_question = re.match(r"Q\d+\.", title) is not None
            if is_question:
                total, answered = total + 1, answered + done
            else:
                extras, extras_done = extras + 1, extras_done + done
            number, _, text = title.partition(". ") if is_question else ("extra", "", title)
            status = ('<span class="dl-status dl-status--done">answered</span>' if done
                      else '<span class="dl-status dl-status--todo">not written yet</span>')
            rows.append(f"| {number} | [{text}]({uri}) | {status} |")
        sections.append(f"## {part}\n\n" + "\n".join(rows))
    summary = (f'<p class="dl-progress"><strong>{answered} of {total}</strong> questions answered, '
               f"and {extras_done} of {extras} extra pages written.</p>")
    return summary + "\n\n" + "\n\n".join(sections)


def figure_gallery(nav: list, docs_dir: Path) -> str:
    """Every figure that a complete answer page shows, once, with links to the pages showing it."""
    figures: dict[str, tuple[str, str, list[str]]] = {}
    for uri in _nav_pages(nav):
        if not uri.endswith(".md"):
            continue
        title, meta, body = _read_page(docs_dir, uri)
        if meta.get("state") != "complete":
            continue
        for fig in FIGURE_REF.finditer(body):
            src = fig["src"].split("generated/", 1)[1]
            figures.setdefault(fig["name"], (fig["alt"], src, []))[2].append(f"[{title}]({uri})")
    out = [f"### {alt}\n\nShown in {', '.join(pages)} &middot; `{name}`\n\n"
           f"![{alt}](generated/{src}#only-light)\n![{alt}](generated/{src[:-4]}.dark.svg#only-dark)\n"
           for name, (alt, src, pages) in figures.items()]
    return "\n".join(out) if out else "No figures yet."


def _nav_pages(nav):
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from _nav_pages(value)
        else:
            yield value


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    markdown = link_tests(markdown, config["extra"]["repository"], uri)
    markdown = _difficulty_tag(markdown, page.meta, uri)
    docs_dir = Path(config["docs_dir"])
    if QUESTION_INDEX_MARKER in markdown:
        markdown = markdown.replace(QUESTION_INDEX_MARKER, question_index(config["nav"], docs_dir))
    if FIGURE_GALLERY_MARKER in markdown:
        markdown = markdown.replace(FIGURE_GALLERY_MARKER, figure_gallery(config["nav"], docs_dir))
    return markdown
