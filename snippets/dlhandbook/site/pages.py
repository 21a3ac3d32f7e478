"""Files generated from the pages themselves, for any builder of the site.

``write_generated`` writes, under ``docs/generated/``:

* ``pages/question-index.md``: the home page's question index, grouped by part, with each
  question's status and a progress count;
* ``pages/figure-gallery.md``: every figure a written page shows, once, with its pages;
* ``pages/cheat-sheet.md``: every answer's 30-second answer (``revision.cheat_sheet``);
* ``mathjax/``: the parts of MathJax 3 the pages load, from the ``django-static-mathjax`` wheel,
  so equations typeset with no network.

``docs/index.md``, ``figures.md`` and ``cheat-sheet.md`` include the Markdown with
pymdownx.snippets, and ``docs/javascripts/handbook.js`` loads MathJax from ``generated/mathjax``,
so MkDocs and Zensical build the same pages from them. The figure command
(``python -m dlhandbook.figures``) and the MkDocs build hook call it; a file is rewritten only when
its content changes, so ``mkdocs serve --dirty`` sees which ones did.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from dlhandbook.site import revision

REPO_ROOT = Path(__file__).resolve().parents[3]
FIGURE_REF = re.compile(
    r"!\[(?P<alt>[^\]]*)\]\((?P<src>[^)#\s]*generated/figures/(?P<name>[\w-]+)\.svg)#only-light\)"
)
# MathJax 3 as separate components, loaded by startup.js only on pages with math: the TeX input
# (extensions autoload on demand), CommonHTML output and its fonts. About 0.55 MB against the
# 1.3 MB of the combined tex-chtml-full bundle; no menu, no speech engine.
MATHJAX_PARTS = ("startup.js", "core.js", "input/tex.js", "input/tex/extensions", "output/chtml.js",
                 "output/chtml/fonts/tex.js", "output/chtml/fonts/woff-v2")
INCLUDED = ("question-index.md", "figure-gallery.md", "cheat-sheet.md")   # under generated/pages


def nav_pages(nav: list) -> Iterator[str]:
    """Every page path of a nav, in order."""
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            yield from nav_pages(value)
        else:
            yield value


def question_index(nav: list, docs_dir: Path) -> str:
    """A Markdown index of every question in the nav, grouped by part, with its status."""
    sections, answered, total, extras_done, extras = [], 0, 0, 0, 0
    for part, uris in revision.parts(nav):
        rows = ["| | Question | Status |", "|---|---|---|"]
        for uri in uris:
            title, meta, _ = revision.read_page(docs_dir, uri)
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
    for uri in nav_pages(nav):
        if not uri.endswith(".md"):
            continue
        title, meta, body = revision.read_page(docs_dir, uri)
        if meta.get("state") != "complete":
            continue
        for fig in FIGURE_REF.finditer(body):
            src = fig["src"].split("generated/", 1)[1]
            figures.setdefault(fig["name"], (fig["alt"], src, []))[2].append(f"[{title}]({uri})")
    out = [f"### {alt}\n\nShown in {', '.join(pages)} &middot; `{name}`\n\n"
           f"![{alt}](generated/{src}#only-light)\n![{alt}](generated/{src[:-4]}.dark.svg#only-dark)\n"
           for name, (alt, src, pages) in figures.items()]
    return "\n".join(out) if out else "No figures yet."


def _mathjax_root() -> Path:
    import mathjax  # the django-static-mathjax wheel; no Django needed

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def copy_mathjax(out_dir: Path) -> bool:
    """Copy MathJax's parts to ``out_dir`` unless this version is there already."""
    from importlib.metadata import version as installed

    version = installed("django-static-mathjax")
    stamp = out_dir / ".version"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == version:
        return False
    shutil.rmtree(out_dir, ignore_errors=True)
    root = _mathjax_root()
    for part in MATHJAX_PARTS:
        src = root / part
        if src.is_dir():
            shutil.copytree(src, out_dir / part)
        else:
            (out_dir / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, out_dir / part)
    stamp.write_text(version, encoding="utf-8")
    return True


def write_generated(docs_dir: Path, nav: list, out: Path | None = None) -> list[Path]:
    """Write the included pages and MathJax to ``out`` (default ``docs_dir/generated``), from
    the pages of ``docs_dir`` in ``nav``; return what changed."""
    out = Path(docs_dir) / "generated" if out is None else Path(out)
    texts = {"question-index.md": question_index(nav, docs_dir),
             "figure-gallery.md": figure_gallery(nav, docs_dir),
             "cheat-sheet.md": revision.cheat_sheet(nav, docs_dir, "cheat-sheet.md")}
    changed = [out / "pages" / name for name, text in texts.items()
               if _write_if_changed(out / "pages" / name, text.rstrip("\n") + "\n")]
    if copy_mathjax(out / "mathjax"):
        changed.append(out / "mathjax")
    return changed


def load_nav(config_file: Path = REPO_ROOT / "mkdocs.yml") -> list:
    """The nav of ``mkdocs.yml`` (for the figure command, which runs outside a build)."""
    from mkdocs.utils.yaml import yaml_load

    with open(config_file, "rb") as f:
        return yaml_load(f)["nav"]
