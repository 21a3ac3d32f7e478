"""MkDocs hooks for the handbook (registered in ``mkdocs.yml``).

* Bring the figures, tables and notebooks in ``docs/generated`` up to date before each build
  (only what changed is redrawn), so ``mkdocs build`` and ``mkdocs serve`` work in a fresh clone.
* Ship MathJax from the ``django-static-mathjax`` wheel, so equations typeset with no network.
* Turn ``[claim](test:tests/path/test_x.py::test_name)`` links into links to that test's source
  line, and fail the build when the test does not exist.
* Render a difficulty tag under each answer's title from its ``difficulty`` front matter.
* Fill the home page's question index and the figure gallery from the pages themselves, and the
  cheat sheet from their 30-second answers (``revision.py``, which also tags the index's rows for
  its difficulty and part filters and review marks).
* Mark unwritten pages wherever a reader meets them: in the sidebar and the prev/next links (their
  titles), in links from other pages, and give each one links to the written answers nearest it.
* Tune search for answers: code blocks and the difficulty tag are not indexed, and a page's
  preview is its 30-second answer.
* Load MathJax only where there is math, show each figure lazily (so only the active colour
  scheme's variant is fetched) with a link to the full-size SVG, and drop the notebook template's
  MathJax 2 and CDN scripts.
"""

from __future__ import annotations

import ast
import json
import logging
import posixpath
import re
import subprocess
from functools import cache
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from mkdocs.utils.meta import get_data

import dlhandbook.site.provenance as provenance  # the stamp of what the tests proved
from dlhandbook.site import revision  # the cheat sheet and the index's filter data

REPO_ROOT = Path(__file__).resolve().parents[3]
log = logging.getLogger("mkdocs.hooks.dlhandbook")
DIFFICULTIES = ("easy", "medium", "hard")
QUESTION_INDEX_MARKER = "<!-- question-index -->"
FIGURE_GALLERY_MARKER = "<!-- figure-gallery -->"
TEST_LINK = re.compile(
    r"\[(?P<text>[^\]]*)\]\(test:(?P<path>tests/[\w./-]+\.py)::(?P<name>\w+)\)"
)
FIGURE_REF = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)#\s]*generated/figures/(?P<name>[\w-]+)\.svg)#only-light\)"
)
H1 = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)

# MathJax 3 as separate components, loaded by startup.js only on pages with math: the TeX input
# (extensions autoload on demand), CommonHTML output and its fonts. About 0.55 MB against the
# 1.3 MB of the combined tex-chtml-full bundle; no menu, no speech engine.
MATHJAX_PARTS = ("startup.js", "core.js", "input/tex.js", "input/tex/extensions", "output/chtml.js",
                 "output/chtml/fonts/tex.js", "output/chtml/fonts/woff-v2")
UNWRITTEN = " (unwritten)"
MD_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<href>[^)\s#:]+\.md)(?P<anchor>#[^)\s]*)?\)(?!\{)")


def _mathjax_root() -> Path:
    import mathjax  # the django-static-mathjax wheel; no Django needed

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def on_pre_build(config):
    """Redraw the stale figures, tables and notebooks (see ``dlhandbook.figures.generate``)."""
    from dlhandbook.figures import generate

    if Path(config["docs_dir"]).resolve() != generate.REPO_ROOT / "docs":
        return   # a site built from other pages (the browser test's small site) shows no figures

    def progress(event, job, result):
        if event == "done":
            log.info("figures: drew %s in %.1f s", job.name, result["seconds"])

    try:
        done = generate.update(Path(config["docs_dir"]) / "generated", progress=progress)
    except RuntimeError as exc:
        raise PluginError(str(exc)) from None
    if done["drawn"]:
        log.info("figures: %d redrawn, %d up to date", len(done["drawn"]), len(done["fresh"]))


def on_files(files, config):
    root = _mathjax_root()
    for part in MATHJAX_PARTS:
        path = root / part
        for src in sorted(path.rglob("*.*")) if path.is_dir() else [path]:
            uri = "assets/mathjax/" + src.relative_to(root).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(src)))
    if _DIRTY:
        _mark_pages_with_changed_includes(files, config)
    return files


