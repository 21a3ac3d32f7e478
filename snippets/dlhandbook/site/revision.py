"""Revision tools, generated from the answer pages themselves (used by ``pages.py`` and ``hooks.py``).

* ``cheat_sheet``: the body of ``docs/cheat-sheet.md``, every answer page's "Answer in 30 seconds"
  section grouped by part in nav order, each with its difficulty and a link to the full answer.
  Nothing on that page is copied by hand: it is rebuilt from the pages at every build.
* ``annotate_index``: gives each row of the home page's question index the page it links to, its
  difficulty and its part (``data-*`` attributes, and a difficulty tag), which
  ``docs/javascripts/handbook.js`` uses to filter the index and to keep review marks.

Pure functions of the nav, the Markdown sources and the HTML, so they are tested without a build
(``tests/site/test_revision.py``).
"""

from __future__ import annotations

import html as html_lib
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.utils.meta import get_data

CHEAT_SHEET_MARKER = "<!-- cheat-sheet -->"
ANSWER_HEADING = "## Answer in 30 seconds"
DIFFICULTIES = ("easy", "medium", "hard")
H1 = re.compile(r"^# (?P<title>.+)$", re.MULTILINE)
ANSWER_START = re.compile(r"^" + re.escape(ANSWER_HEADING) + r"[ \t]*$\n?", re.MULTILINE)
NEXT_SECTION = re.compile(r"^#{1,2} ", re.MULTILINE)
# A Markdown link or image whose target is a relative path (no scheme such as test: or https:).
RELATIVE_LINK = re.compile(
    r"(?P<lead>!?\[[^\]\n]*\]\()(?P<href>(?![a-zA-Z][\w+.-]*:|/)[^)\s#]*)(?P<anchor>#[^)\s]*)?(?P<tail>[)\s])"
)
INDEX_ROW = re.compile(
    r'<tr>(?P<cells>\s*<td>[^<]*</td>\s*<td><a href="(?P<href>[^"#]*)"[^>]*>.*?</a>)', re.S
)


def answer_section(body: str, page: str) -> str:
    """The text of a page's "Answer in 30 seconds" section, without its heading."""
    match = ANSWER_START.search(body)
    if match is None:
        raise PluginError(f"{page}: an answer page needs a '{ANSWER_HEADING}' section")
    text = body[match.end():]
    end = NEXT_SECTION.search(text)
    text = (text[:end.start()] if end else text).strip()
    if not text:
        raise PluginError(f"{page}: its '{ANSWER_HEADING}' section is empty")
    return text


def rebase_links(markdown: str, from_uri: str, to_uri: str) -> str:
    """Rewrite the relative links and images of ``from_uri``'s Markdown for a page at ``to_uri``.

    A bare anchor (``#section``) points back into ``from_uri``.
    """
    src_dir, dst_dir = posixpath.dirname(from_uri), posixpath.dirname(to_uri) or "."

    def replace(match: re.Match) -> str:
        href = match["href"]
        target = posixpath.normpath(posixpath.join(src_dir, href)) if href else from_uri
        new = posixpath.relpath(target, dst_dir)
        return f"{match['lead']}{new}{match['anchor'] or ''}{match['tail']}"

    return RELATIVE_LINK.sub(replace, markdown)


def read_page(docs_dir: Path, uri: str) -> tuple[str, dict, str]:
    """Return (title, front matter, body) of a Markdown page."""
    body, meta = get_data((docs_dir / uri).read_text(encoding="utf-8"))
    match = H1.search(body)
    return (match["title"].strip() if match else uri), meta, body


def parts(nav: list) -> list[tuple[str, list[str]]]:
    """(part title, page uris) of every "Part ..." section of the nav, in nav order."""
    out = []
    for entry in nav:
        if not isinstance(entry, dict):
            continue
        (title, pages), = entry.items()
        if isinstance(pages, list) and title.startswith("Part "):
            uris = [next(iter(p.values())) if isinstance(p, dict) else p for p in pages]
            out.append((title, [u for u in uris if isinstance(u, str) and u.endswith(".md")]))
    return out


def difficulty(meta: dict, uri: str) -> str | None:
    """A page's ``difficulty`` front matter, checked."""
    level = meta.get("difficulty")
    if level is not None and level not in DIFFICULTIES:
        raise PluginError(f"{uri}: difficulty must be one of {DIFFICULTIES}, got {level!r}")
    return level


def cheat_sheet(nav: list, docs_dir: Path, page_uri: str = "cheat-sheet.md") -> str:
    """Markdown: every answer's 30-second answer, grouped by part, with difficulty and link."""
    sections, count = [], 0
    for part, uris in parts(nav):
        items = []
        for uri in uris:
            title, meta, body = read_page(docs_dir, uri)
            link = posixpath.relpath(uri, posixpath.dirname(page_uri) or ".")
            level = difficulty(meta, uri)
            tag = (f'<span class="dl-difficulty dl-difficulty--{level}">{level}</span> '
                   if level else "")
            if meta.get("state") == "todo":
                answer = "*Not written yet.*"
            else:
                answer = rebase_links(answer_section(body, uri), uri, page_uri)
            items.append(
                f'<div class="dl-cheat__item" data-difficulty="{level or ""}" markdown>\n\n'
                f"### {title}\n\n"
                f'<p class="dl-cheat__meta" markdown>{tag}[Full answer]({link})</p>\n\n'
                f"{answer}\n\n</div>")
            count += 1
        if items:
            sections.append(f"## {part}\n\n" + "\n\n".join(items))
    if not count:
        raise PluginError(f"{page_uri}: the nav has no answer pages to put on the cheat sheet")
    return ('<div class="dl-cheat" markdown>\n\n' + "\n\n".join(sections) + "\n\n</div>")


def index_rows(nav: list, docs_dir: Path, urls: dict[str, str]) -> dict[str, dict[str, str]]:
    """Site URL (``urls`` maps source uri to URL) -> difficulty and part of every answer page."""
    out = {}
    for part, uris in parts(nav):
        for uri in uris:
            _, meta, _ = read_page(docs_dir, uri)
            if uri in urls:
                out[urls[uri]] = {"difficulty": difficulty(meta, uri) or "", "part": part}
    return out


def annotate_index(html: str, page_url: str, rows: dict[str, dict[str, str]]) -> str:
    """Give each index row linking to an answer page ``data-dl-page`` (its URL from the site's
    root), ``data-difficulty`` and ``data-part``, and a difficulty tag after its link."""

    def replace(match: re.Match) -> str:
        base = posixpath.dirname(page_url.rstrip("/") + "/x") if page_url else ""
        url = posixpath.normpath(posixpath.join(base, match["href"]))
        url = "" if url == "." else url + ("/" if match["href"].endswith("/") else "")
        info = rows.get(url)
        if info is None:
            return match.group(0)
        level, part = info["difficulty"], html_lib.escape(info["part"], quote=True)
        tag = (f' <span class="dl-difficulty dl-difficulty--{level}">{level}</span>'
               if level else "")
        return (f'<tr data-dl-page="{html_lib.escape(url, quote=True)}" data-difficulty="{level}" '
                f'data-part="{part}">{match["cells"]}{tag}')

    return INDEX_ROW.sub(replace, html)
