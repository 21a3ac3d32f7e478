"""The handbook builds with Zensical too, from the same sources, and says the same things.

Material for MkDocs reaches end of life on 2027-05-05, with Zensical as its successor. MkDocs stays
the main builder; this check builds the site a second time with Zensical (which reads
``mkdocs.yml``) and compares it with the MkDocs build: the pages, the test links, the difficulty
tags and provenance stamps, the figures, the math assets and the home index. What only the MkDocs
build has is listed in ``KNOWN_DIFFERENCES``, and the check fails if that list stops being true.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from sitetools import REPO, run

# What Zensical 0.0.73 does not do for this site, each checked below.
KNOWN_DIFFERENCES = {
    "notebook pages": "mkdocs-jupyter renders generated/notebooks/*.ipynb as pages; Zensical has no "
                      "notebook support, so it copies the .ipynb file and makes no page of it",
    "print page": "mkdocs-print-site-plugin (with print_view.py) makes print_page/, the whole "
                  "handbook on one page; Zensical runs no MkDocs plugins but search",
    "index filter data": "the data-difficulty/data-part attributes on the home index's rows "
                         "(filters, review marks) come from an MkDocs hook",
    "search tuning": "the hooks keep code and TeX out of MkDocs' search index and make the "
                     "30-second answer each page's preview; Zensical indexes the page as it is",
    "unwritten marks": "the hooks mark unwritten pages in the nav and in links; every page is "
                       "written today, so no page shows a mark in either build",
}
NOTEBOOK_PAGE = "generated/notebooks/activation-playground/index.html"
PRINT_PAGE = "print_page/index.html"
TEST_LINK = re.compile(r'<a class="dl-test-link" href="(?P<href>[^"]+)" title="(?P<test>[^"]+)">')
FIGURE_LINK = re.compile(r'<a class="dl-figure-link" href="(?P<href>[^"]+)"')
TAG = re.compile(r'<span[^>]*class="dl-difficulty dl-difficulty--(?P<level>\w+)">')
STAMP = re.compile(r'<span class="dl-provenance dl-provenance--(?P<state>\w+)"[^>]*>(?P<text>[^<]*)')
INDEX_ROW = re.compile(r'<tr>\s*<td>(?P<number>[^<]*)</td>\s*<td><a href="(?P<href>[^"]+)">')


@pytest.fixture(scope="module")
def zensical_site(generated, site_port):
    """The site built by ``zensical build`` from the same sources and generated files.

    Zensical wants its output inside the project, so the copy of ``mkdocs.yml`` that names it
    sits in the repository root while the build runs (both are git-ignored, and named for this
    process).
    """
    config = REPO / f".zensical-check-{os.getpid()}.yml"
    site = REPO / f".zensical-site-{os.getpid()}"
    config.write_text((REPO / "mkdocs.yml").read_text(encoding="utf-8")
                      + f"\nsite_dir: {site.name}\n", encoding="utf-8")
    try:
        run(sys.executable, "-m", "zensical", "build", "--clean", "-f", str(config),
            SITE_URL=f"http://127.0.0.1:{site_port}/")
    finally:
        config.unlink()
    yield site
    shutil.rmtree(site, ignore_errors=True)


def _pages(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): p.read_text(encoding="utf-8")
            for p in site.rglob("index.html")}


@pytest.fixture(scope="module")
def both(built_site, zensical_site):
    return _pages(built_site), _pages(zensical_site)


def test_zensical_builds_the_same_pages_but_the_notebook_and_print_page(both, zensical_site):
    mkdocs, zensical = both
    assert set(mkdocs) - set(zensical) == {NOTEBOOK_PAGE, PRINT_PAGE}, (
        KNOWN_DIFFERENCES["notebook pages"], KNOWN_DIFFERENCES["print page"])
    assert set(zensical) <= set(mkdocs)
    assert (zensical_site / "generated/notebooks/activation-playground.ipynb").is_file()


def test_test_links_tags_stamps_and_figures_are_the_same(both):
    mkdocs, zensical = both
    answers = 0
    for uri, html in mkdocs.items():
        if uri not in zensical or uri == "index.html":   # the index: its own test below
            continue
        other = zensical[uri]
        assert "test:tests/" not in other, f"{uri}: a test link left raw"
        for pattern in (TEST_LINK, FIGURE_LINK, TAG):
            assert [m.groups() for m in pattern.finditer(other)] == \
                   [m.groups() for m in pattern.finditer(html)], f"{uri}: {pattern.pattern}"
        assert [m.groups() for m in STAMP.finditer(other)] == [m.groups() for m in STAMP.finditer(html)]
        answers += bool(STAMP.search(html))
    assert answers == 63   # every answer page and extra has its stamp (and tag) in both


def test_the_math_assets_are_there_and_the_same_pages_have_math(both, built_site, zensical_site):
    mkdocs, zensical = both
    files = [p.relative_to(built_site / "generated/mathjax").as_posix()
             for p in (built_site / "generated/mathjax").rglob("*") if p.is_file()]
    assert "startup.js" in files and any(f.endswith(".woff") for f in files)
    for name in files:
        assert (zensical_site / "generated/mathjax" / name).is_file(), name
    assert 'generated/mathjax/startup.js' in (zensical_site / "javascripts/handbook.js").read_text()
    with_math = {u for u, h in mkdocs.items()
                 if 'class="arithmatex"' in h and u not in (NOTEBOOK_PAGE, PRINT_PAGE)}
    assert len(with_math) > 40
    assert with_math == {u for u, h in zensical.items() if 'class="arithmatex"' in h}


def test_the_home_index_lists_the_same_questions(both):
    mkdocs, zensical = both
    rows = [m.groups() for m in INDEX_ROW.finditer(zensical["index.html"])]
    assert len(rows) == 63
    # MkDocs' rows also carry the filters' data (an MkDocs hook); the cells are the same.
    mk_rows = [m.groups() for m in re.finditer(INDEX_ROW.pattern.replace("<tr>", "<tr[^>]*>"),
                                               mkdocs["index.html"])]
    assert rows == mk_rows
    assert mkdocs["index.html"].count("<tr data-dl-page=") == 63
    assert "data-dl-page" not in zensical["index.html"], KNOWN_DIFFERENCES["index filter data"]
    progress = re.compile(r'<p class="dl-progress">.*?</p>', re.S)
    assert progress.search(zensical["index.html"])[0] == progress.search(mkdocs["index.html"])[0]


def test_search_tuning_is_mkdocs_only(built_site, zensical_site):
    """MkDocs' index makes the 30-second answer each page's preview (no entry of its own);
    Zensical's keeps one entry per answer section."""
    import json

    mkdocs = json.loads((built_site / "search/search_index.json").read_text(encoding="utf-8"))
    zensical = json.loads((zensical_site / "search.json").read_text(encoding="utf-8"))
    section = "#answer-in-30-seconds"
    assert not [d for d in mkdocs["docs"] if d["location"].endswith(section)]
    assert len([d for d in zensical["items"] if d["location"].endswith(section)]) == 63, \
        KNOWN_DIFFERENCES["search tuning"]