# ---------------------------------------------------------------- `mkdocs serve --dirty`

_DIRTY = False
SNIPPET_INCLUDE = re.compile(r"""^[ \t]*--8<--[ \t]+["'](?P<path>[^"':]+)(?::[\w-]+)?["']""", re.MULTILINE)
AGGREGATES = ("index.md", "figures.md", "cheat-sheet.md")   # pages built from every other page


def _not_the_dirty_warning(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("A 'dirty' build is being performed")


def on_startup(command, dirty):
    """``./dev.sh serve`` runs ``mkdocs serve --strict --dirty``: in strict mode, MkDocs' warning
    that a dirty build may leave other pages' navigation stale would abort every build. Say it
    once as information instead (and rebuild the pages that depend on a change, below)."""
    global _DIRTY
    _DIRTY = dirty
    if dirty:
        logging.getLogger("mkdocs.commands.build").addFilter(_not_the_dirty_warning)
        log.info("dirty build: a save rebuilds the pages it changes, the pages that include a "
                 "changed snippet or table, and the index pages; restart for a full rebuild")


def included_files(markdown: str, base_paths: list[Path]) -> list[Path]:
    """The files a page includes with pymdownx.snippets (``--8<-- "path:section"``)."""
    out = []
    for m in SNIPPET_INCLUDE.finditer(markdown):
        for base in base_paths:
            if (base / m["path"]).is_file():
                out.append(base / m["path"])
                break
    return out


def _mark_pages_with_changed_includes(files, config) -> None:
    """A dirty build rebuilds only pages whose Markdown changed. Also rebuild pages whose included
    code or tables changed, and the pages that list every page when any page changed, by removing
    their stale output (MkDocs then sees them as modified)."""
    bases = [REPO_ROOT / "snippets", Path(config["docs_dir"])]   # pymdownx.snippets' base_path
    pages = [f for f in files.documentation_pages() if Path(f.abs_dest_path).is_file()]
    stale = []
    for f in pages:
        built = Path(f.abs_dest_path).stat().st_mtime
        text = Path(f.abs_src_path).read_text(encoding="utf-8")
        if any(p.stat().st_mtime > built for p in included_files(text, bases)):
            stale.append(f)
    if stale or any(f.is_modified() for f in pages):
        stale += [f for f in pages if f.src_uri in AGGREGATES]
    for f in stale:
        Path(f.abs_dest_path).unlink(missing_ok=True)


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


def _describe_test(name: str) -> str:
    """``test_first_step_is_lr`` -> ``first step is lr``: a link text that says what it proves."""
    return name.removeprefix("test_").replace("_", " ")


def link_tests(markdown: str, repo_url: str, page: str, commit: str = "main") -> str:
    """Replace ``test:`` links with links to the test's source line at ``commit``.

    The build fails if the test does not exist. A link whose text is just "test" gets the test's
    name as its text, so a reader (and a screen reader) knows what it proves.
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
                      else '<span class="dl-status dl-status--todo">unwritten</span>')
            rows.append(f"| {number} | [{text}]({uri}) | {status} |")
        sections.append(f"## {part}\n\n" + "\n".join(rows))
    summary = (f'<p class="dl-progress"><strong>{answered} of {total}</strong> questions answered, '
               f"and {extras_done} of {extras} extra pages written.</p>")
    return (summary + '\n\n<div class="dl-index" markdown>\n\n' + "\n\n".join(sections)
            + "\n\n</div>")


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


@cache
def _commit() -> str:
    return build_commit()


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    if revision.CHEAT_SHEET_MARKER in markdown:   # first, so that its answers' links are resolved too
        sheet = revision.cheat_sheet(config["nav"], Path(config["docs_dir"]), uri)
        markdown = markdown.replace(revision.CHEAT_SHEET_MARKER, sheet)
    stamp = provenance.stamp_markdown(markdown, uri, page.meta, _commit(), config["extra"]["repository"])
    markdown = link_tests(markdown, config["extra"]["repository"], uri, _commit())
    markdown = _difficulty_tag(markdown, page.meta, uri)
    markdown = provenance.insert_stamp(markdown, stamp)
    docs_dir = Path(config["docs_dir"])
    if QUESTION_INDEX_MARKER not in markdown:
        markdown = mark_unwritten_links(markdown, uri, _STATES)
    if _is_unwritten(page.meta):
        markdown = markdown.rstrip("\n") + "\n" + nearest_written(page.meta, uri, _STATES)
    if QUESTION_INDEX_MARKER in markdown:
        markdown = markdown.replace(QUESTION_INDEX_MARKER, question_index(config["nav"], docs_dir))
    if FIGURE_GALLERY_MARKER in markdown:
        markdown = markdown.replace(FIGURE_GALLERY_MARKER, figure_gallery(config["nav"], docs_dir))
    return markdown


# ---------------------------------------------------------------- unwritten pages


def _is_unwritten(meta: dict) -> bool:
    return meta.get("state") == "todo"


def _states(docs_dir: Path, nav: list) -> dict[str, bool]:
    """uri -> True if the page is a written answer, False if it is marked unwritten."""
    out = {}
    for uri in _nav_pages(nav):
        if uri.endswith(".md") and (docs_dir / uri).is_file():
            _, meta, _ = _read_page(docs_dir, uri)
            if "state" in meta:
                out[uri] = not _is_unwritten(meta)
    return out


# Read once per build in on_nav (before any page), not again for every page.
_STATES: dict[str, bool] = {}


def on_nav(nav, config, files):
    """Unwritten pages say so in their title: the sidebar, the phone drawer and prev/next links.

    Also records every page's state and nav title for the page hooks of this build.
    """
    _STATES.clear()
    _STATES.update(_states(Path(config["docs_dir"]), config["nav"]))
    _TITLES.clear()
    _remember_titles(config["nav"])
    for page in nav.pages:
        if _STATES.get(page.file.src_uri) is False and not (page.title or "").endswith(UNWRITTEN):
            page.title = f"{page.title}{UNWRITTEN}"
    return nav


def mark_unwritten_links(markdown: str, page_uri: str, states: dict[str, bool]) -> str:
    """Give every Markdown link to an unwritten page the class ``dl-unwritten`` and a tooltip."""

    def replace(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page_uri), match["href"]))
        if states.get(target) is not False:
            return match.group(0)
        return match.group(0) + '{ .dl-unwritten title="Not written yet" }'

    return MD_LINK.sub(replace, markdown)


def nearest_written(meta: dict, page_uri: str, states: dict[str, bool]) -> str:
    """The list of written answers an unwritten page points readers to (front matter ``nearest``)."""
    nearest = meta.get("nearest")
    if not isinstance(nearest, list) or not nearest:
        raise PluginError(f"{page_uri}: an unwritten page needs a 'nearest' list of written pages")
    items = []
    for uri in nearest:
        if states.get(uri) is not True:
            raise PluginError(f"{page_uri}: 'nearest' entry {uri!r} is not a written page")
        href = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
        items.append(f"- [{_nav_title(uri)}]({href})")
    return ("\n\n**Written answers nearest this topic:**\n\n" + "\n".join(items) + "\n")


_TITLES: dict[str, str] = {}


def _nav_title(uri: str) -> str:
    return _TITLES.get(uri, uri)


def _remember_titles(nav: list) -> None:
    for entry in nav:
        if isinstance(entry, dict):
            (title, value), = entry.items()
            if isinstance(value, list):
                _remember_titles(value)
            else:
                _TITLES[value] = title


# ---------------------------------------------------------------- search, figures, scripts

FIGURE_IMG = re.compile(
    r'<img (?P<attrs>[^>]*?src="(?P<src>[^"#]*generated/figures/[\w.-]+\.svg)(?:#[\w-]+)?"[^>]*?)\s*/?>'
)
CODE_BLOCK = re.compile(r'<div class="language-(?P<lang>[\w-]+) highlight">')
NOTEBOOK_SCRIPTS = re.compile(
    r'<script type="text/x-mathjax-config">.*?</script>'   # nbconvert's MathJax 2 set-up
    r'|<script src="">\s*</script>'                         # an empty MathJax URL
    r'|<script type="module">(?:(?!</script>).)*?cdnjs\.cloudflare\.com.*?</script>',  # mermaid CDN
    re.S,
)


def on_page_content(html, page, config, files):
    # Code is not indexed: readers search for concepts, and code was 60% of the index.
    html = CODE_BLOCK.sub(lambda m: m.group(0)[:-1] + " data-search-exclude>", html)
    html = html.replace('<span class="dl-difficulty ', '<span data-search-exclude class="dl-difficulty ')
    # TeX source is no search term (and was a tenth of the index).
    html = re.sub(r'<(span|div) class="arithmatex">', r'<\1 data-search-exclude class="arithmatex">', html)
    # The claims repeat the full answer next to long test names: the answer is what to find.
    html = html.replace('<h2 id="proven-by-tests">', '<h2 id="proven-by-tests" data-search-exclude>')

    def figure(match: re.Match) -> str:
        attrs = match["attrs"]
        if "loading=" not in attrs:
            attrs += ' loading="lazy"'
        return (f'<a class="dl-figure-link" href="{match["src"]}" title="Open the figure full size">'
                f"<img {attrs}></a>")

    if 'class="dl-index"' in html:   # the home index: rows carry difficulty and part for filters
        urls = {f.src_uri: f.url for f in files.documentation_pages()}
        rows = revision.index_rows(config["nav"], Path(config["docs_dir"]), urls)
        html = revision.annotate_index(html, page.url, rows)
    html = provenance.notebook_page(html, page.file.src_uri, config["extra"]["repository"])
    return _set_code_aside(FIGURE_IMG.sub(figure, html), page.file.src_uri)


# Highlighted code is most of a page's HTML (a span per token), and search, which skips it anyway,
# spent half the build parsing it. Between on_page_content and on_post_page each excluded code
# block waits here, replaced by a comment; the page written is byte-identical.
_CODE_ASIDE: dict[str, list[str]] = {}
EXCLUDED_CODE = re.compile(r'(<div class="language-[\w-]+ highlight" data-search-exclude>)(.*?</pre>)', re.S)
CODE_PLACEHOLDER = re.compile(r"<!--dl-code:(\d+)-->")


def _set_code_aside(html: str, uri: str) -> str:
    blocks = _CODE_ASIDE[uri] = []

    def aside(m: re.Match) -> str:
        blocks.append(m[2])
        return f"{m[1]}<!--dl-code:{len(blocks) - 1}-->"

    return EXCLUDED_CODE.sub(aside, html)


def _put_code_back(output: str, uri: str) -> str:
    blocks = _CODE_ASIDE.pop(uri, [])
    return CODE_PLACEHOLDER.sub(lambda m: blocks[int(m[1])], output) if blocks else output


def on_post_page(output, page, config):
    output = _put_code_back(output, page.file.src_uri)
    if page.file.src_uri.endswith(".ipynb"):
        output = NOTEBOOK_SCRIPTS.sub("", output)
    return output


def search_previews(index: dict) -> dict:
    """Make each answer page's search preview its 30-second answer, not the difficulty tag."""
    answers = {d["location"].split("#")[0]: d["text"] for d in index["docs"]
               if d["location"].endswith("#answer-in-30-seconds")}
    for doc in index["docs"]:
        if "#" not in doc["location"] and doc["location"] in answers:
            doc["text"] = answers[doc["location"]]
    # The 30-second answer now is the page's own entry; do not index it twice.
    index["docs"] = [d for d in index["docs"] if not d["location"].endswith("#answer-in-30-seconds")]
    return index


@event_priority(-100)   # after Material's search plugin has written the index
def on_post_build(config):
    path = Path(config["site_dir"]) / "search" / "search_index.json"
    if path.is_file():
        index = search_previews(json.loads(path.read_text(encoding="utf-8")))
        path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
