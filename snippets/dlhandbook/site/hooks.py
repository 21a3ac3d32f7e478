"""MkDocs hooks for the handbook (registered in ``mkdocs.yml``): what only an MkDocs build does.

What every builder must do lives in mechanisms Zensical honours too: test links, difficulty tags,
provenance stamps and lazy figures in the Markdown extension ``mdext.py``; the home index, the
figure gallery, the cheat sheet and MathJax in files that ``pages.py`` writes under
``docs/generated`` (included with pymdownx.snippets). Here:

* Before each build, bring the figures, tables and notebooks in ``docs/generated`` up to date
  (only what changed is redrawn; the last figures go on drawing while the pages are rendered) and
  write those files, so ``mkdocs build`` and ``mkdocs serve`` work in a fresh clone; tell the
  extension where the pages are.
* Mark unwritten pages wherever a reader meets them: in the sidebar and the prev/next links (their
  titles), in links from other pages, and give each one links to the written answers nearest it.
* Tag the home index's rows for its difficulty and part filters and review marks (``revision.py``).
* Highlight each code block once, not on every build (``highlight_cache.py``).
* Tune search for answers: code blocks and the difficulty tag are not indexed, and a page's
  preview is its 30-second answer.
* Drop the notebook template's MathJax 2 and CDN scripts; link the notebook for download and Colab.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import shutil
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

import dlhandbook.site.provenance as provenance  # the notebook page's download and Colab links
from dlhandbook.site import highlight_cache, pages, revision  # code blocks; generated includes; filters

REPO_ROOT = Path(__file__).resolve().parents[3]
log = logging.getLogger("mkdocs.hooks.dlhandbook")
MDEXT = "dlhandbook.site.mdext"   # the Markdown extension's name in mkdocs.yml
UNWRITTEN = " (unwritten)"
MD_LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<href>[^)\s#:]+\.md)(?P<anchor>#[^)\s]*)?\)(?!\{)")


# The figures being drawn during this build: started before MkDocs lists the files, waited for
# before the pages are read (tables, notebooks) and after they are written (the figures).
_DRAWING = None


def on_pre_build(config):
    """Start redrawing the stale figures, tables and notebooks (``dlhandbook.figures.generate``)
    and write the pages' generated includes and MathJax (``pages.write_generated``).

    Only the tables and notebooks are waited for here. The last figures go on drawing in one
    worker process while MkDocs renders and writes the pages on the other core;
    ``on_post_build`` waits for them and copies them into the site."""
    from dlhandbook.figures import generate

    global _DRAWING
    if Path(config["docs_dir"]).resolve() != generate.REPO_ROOT / "docs":
        return   # a site built from other pages (the browser test's small site) shows no figures

    def progress(event, job, result):
        if event == "done":
            log.info("figures: drew %s in %.1f s", job.name, result["seconds"])

    try:
        _DRAWING = generate.start(Path(config["docs_dir"]) / "generated", progress=progress)
        pages.write_generated(Path(config["docs_dir"]), config["nav"])
        _DRAWING.wait_for_pages()
    except RuntimeError as exc:
        _DRAWING = None
        raise PluginError(str(exc)) from None


def on_env(env, config, files):
    """Leave the figures being drawn out of the files MkDocs copies next (the pages' links to
    them are checked by now): ``on_post_build`` copies them once they are written, so that
    the last figures go on drawing while MkDocs writes the pages."""
    if _DRAWING is not None:
        for rel in _DRAWING.outputs:
            f = files.get_file_from_path(f"generated/{rel}")
            if rel.startswith("figures/") and f is not None:
                files.remove(f)
    return env


def finish_drawing(config) -> None:
    """Wait for the figures still being drawn and copy them into the site."""
    global _DRAWING
    drawing, _DRAWING = _DRAWING, None
    if drawing is None:
        return
    try:
        done = drawing.finish()
    except RuntimeError as exc:
        raise PluginError(str(exc)) from None
    docs, site = Path(config["docs_dir"]), Path(config["site_dir"])
    for rel in drawing.outputs:
        if rel.startswith("figures/"):
            dest = site / "generated" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(docs / "generated" / rel, dest)
    if done["drawn"]:
        log.info("figures: %d redrawn, %d up to date", len(done["drawn"]), len(done["fresh"]))


def on_build_error(error):
    """A failed build hands out no more drawing; what the ended jobs drew is kept."""
    global _DRAWING
    drawing, _DRAWING = _DRAWING, None
    if drawing is not None:
        drawing.close()


def on_config(config):
    """The Markdown extension finds each page by its title among the pages of this build; code
    blocks are highlighted from the cache of earlier builds (``highlight_cache``)."""
    config["mdx_configs"].setdefault(MDEXT, {})["docs_dir"] = config["docs_dir"]
    cache = Path(config["config_file_path"]).parent / ".cache" / "highlight.json"
    if highlight_cache.install(cache) is None:
        log.info("code blocks: pymdownx.highlight does not call pygments.highlight by that name "
                 "any more, so every block is highlighted again on each build")
    return config


def on_files(files, config):
    if _DRAWING is not None:
        add_outputs_being_drawn(files, config, _DRAWING.outputs)
    if _DIRTY:
        _mark_pages_with_changed_includes(files, config)
        freeze_modified(files)
    return files


def add_outputs_being_drawn(files, config, outputs) -> None:
    """List the figures not written yet, so that the pages' links to them validate (``on_env``
    takes them off the list again, and ``on_post_build`` copies them)."""
    for rel in outputs:
        uri = f"generated/{rel}"
        if files.get_file_from_path(uri) is None:
            files.append(File(uri, config["docs_dir"], config["site_dir"],
                              config["use_directory_urls"]))


def freeze_modified(files) -> None:
    """Decide once per dirty build which pages it rebuilds.

    MkDocs asks ``File.is_modified()`` (source newer than output) when it renders a page and again
    when it writes it; a save between the two made it write a page it never rendered, and the
    server stopped on a ``TypeError`` in the search plugin. The save still starts the next build.
    """
    for f in files.documentation_pages():
        modified = f.is_modified()
        f.is_modified = lambda modified=modified: modified


# ---------------------------------------------------------------- `mkdocs serve --dirty`

_DIRTY = False
_SERVING = False
SNIPPET_INCLUDE = re.compile(r"""^[ \t]*--8<--[ \t]+["'](?P<path>[^"':]+)(?::[\w-]+)?["']""", re.MULTILINE)
AGGREGATES = ("index.md", "figures.md", "cheat-sheet.md")   # pages built from every other page


def _not_the_dirty_warning(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("A 'dirty' build is being performed")


def on_startup(command, dirty):
    """``./dev.sh serve`` runs ``mkdocs serve --strict --dirty``: in strict mode, MkDocs' warning
    that a dirty build may leave other pages' navigation stale would abort every build. Say it
    once as information instead (and rebuild the pages that depend on a change, below).

    Under ``mkdocs serve``, the first build's end starts the process that forks the figure
    workers (``on_post_build``): it imports torch and Matplotlib in the background, once for the
    session, instead of on the first save that redraws a figure (about 5 s), and not beside the
    first build's own work."""
    global _DIRTY, _SERVING
    _DIRTY, _SERVING = dirty, command == "serve"
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


