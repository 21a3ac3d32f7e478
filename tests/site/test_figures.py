"""Figures are deterministic build products, and every image a page shows exists."""

from __future__ import annotations

import re
import sys

import pytest

from sitetools import DOCS, IMAGE, REPO, all_pages, run


def test_regenerating_gives_byte_identical_files(generated, tmp_path):
    """A second, independent process draws every figure again: same bytes, both themes."""
    run(sys.executable, "-m", "dlhandbook.figures", "--no-notebooks", "--out", str(tmp_path))
    first = sorted(p.name for p in (generated / "figures").glob("*.svg"))
    second = sorted(p.name for p in (tmp_path / "figures").glob("*.svg"))
    assert first == second and first
    for name in first:
        assert (generated / "figures" / name).read_bytes() == (tmp_path / "figures" / name).read_bytes(), name
    for table in (tmp_path / "tables").glob("*.md"):
        assert table.read_text() == (generated / "tables" / table.name).read_text(), table.name


def test_every_figure_has_both_themes_and_no_date(generated):
    svgs = list((generated / "figures").glob("*.svg"))
    light = {p.name[:-4] for p in svgs if not p.name.endswith(".dark.svg")}
    dark = {p.name[:-9] for p in svgs if p.name.endswith(".dark.svg")}
    assert light == dark
    for p in svgs:
        assert "<dc:date>" not in p.read_text(), f"{p.name} carries a date"


@pytest.mark.parametrize("page", all_pages(), ids=lambda p: p.uri)
def test_every_referenced_image_exists(generated, page):
    for m in IMAGE.finditer(page.prose()):
        src = m["src"].split("#", 1)[0]
        if re.match(r"[a-z]+:", src):
            pytest.fail(f"{page.uri}: remote image {src}; images must be local")
        assert (page.path.parent / src).resolve().is_file(), f"{page.uri}: missing image {src}"


def test_every_figure_is_shown_on_some_page(generated):
    text = "\n".join(p.body for p in all_pages())
    unused = [p.name for p in (generated / "figures").glob("*.svg")
              if not p.name.endswith(".dark.svg") and f"figures/{p.name}" not in text]
    assert not unused, f"figures drawn but shown nowhere: {unused}"


def test_figure_command_rejects_unknown_names():
    proc = run(sys.executable, "-m", "dlhandbook.figures", "--only", "no-such-figure", check=False)
    assert proc.returncode != 0 and "no-such-figure" in proc.stderr


def test_docs_generated_is_not_tracked():
    assert "/docs/generated/" in (REPO / ".gitignore").read_text().splitlines()
    assert DOCS / "generated" not in [p for p in DOCS.iterdir() if p.is_symlink()]
