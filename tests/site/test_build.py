"""The site builds strictly, and a broken reference of any kind fails the build."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from sitetools import REPO, mkdocs_config, nav_uris, run

pytestmark = pytest.mark.site


def test_strict_build_renders_every_nav_page(built_site):
    for uri in nav_uris():
        stem = uri.rsplit(".", 1)[0]
        html = built_site / ("index.html" if stem == "index" else f"{stem}/index.html")
        assert html.is_file(), f"{uri} was not rendered"
    for part in ("startup.js", "input/tex.js", "output/chtml.js", "output/chtml/fonts/tex.js"):
        assert (built_site / "generated" / "mathjax" / part).is_file(), part


def test_the_figures_are_drawn_once_per_run(generated, shared):
    """The site tests run on every pytest-xdist worker, but only the fresh copy's build draws the
    figures, once (tests/site/conftest.py). The figure command, run after it by each worker in
    turn, finds every output of the build's hook fresh: the two share one cache. (Drawing twice at
    once into docs/generated would let one build read what another half wrote.)"""
    runs = (shared / "generated.log").read_text(encoding="utf-8").splitlines()
    assert runs, "the generated fixture logged no run"
    for each in runs:
        assert re.search(r": figures: 0 drawn, \d+ up to date", each), runs
    assert len({line.split(":")[0] for line in runs}) == len(runs), runs   # once per worker


def test_home_page_counts_answered_questions(built_site):
    html = (built_site / "index.html").read_text()
    assert "questions answered" in html
    assert html.count('class="dl-status') >= 50


def _mini_site(tmp_path: Path, page: str) -> Path:
    """A copy of the real configuration with a one-page docs folder, for failure tests."""
    config = mkdocs_config()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(page)
    config.update(docs_dir=str(docs), site_dir=str(tmp_path / "site"), nav=[{"Home": "index.md"}],
                  hooks=[str(REPO / h) for h in config["hooks"]], extra_css=[], extra_javascript=[],
                  watch=[str(REPO / w) for w in config.get("watch", [])])
    config["theme"]["custom_dir"] = str(REPO / config["theme"]["custom_dir"])
    config["plugins"] = ["search"]
    for ext in config["markdown_extensions"]:
        if isinstance(ext, dict) and "pymdownx.snippets" in ext:
            ext["pymdownx.snippets"]["base_path"] = [str(REPO / "snippets")]
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config))
    return path


GOOD = '# Page\n\n```python\n--8<-- "dlhandbook/activations/sigmoid.py:numpy"\n```\n'


@pytest.mark.parametrize(
    "page, message",
    [
        (GOOD.replace("sigmoid.py", "no_such_file.py"), "no_such_file.py"),
        (GOOD.replace(":numpy", ":no_such_section"), "no_such_section"),
        ("# Page\n\n- a claim [test](test:tests/activations/test_sigmoid.py::test_that_does_not_exist)\n",
         "test_that_does_not_exist"),
    ],
    ids=["missing-file", "missing-section", "missing-test"],
)
def test_broken_reference_fails_the_build(tmp_path, page, message):
    proc = run(sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(_mini_site(tmp_path, page)),
               check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


def test_the_same_mini_site_builds_when_references_are_good(tmp_path):
    link = "test:tests/activations/test_sigmoid.py::test_saturates_for_large_inputs"
    page = GOOD + f"\n- a claim [test]({link})\n"
    run(sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(_mini_site(tmp_path, page)))
    html = (tmp_path / "site" / "index.html").read_text()
    assert "sigmoid_grad" in html
    # The link points at the commit being built (the line cannot drift) and says what it proves.
    commit = run("git", "rev-parse", "HEAD", check=False).stdout.strip() or "main"
    assert f"/blob/{commit}/tests/activations/test_sigmoid.py#L" in html
    assert ">test: saturates for large inputs</a>" in html


def test_test_links_fall_back_to_main_outside_a_git_checkout(tmp_path):
    from dlhandbook.site.mdext import build_commit, link_tests

    assert build_commit(tmp_path) == "main"
    claim = "- claim [test](test:tests/activations/test_sigmoid.py::test_saturates_for_large_inputs)"
    out = link_tests(claim, "https://example.org/repo", "page.md", commit="0" * 40)
    assert f"https://example.org/repo/blob/{'0' * 40}/tests/activations/test_sigmoid.py#L" in out
    assert "[test: saturates for large inputs]" in out


def test_home_page_count_matches_the_pages(built_site):
    from sitetools import all_pages

    answered = sum(1 for p in all_pages() if p.complete and re.search(r"^# Q\d+\. ", p.body, re.M))
    html = (built_site / "index.html").read_text()
    assert f"<strong>{answered} of 50</strong>" in html


def test_complete_pages_show_their_difficulty(built_site):
    from sitetools import all_pages

    for page in (p for p in all_pages() if p.complete):
        html = (built_site / page.uri[:-3] / "index.html").read_text()
        assert f"dl-difficulty--{page.meta['difficulty']}" in html, page.uri


def test_figures_page_lists_every_figure_once(built_site, generated):
    html = (built_site / "figures" / "index.html").read_text()
    names = [p.name[:-4] for p in (generated / "figures").glob("*.svg") if not p.name.endswith(".dark.svg")]
    for name in names:
        assert html.count(f"<code>{name}</code>") == 1, name


def test_code_set_aside_from_search_comes_back_byte_identical():
    """The hooks hide excluded code from the search plugin's parser and put it back in the page."""
    import dlhandbook.site.hooks as hooks

    html = ('<p>x</p><div class="language-python highlight" data-search-exclude><span class="filename">'
            'a.py</span><pre><span></span><code><span class="n">x</span> = 1\n</code></pre></div>'
            '<div class="language-text highlight" data-search-exclude><pre><code>&lt;!--dl-code:0--&gt;'
            '</code></pre></div><pre><code>kept</code></pre>')
    hidden = hooks._set_code_aside(html, "page.md")
    assert "<span class=\"n\">" not in hidden and "kept" in hidden and hidden.count("<!--dl-code:") == 2
    assert hooks._put_code_back(f"<html>{hidden}</html>", "page.md") == f"<html>{html}</html>"
    assert hooks._put_code_back("<html>no code</html>", "other.md") == "<html>no code</html>"


def test_a_dirty_build_decides_once_which_pages_it_rebuilds(tmp_path):
    """A save during a ``serve --dirty`` build must not make MkDocs write a page it did not
    render (which stopped the server): the build's answer to ``is_modified`` is fixed."""
    import os

    from mkdocs.structure.files import File, Files

    from dlhandbook.site import hooks

    docs, site = tmp_path / "docs", tmp_path / "site"
    (docs).mkdir()
    (docs / "page.md").write_text("# Page\n")
    page = File("page.md", str(docs), str(site), use_directory_urls=True)
    Path(page.abs_dest_path).parent.mkdir(parents=True)
    Path(page.abs_dest_path).write_text("<html></html>")
    os.utime(docs / "page.md", (1, 1))   # the source is older than the page built from it
    files = Files([page])
    assert not files.documentation_pages()[0].is_modified()
    hooks.freeze_modified(files)
    os.utime(docs / "page.md")            # saved again while this build runs
    assert not page.is_modified()         # this build still leaves it alone; the next one rebuilds
    assert File("page.md", str(docs), str(site), use_directory_urls=True).is_modified()
