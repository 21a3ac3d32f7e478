"""Every answer page marked complete follows the page standard of the handbook."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from sitetools import REPO, SECTIONS, TEST_LINK, all_pages, nav_uris

PAGES = all_pages()
COMPLETE = [p for p in PAGES if p.complete]
QUESTION_PAGES = [p for p in PAGES if re.search(r"/q\d\d-", "/" + p.uri)]


def test_all_fifty_questions_have_a_page_in_the_nav():
    nav = nav_uris()
    numbers = set()
    for page in QUESTION_PAGES:
        assert page.uri in nav, f"{page.uri} is not in the nav"
        numbers.add(int(re.search(r"# Q(\d+)\. ", page.body).group(1)))
    assert numbers == set(range(1, 51))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.uri)
def test_state_is_declared_and_honest(page):
    if page.uri in {"index.md", "about.md", "figures.md", "contributing.md", "cheat-sheet.md"}:
        return
    assert page.meta.get("state") in {"complete", "todo"}, "front matter needs state: complete|todo"
    if not page.complete:
        assert "Not written yet" in page.body, "a page that is not written must say so"


@pytest.mark.parametrize("page", COMPLETE, ids=lambda p: p.uri)
class TestCompletePage:
    def test_difficulty_tag(self, page):
        assert page.meta.get("difficulty") in {"easy", "medium", "hard"}

    def test_sections_in_order(self, page):
        assert page.headings(2) == SECTIONS

    def test_code_tabs_include_tested_sections(self, page):
        code = page.section("In code")
        # a pure-Python engine (Q17) is labelled "Python" rather than "NumPy"
        assert ('=== "NumPy"' in code or '=== "Python"' in code) and '=== "PyTorch"' in code
        includes = re.findall(r'--8<-- "(dlhandbook/[\w/]+\.py):(\w+)"', code)
        assert includes, "each tab includes a named section of a file under snippets/"
        assert re.search(r'\?\?\?\+? example "Full file', code), "a collapsible full file for copy-paste"

    def test_figure_in_both_themes(self, page):
        see = page.section("See it")
        light = re.findall(r"generated/figures/([\w-]+)\.svg#only-light", see)
        dark = re.findall(r"generated/figures/([\w-]+)\.dark\.svg#only-dark", see)
        assert light and light == dark
        assert "<figcaption" in see, "a caption that says what to notice"

    def test_claims_link_to_tests(self, page):
        claims = [line for line in page.section("Proven by tests").splitlines() if line.startswith("- ")]
        assert len(claims) >= 3
        for claim in claims:
            assert TEST_LINK.search(claim), f"claim without a test link: {claim}"

    def test_follow_up_questions_are_collapsible(self, page):
        assert 2 <= len(re.findall(r"^\?\?\?\+? question ", page.section("Follow-up questions"), re.M)) <= 4

    def test_references_cite_papers_with_years(self, page):
        assert re.search(r"\b(19|20)\d\d\b", page.section("References"))


def _test_functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("page", [p for p in PAGES if TEST_LINK.search(p.body)], ids=lambda p: p.uri)
def test_every_linked_test_exists(page):
    for m in TEST_LINK.finditer(page.body):
        path = REPO / m["path"]
        assert path.is_file(), f"{page.uri}: {m['path']} does not exist"
        assert m["name"] in _test_functions(path), f"{page.uri}: no {m['name']} in {m['path']}"
