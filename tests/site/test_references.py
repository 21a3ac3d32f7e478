"""Every reference on a written page carries a DOI or arXiv link, or says it has none.

The format, one Markdown list item per reference (see docs/contributing.md):

    - Kingma, D. P. & Ba, J. (2015). Adam: A method for stochastic optimization. *ICLR*.
      [arXiv:1412.6980](https://arxiv.org/abs/1412.6980)
    - Goodfellow, I., Bengio, Y. & Courville, A. (2016). *Deep Learning*. MIT Press.
      No DOI or arXiv ID.

An identifier is written only after it has been checked against an independent citation of the
same work. A work that has a DOI nobody could check says ``DOI not verified.``: honest, and
easy to find and finish later.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from sitetools import all_pages

COMPLETE = [p for p in all_pages() if p.complete]
# A DOI may hold balanced brackets (10.1016/0893-6080(89)90020-8), as Markdown link targets may.
DOI = re.compile(r"\[doi:(?P<text>[^\]]+)\]\(https://doi\.org/(?P<href>(?:[^()\s]|\([^()\s]*\))+)\)")
ARXIV = re.compile(r"\[arXiv:(?P<text>[^\]]+)\]\(https://arxiv\.org/abs/(?P<href>[^)\s]+)\)")
DOI_SYNTAX = re.compile(r"10\.\d{4,9}/[-._;()/:<>A-Za-z0-9]+")
ARXIV_SYNTAX = re.compile(r"(?P<yymm>\d{4})\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/(?P<old>\d{4})\d{3}")
NONE = "No DOI or arXiv ID"
UNVERIFIED = "DOI not verified"
YEAR = re.compile(r"\((?P<year>(?:19|20)\d\d)[a-z]?\)")


def references(page) -> list[str]:
    """The page's reference list items, each joined onto one line."""
    items = re.split(r"\n(?=- )", page.section("References").strip())
    return [" ".join(item.split())[2:] for item in items if item.startswith("- ")]


def identifiers(ref: str) -> list[tuple[str, str]]:
    return [("doi", m["text"]) for m in DOI.finditer(ref)] + [
        ("arXiv", m["text"]) for m in ARXIV.finditer(ref)]


def test_the_format_is_recognised():
    good = ("A. (2015). T. *ICLR*. [arXiv:1412.6980](https://arxiv.org/abs/1412.6980)",
            "B. (1986). T. *Nature*. [doi:10.1038/323533a0](https://doi.org/10.1038/323533a0)",
            "C. (1989). T. [doi:10.1016/0893-6080(89)90020-8](https://doi.org/10.1016/0893-6080(89)90020-8)")
    assert [identifiers(r) for r in good] == [[("arXiv", "1412.6980")], [("doi", "10.1038/323533a0")],
                                              [("doi", "10.1016/0893-6080(89)90020-8")]]
    assert identifiers("C. (2016). *Deep Learning*. MIT Press. No DOI or arXiv ID.") == []
    assert identifiers("D. (2015). T. arXiv:1412.6980") == []   # a bare ID is no link


@pytest.mark.parametrize("page", COMPLETE, ids=lambda p: p.uri)
def test_every_reference_has_an_identifier_or_says_it_has_none(page):
    refs = references(page)
    assert refs, "a written page lists its references"
    for ref in refs:
        ids, none = identifiers(ref), (NONE in ref) + (UNVERIFIED in ref)
        assert ids or none, f"needs a DOI or arXiv link, or '{NONE}.' (or '{UNVERIFIED}.'): {ref}"
        assert len(ids) + none == 1, f"one identifier, or one statement that it has none: {ref}"
        for m in [*DOI.finditer(ref), *ARXIV.finditer(ref)]:
            assert m["text"] == m["href"], f"link text and address differ: {m[0]}"
        for kind, value in identifiers(ref):
            if kind == "doi":
                assert DOI_SYNTAX.fullmatch(value), f"not a DOI: {value}"
                continue
            m = ARXIV_SYNTAX.fullmatch(value)
            assert m, f"not an arXiv ID: {value}"
            year = YEAR.search(ref)
            assert year, f"a reference with an arXiv ID gives its year: {ref}"
            posted = 1900 + int((m["yymm"] or m["old"])[:2])
            posted += 100 if posted < 1991 else 0
            cited = int(year["year"])
            assert cited - 5 <= posted <= cited + 1, (
                f"arXiv {value} was posted in {posted}, far from the cited year {cited}: a typo?")


def test_a_work_cited_on_several_pages_has_one_identifier():
    by_work = defaultdict(set)
    for page in COMPLETE:
        for ref in references(page):
            ids = identifiers(ref)
            if ids:
                title = re.split(r"\(\d{4}[a-z]?\)\.?", ref, maxsplit=1)[-1]
                key = re.sub(r"\W+", " ", DOI.sub("", ARXIV.sub("", title))).lower().split()[:8]
                by_work[" ".join(key)].add(tuple(sorted(ids)))
    clashes = {work: ids for work, ids in by_work.items() if len(ids) > 1}
    assert not clashes, f"the same work cited with different identifiers: {clashes}"