def on_page_markdown(markdown, page, config, files):
    uri = page.file.src_uri
    markdown = mark_unwritten_links(markdown, uri, _STATES)
    if _is_unwritten(page.meta):
        markdown = markdown.rstrip("\n") + "\n" + nearest_written(page.meta, uri, _STATES)
    return markdown


# ---------------------------------------------------------------- unwritten pages


def _is_unwritten(meta: dict) -> bool:
    return meta.get("state") == "todo"


def _states(docs_dir: Path, nav: list) -> dict[str, bool]:
    """uri -> True if the page is a written answer, False if it is marked unwritten."""
    out = {}
    for uri in pages.nav_pages(nav):
        if uri.endswith(".md") and (docs_dir / uri).is_file():
            _, meta, _ = revision.read_page(docs_dir, uri)
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

    if 'class="dl-index"' in html:   # the home index: rows carry difficulty and part for filters
        urls = {f.src_uri: f.url for f in files.documentation_pages()}
        rows = revision.index_rows(config["nav"], Path(config["docs_dir"]), urls)
        html = revision.annotate_index(html, page.url, rows)
    html = provenance.notebook_page(html, page.file.src_uri, config["extra"]["repository"])
    return _set_code_aside(html, page.file.src_uri)


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
    highlight_cache.save()
    finish_drawing(config)
    if _SERVING:   # a save that changes a figure's code then redraws it at once
        from dlhandbook.figures import generate

        generate.workers_parent()
