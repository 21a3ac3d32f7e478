"""MkDocs hook that finishes the whole-handbook print page (registered in ``mkdocs.yml``).

mkdocs-print-site-plugin writes ``print_page/index.html`` in ``on_post_build`` from each page's
HTML as it stood when the plugin saw it (plugins run before hooks, so before the handbook's own
``on_page_content``: the code blocks are all there). This hook slims
the plugin's copy of each page as it is kept, and afterwards turns the page written into a book:

* Figures in the light scheme only. The dark variant (``name.dark.svg#only-dark``) is removed, so
  it is never fetched; the light one loses its ``#only-light`` mark, so it shows whatever scheme
  the reader's site is in, and its ``loading="lazy"``, so it has loaded before the browser prints.
* Code blocks set aside while the plugin rewrites the pages' ids and links (see ``_CODE``).
* Follow-up answers (and any other collapsible block) open, on screen as well as in print.
* No empty part: a nav section whose pages are all excluded (the notebooks) is dropped, with its
  entry in the contents.
* No "Full file" blocks: each page's tabs already show the code, section by section, and the whole
  files would add some hundred printed pages of repetition (the site and the repository keep them).

The page is marked with ``data-dl-print`` on ``<body>`` for ``docs/javascripts/handbook.js``
(light scheme, no palette toggle) and ``docs/stylesheets/extra.css`` (page breaks, margins).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError

PLUGIN = "print-site"
_DARK_IMG = r'<img\b[^>]*?\bsrc="[^"]*?\.dark\.svg#only-dark"[^>]*>'
# A figure is an image inside a link to its full-size SVG (dlhandbook.site.mdext).
DARK_FIGURE = re.compile(rf'<a class="dl-figure-link"[^>]*>{_DARK_IMG}</a>|{_DARK_IMG}')
LIGHT_MARK = re.compile(r'(<img\b[^>]*?\bsrc="[^"]*?\.svg)#only-light"')
LAZY = re.compile(r'(<img\b[^>]*?) loading="lazy"')
FULL_FILE = re.compile(r'<details class="example">\s*<summary>Full file: .*?</details>\s*', re.S)
# A nav section whose pages are all excluded (the notebooks) is left as a bare title, and as an
# entry in the page's table of contents (which the plugin's script copies to the "Contents").
EMPTY_SECTION = re.compile(
    r"<section class='print-page md-section' id='(?P<id>section-[\d-]+)'[^>]*>"
    r"\s*<h1>(?:(?!</h1>).)*</h1>\s*</section>",
    re.S,
)
PRE = re.compile(r"<pre\b.*?</pre>", re.S)
CODE_PLACEHOLDER = re.compile(r"<!--dl-print-code:(\d+)-->")
DETAILS = re.compile(r"<details(?![^>]*\sopen\b)(?=[\s>])")
BODY = re.compile(r"<body\b")


def print_page_path(config) -> Path | None:
    """The print page the plugin wrote, or None when the plugin is off or not configured."""
    plugin = config["plugins"].get(PLUGIN)
    if plugin is None or not plugin.config.get("enabled"):
        return None
    return Path(plugin.print_page.file.abs_dest_path)


# The plugin rewrites every id and link of every page with regular expressions that rescan the
# HTML from each tag: highlighted code (a tag per token) made that 12 s of a 10 s build. So each
# code block waits here, replaced by a comment, from the moment the plugin has kept a page's HTML
# (``page.html``, read again only in its ``on_post_build``) until the print page is written.
_CODE: list[str] = []


def _aside(match: re.Match) -> str:
    _CODE.append(match[0])
    return f"<!--dl-print-code:{len(_CODE) - 1}-->"


def _code_back(match: re.Match) -> str:
    return _CODE[int(match[1])]


def on_pre_build(config):
    _CODE.clear()


def on_page_content(html, page, config, files):
    """Slim the copy of the page that the plugin keeps for the print page; the page itself is
    left alone."""
    kept = getattr(page, "html", None)
    if isinstance(kept, str) and print_page_path(config) is not None:
        page.html = PRE.sub(_aside, DARK_FIGURE.sub("", FULL_FILE.sub("", kept)))
    return html


def finish(html: str) -> str:
    """The print page's HTML with light figures only, every block open and no full files."""
    html = CODE_PLACEHOLDER.sub(_code_back, html)
    for section in EMPTY_SECTION.finditer(html):
        entry = re.compile(rf'<li class="md-nav__item">\s*<a href="#{section["id"]}" [^>]*>'
                           r"(?:(?!</a>).)*</a>\s*</li>", re.S)
        html = entry.sub("", html.replace(section[0], ""))
    html = FULL_FILE.sub("", html)
    html = DARK_FIGURE.sub("", html)
    html = LIGHT_MARK.sub(r'\1"', html)
    html = LAZY.sub(r"\1", html)   # every figure loads before the browser prints
    html = DETAILS.sub("<details open", html)
    html, marked = BODY.subn("<body data-dl-print", html, count=1)
    if not marked:
        raise PluginError("print page: no <body> tag to mark")
    return html


def on_post_build(config):
    path = print_page_path(config)
    if path is None:
        return
    if not path.is_file():
        raise PluginError(f"print page: {path} was not written by {PLUGIN}")
    path.write_text(finish(path.read_text(encoding="utf-8")), encoding="utf-8")
