"""The revision tools' build-time half (``dlhandbook.site.revision``): the cheat sheet generated from
the pages' 30-second answers, and the data the home index's filters and review marks use. Fast:
no build, only the Markdown sources (the browser half is in ``test_browser.py``)."""

from __future__ import annotations

import re

import pytest
from mkdocs.exceptions import PluginError
from mkdocs.utils.meta import get_data

from dlhandbook.site import revision
from sitetools import DOCS, mkdocs_config

pytestmark = pytest.mark.site


def _page(tmp_path, uri, text):
    path = tmp_path / uri
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


PAGE = ("---\nstate: complete\ndifficulty: {level}\n---\n\n# {title}\n\n## Answer in 30 seconds\n\n"
        "{answer}\n\n## The full answer\n\nLong text.\n")


@pytest.fixture
def small_docs(tmp_path):
    _page(tmp_path, "a/q01.md", PAGE.format(level="easy", title="Q1. First?",
                                            answer="See [Q2](q02.md) and [this](#the-full-answer); $x^2$."))
    _page(tmp_path, "a/q02.md", PAGE.format(level="hard", title="Q2. Second?", answer="Two."))
    _page(tmp_path, "b/extra.md", PAGE.format(level="medium", title="An extra", answer="Extra."))
    _page(tmp_path, "b/todo.md", "---\nstate: todo\n---\n\n# Q3. Later?\n\nNot yet.\n")
    nav = [{"Home": "index.md"}, {"Cheat sheet": "cheat-sheet.md"},
           {"Part A. First": [{"Q1": "a/q01.md"}, {"Q2": "a/q02.md"}]},
           {"Part B. Second": [{"Extra: x": "b/extra.md"}, {"Q3": "b/todo.md"}]},
           {"About": [{"Figures": "figures.md"}]}]
    return tmp_path, nav


def test_answer_section_is_the_text_between_its_heading_and_the_next_section():
    body = "# Q1. T\n\n## Answer in 30 seconds\n\nOne.\n\nTwo.\n\n## The full answer\n\nNo.\n"
    assert revision.answer_section(body, "p.md") == "One.\n\nTwo."


def test_answer_section_missing_or_empty_fails_naming_the_page():
    with pytest.raises(PluginError, match="p.md.*Answer in 30 seconds"):
        revision.answer_section("# Q1. T\n\n## The full answer\n\nNo.\n", "p.md")
    with pytest.raises(PluginError, match="p.md.*empty"):
        revision.answer_section("# Q1. T\n\n## Answer in 30 seconds\n\n## Next\n", "p.md")


def test_rebase_links_points_relative_links_and_anchors_from_the_new_page():
    text = ("[a](q02.md) [b](../c/d.md#x) [c](#here) ![f](../generated/figures/f.svg#only-light) "
            "[t](test:tests/x.py::test_y) [w](https://example.org/a.md) [r](/abs.md)")
    out = revision.rebase_links(text, "part-1/q01.md", "cheat-sheet.md")
    assert out == ("[a](part-1/q02.md) [b](c/d.md#x) [c](part-1/q01.md#here) "
                   "![f](generated/figures/f.svg#only-light) "
                   "[t](test:tests/x.py::test_y) [w](https://example.org/a.md) [r](/abs.md)")
    assert revision.rebase_links("[a](q02.md)", "p/q01.md", "other/sheet.md") == "[a](../p/q02.md)"


def test_cheat_sheet_has_every_part_page_in_nav_order_with_difficulty_and_link(small_docs):
    docs, nav = small_docs
    sheet = revision.cheat_sheet(nav, docs)
    assert re.findall(r"^## (.+)$", sheet, re.M) == ["Part A. First", "Part B. Second"]
    assert re.findall(r"^### (.+)$", sheet, re.M) == ["Q1. First?", "Q2. Second?", "An extra", "Q3. Later?"]
    assert re.findall(r'data-difficulty="(\w*)"', sheet) == ["easy", "hard", "medium", ""]
    assert re.findall(r"\[Full answer\]\(([^)]+)\)", sheet) == ["a/q01.md", "a/q02.md", "b/extra.md",
                                                                 "b/todo.md"]
    assert '<span class="dl-difficulty dl-difficulty--hard">hard</span>' in sheet
    # The answer is the page's own, its links rebased, math kept for arithmatex.
    assert "See [Q2](a/q02.md) and [this](a/q01.md#the-full-answer); $x^2$." in sheet
    assert "Long text" not in sheet and "Not written yet" in sheet


def test_cheat_sheet_rejects_a_bad_difficulty_and_an_empty_nav(small_docs):
    docs, nav = small_docs
    _page(docs, "a/q02.md", PAGE.format(level="trivial", title="Q2. Second?", answer="Two."))
    with pytest.raises(PluginError, match="a/q02.md: difficulty"):
        revision.cheat_sheet(nav, docs)
    with pytest.raises(PluginError, match="no answer pages"):
        revision.cheat_sheet([{"Home": "index.md"}], docs)


def test_annotate_index_gives_rows_their_page_difficulty_and_part(small_docs):
    docs, nav = small_docs
    urls = {"a/q01.md": "a/q01/", "a/q02.md": "a/q02/", "b/extra.md": "b/extra/", "b/todo.md": "b/todo/"}
    rows = revision.index_rows(nav, docs, urls)
    assert rows["a/q02/"] == {"difficulty": "hard", "part": "Part A. First"}
    assert rows["b/todo/"] == {"difficulty": "", "part": "Part B. Second"}
    html = ('<table><tr>\n<th></th>\n</tr>\n<tr>\n<td>Q2</td>\n<td><a href="a/q02/">Second?</a></td>\n'
            '<td>answered</td>\n</tr>\n<tr>\n<td>x</td>\n<td><a href="elsewhere/">x</a></td>\n</tr></table>')
    out = revision.annotate_index(html, "", rows)
    assert ('<tr data-dl-page="a/q02/" data-difficulty="hard" data-part="Part A. First">\n<td>Q2</td>\n'
            '<td><a href="a/q02/">Second?</a> <span class="dl-difficulty dl-difficulty--hard">hard</span>'
            '</td>') in out
    assert out.count("data-dl-page") == 1   # a row linking elsewhere is left alone
    # From a page below the root, links are resolved to URLs from the root.
    assert 'data-dl-page="a/q02/"' in revision.annotate_index(
        html.replace('href="a/q02/"', 'href="../a/q02/"'), "sub/", rows)


def test_every_answer_page_in_the_handbook_gives_the_cheat_sheet_an_answer():
    """The real nav: every page of every part is on the sheet, with the difficulty of its front
    matter and the first words of its own 30-second answer."""
    nav = mkdocs_config()["nav"]
    sheet = revision.cheat_sheet(nav, DOCS)
    pages = [uri for _, uris in revision.parts(nav) for uri in uris]
    assert len(pages) >= 63
    assert re.findall(r"\[Full answer\]\(([^)]+)\)", sheet) == pages
    for uri in pages:
        body, meta = get_data((DOCS / uri).read_text(encoding="utf-8"))
        assert f'data-difficulty="{meta.get("difficulty", "")}" markdown>' in sheet
        first_words = " ".join(revision.answer_section(body, uri).split()[:6])
        assert first_words in " ".join(sheet.split()), uri
