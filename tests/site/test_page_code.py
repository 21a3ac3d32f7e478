"""Code written directly in a page (not included from snippets/) is executed, so it cannot rot."""

from __future__ import annotations

from sitetools import all_pages

INLINE = [
    (page, i, body)
    for page in all_pages()
    for i, (info, body) in enumerate(page.code_blocks())
    if info.split()[:1] in (["python"], ["py"]) and "--8<--" not in body
]


def test_inline_python_runs():
    """Every inline block runs (there may be none: pages prefer tested includes)."""
    for page, index, code in INLINE:
        exec(compile(code, f"{page.uri}:block{index}", "exec"), {"__name__": "__page__"})


def test_inline_blocks_are_found_by_the_collector():
    """The collector sees indented blocks inside tabs and admonitions too (guards the test above)."""
    from sitetools import Page

    page = Page(path=None, meta={}, body='=== "NumPy"\n\n    ```python\n    x = 1\n    ```\n')
    assert page.code_blocks() == [("python", "x = 1")]
