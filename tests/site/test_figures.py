"""Figures are deterministic build products, and every image a page shows exists."""

from __future__ import annotations

import re
import sys

import pytest

from dlhandbook.figures import generate
from sitetools import DOCS, IMAGE, REPO, all_pages, nav_uris, run


def test_a_plain_mkdocs_build_in_a_fresh_copy_draws_everything_and_shows_it(fresh_build):
    """``mkdocs build --strict`` in a copy of the repository without ``docs/generated`` draws every
    figure, table and notebook that the jobs register, from the hook, in its own processes, the
    last figures while the pages render, and its site shows them (``fresh_build``)."""
    copy, site = fresh_build
    drawn = copy / "docs" / "generated"
    expected = sorted(rel for job in generate.all_jobs() for rel in generate.expected_outputs(job))
    written = sorted(str(p.relative_to(drawn)) for sub, pattern in
                     [("figures", "*.svg"), ("tables", "*.md"), ("notebooks", "*.ipynb")]
                     for p in (drawn / sub).glob(pattern))
    assert written == expected
    for svg in (drawn / "figures").glob("*.svg"):
        assert (site / "generated" / "figures" / svg.name).read_bytes() == svg.read_bytes()
    for uri in nav_uris():
        stem = uri.rsplit(".", 1)[0]
        assert (site / ("index.html" if stem == "index" else f"{stem}/index.html")).is_file(), uri


# Redrawn by the figure command in a fresh process: a module with a table and another.
REDRAWN = ("dlhandbook.figures.activations", "dlhandbook.figures.dimensionality")


def test_figures_and_tables_drawn_again_are_the_same_bytes(generated, tmp_path):
    """Drawing is deterministic: the figure command, run again in a process of its own, writes
    the bytes that the build's hook wrote (no dates, fixed element ids, one thread)."""
    jobs = [j for j in generate.all_jobs() if j.name in REDRAWN]
    assert len(jobs) == len(REDRAWN)
    names = [n for job in jobs for n in generate.registered_names(job)]
    args = [a for n in names for a in ("--only", n)]
    run(sys.executable, "-m", "dlhandbook.figures", *args, "--out", str(tmp_path))
    outputs = [rel for job in jobs for rel in generate.expected_outputs(job)]
    assert any(rel.startswith("tables/") for rel in outputs)
    for rel in outputs:
        assert (tmp_path / rel).read_bytes() == (generated / rel).read_bytes(), rel


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


# Legibility. An SVG is shown at its natural size (1 pt = 4/3 px), shrunk to the content width
# when wider, so text drawn at `pt` points is displayed at pt * 4/3 * min(1, W / width_px) px.
LAPTOP_PX, LAPTOP_MIN_TEXT_PX = 750, 11.0   # Material's content column on a laptop
PHONE_PX, PHONE_MIN_TEXT_PX = 358, 9.0      # the same column on a 390 px phone screen
_WIDTH = re.compile(r'<svg[^>]*\swidth="(?P<w>[\d.]+)pt"')
# With svg.fonttype "path", matplotlib writes each text as a comment holding the string, then a
# group `translate(x y) [rotate(a)] scale(s -s)` where s = fontsize / 100 (backend_svg's
# _draw_text_as_path, TextToPath.FONT_SCALE = 100).
_TEXT = re.compile(r'<!-- (?P<text>.*?) -->\s*<g (?:style="[^"]*" )?transform="translate\([^)]*\)'
                   r'(?: rotate\([^)]*\))? scale\((?P<s>[\d.e-]+) -(?P=s)\)"', re.S)


def svg_legibility(svg: str) -> tuple[float, list[tuple[float, str]]]:
    """The SVG's width in pt, and (font size in pt, text) for every text it draws."""
    width = _WIDTH.search(svg)
    assert width, "no width in pt on the <svg> element"
    return float(width["w"]), [(float(m["s"]) * 100, m["text"]) for m in _TEXT.finditer(svg)]


_GROUP = re.compile(r'scale\((?P<s>[\d.e-]+) -(?P=s)\)">(?P<body>.*?)</g>', re.S)
_GLYPH_SCALE = re.compile(r'<use [^>]*transform="[^"]*scale\((?P<g>[\d.e-]+)\)"')


def smallest_glyph_pt(svg: str) -> float:
    """The smallest glyph drawn, in pt: math sub- and superscripts are 0.7 of their text."""
    return min(float(m["s"]) * 100 * min([1.0] + [float(g) for g in _GLYPH_SCALE.findall(m["body"])])
               for m in _GROUP.finditer(svg))


def displayed_px(font_pt: float, width_pt: float, content_px: float) -> float:
    """Displayed size in CSS px of `font_pt` text in an SVG `width_pt` wide, in a column."""
    return font_pt * 4 / 3 * min(1.0, content_px / (width_pt * 4 / 3))


def test_svg_legibility_parser_reads_matplotlib_output(tmp_path):
    """The parser finds every text of a small figure, with the sizes it was drawn at."""
    import matplotlib.pyplot as plt

    from dlhandbook.figures.style import theme

    with theme("light"):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1], [0, 1], label="a line")
        ax.set_xlabel("$z$", fontsize=13)
        ax.set_ylabel("rotated", fontsize=12)
        ax.legend(fontsize=9)
        fig.savefig(tmp_path / "f.svg", format="svg", metadata={"Date": None})
        plt.close(fig)
    width, texts = svg_legibility((tmp_path / "f.svg").read_text())
    sizes = {text: pt for pt, text in texts}
    assert 200 < width < 300   # 4 in = 288 pt, trimmed by bbox "tight"
    assert sizes["$z$"] == pytest.approx(13) and sizes["rotated"] == pytest.approx(12)
    assert sizes["a line"] == pytest.approx(9)
    svg = (tmp_path / "f.svg").read_text()
    assert smallest_glyph_pt(svg) == pytest.approx(9)   # no superscripts in this figure
    assert displayed_px(12, 288, 750) == pytest.approx(16)   # natural size: 1 pt = 4/3 px
    assert displayed_px(12, 576, 384) == pytest.approx(8)    # 768 px wide, shown at 384 px


def test_every_figure_is_legible_on_a_laptop_and_a_phone(generated):
    """Every text in every SVG is >= 11 px in a 750 px column and >= 9 px in a 358 px one.

    ``pytest -s`` prints the smallest text per figure at both widths.
    """
    rows, failures = [], []
    for path in sorted((generated / "figures").glob("*.svg")):
        if path.name.endswith(".dark.svg"):
            continue   # same layout as the light file, checked below by the size table
        width, texts = svg_legibility(path.read_text())
        assert texts, f"{path.name}: no text found; is svg.fonttype still 'path'?"
        pt, text = min(texts)
        laptop, phone = displayed_px(pt, width, LAPTOP_PX), displayed_px(pt, width, PHONE_PX)
        glyph = smallest_glyph_pt(path.read_text())   # reported, not asserted
        rows.append(f"{path.stem:38s} {width / 72:5.2f} in {pt:5.1f} pt "
                    f"{laptop:5.1f} px @750 {phone:5.1f} px @358  {text[:26]!r:28s} "
                    f"superscripts {displayed_px(glyph, width, LAPTOP_PX):4.1f} / "
                    f"{displayed_px(glyph, width, PHONE_PX):4.1f} px")
        if laptop < LAPTOP_MIN_TEXT_PX - 1e-6 or phone < PHONE_MIN_TEXT_PX - 1e-6:
            failures.append(f"{path.name}: {text!r} at {pt:g} pt in a {width / 72:.2f} in figure "
                            f"shows at {laptop:.1f} px on a laptop, {phone:.1f} px on a phone")
    print("\nsmallest text per figure\n" + "\n".join(rows))
    assert not failures, "\n".join(failures)


def test_dark_variant_has_the_light_layout(generated):
    """The dark SVG has the same width and text sizes as the light one."""
    for dark in (generated / "figures").glob("*.dark.svg"):
        light = dark.with_name(dark.name.replace(".dark.svg", ".svg"))
        (wd, td), (wl, tl) = svg_legibility(dark.read_text()), svg_legibility(light.read_text())
        assert wd == pytest.approx(wl, rel=1e-3) and sorted(td) == sorted(tl), dark.name


def _layout(rows: int, cols: int, *, twin: bool = False, colorbar: bool = False,
            frameless: bool = False):
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(rows, cols, figsize=(6, 4), squeeze=False)
    if frameless:   # images or diagrams with the axis turned off are panels all the same
        for ax in axes.flat:
            ax.axis("off")
    if twin:
        axes[0, 0].twinx()
    if colorbar:
        image = axes[0, -1].imshow(np.eye(3))
        fig.colorbar(image, ax=axes[0, -1])
    axes[0, 0].inset_axes((0.6, 0.6, 0.3, 0.3))
    fig.add_axes((0.15, 0.7, 0.1, 0.1))   # a figure-level inset over the first panel
    return fig


@pytest.mark.parametrize(("rows", "cols", "twin", "colorbar", "frameless", "expected"), [
    (1, 1, False, False, False, 1), (1, 2, True, True, False, 2), (2, 2, True, True, False, 2),
    (4, 2, False, False, False, 2), (1, 3, False, False, False, 3), (2, 4, False, False, False, 4),
    (1, 3, False, False, True, 3),
])
def test_panels_side_by_side_ignores_twins_insets_and_colorbars(rows, cols, twin, colorbar,
                                                                  frameless, expected):
    import matplotlib.pyplot as plt

    from dlhandbook.figures import panels_side_by_side

    fig = _layout(rows, cols, twin=twin, colorbar=colorbar, frameless=frameless)
    fig.canvas.draw()
    assert panels_side_by_side(fig) == expected
    plt.close(fig)


def test_build_rejects_three_panels_side_by_side(tmp_path, monkeypatch):
    """The build fails, naming the figure, and leaves no SVG of it behind."""
    from dlhandbook import figures

    figures.load_all()
    monkeypatch.setitem(figures.FIGURES, "three-wide", lambda: _layout(1, 3))
    monkeypatch.setitem(figures.FIGURES, "two-by-two", lambda: _layout(2, 2, twin=True))
    assert [p.name for p in figures.build("two-by-two", tmp_path)] == [
        "two-by-two.svg", "two-by-two.dark.svg"]
    with pytest.raises(ValueError, match="'three-wide' has 3 panels side by side"):
        figures.build("three-wide", tmp_path)
    assert not list(tmp_path.glob("three-wide*"))


def _math_probe():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.loglog([1e-4, 1.0], [1.0, 1e4], label=r"$\eta_t = \eta_0/\sqrt{t}$")
    ax.set_xlabel(r"step size $\eta$")
    ax.set_title(r"$\hat m_t / (\sqrt{\hat v_t} + \epsilon)$")
    ax.legend()
    return fig


def test_math_is_parsed_once_per_process_and_gives_the_same_bytes(tmp_path, monkeypatch):
    """``figures.share_math_parses`` is in place (a Matplotlib upgrade that changes the method
    it wraps fails here); a second drawing parses no math string again, though ``savefig``
    makes new renderers; and the SVG equals the one Matplotlib's own cache gives."""
    from matplotlib import _mathtext, mathtext

    from dlhandbook import figures

    assert figures.share_math_parses()
    shared = mathtext.MathTextParser._parse_cached
    monkeypatch.setitem(figures.FIGURES, "math-probe", _math_probe)
    first = figures.build("math-probe", tmp_path / "shared")[0].read_bytes()

    parsed = []
    real_parse = _mathtext.Parser.parse
    monkeypatch.setattr(_mathtext.Parser, "parse",
                        lambda self, s, *args: parsed.append(s) or real_parse(self, s, *args))
    assert figures.build("math-probe", tmp_path / "again")[0].read_bytes() == first
    assert parsed == []

    monkeypatch.setattr(mathtext.MathTextParser, "_parse_cached", shared.unshared)
    assert figures.build("math-probe", tmp_path / "unshared")[0].read_bytes() == first
    assert parsed, "the unshared cache parses again: the probe did exercise mathtext"


def _numbered_marker_ids(svg: str) -> str:
    """The SVG with matplotlib's marker ids (a hash of the marker's style, colour included)
    renumbered in order of appearance."""
    ids: dict[str, str] = {}
    return re.sub(r"\bm[0-9a-f]{10}\b", lambda m: ids.setdefault(m[0], f"m{len(ids)}"), svg)


@pytest.mark.parametrize("name", ["backprop-computational-graph", "gradients-remedies",
                                  "losses-margin"])
def test_the_dark_svg_is_the_light_one_recoloured(name, tmp_path):
    """Drawing a figure in the dark theme gives the bytes that recolouring its light SVG gives
    (up to marker ids), for figures that use the theme's text colour, mathtext, a grid and
    legends; and no light-theme colour is left in the dark file."""
    import io

    import matplotlib.pyplot as plt

    from dlhandbook import figures
    from dlhandbook.figures.style import RECOLOR, theme

    light, dark = figures.build(name, tmp_path)
    with theme("dark"):
        fig = figures.FIGURES[name]()
        drawn = io.StringIO()
        fig.savefig(drawn, format="svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)
    recoloured = dark.read_text(encoding="utf-8")
    assert _numbered_marker_ids(recoloured) == _numbered_marker_ids(drawn.getvalue())
    assert recoloured != light.read_text(encoding="utf-8")
    assert not any(colour in recoloured for colour in RECOLOR)


def _luminance(hex_color: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    channels = [int(hex_color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_palette_lines_contrast_with_both_backgrounds():
    """Every line colour but the amber marker reaches 3:1 (WCAG's graphics threshold)."""
    from dlhandbook.figures.style import BACKGROUNDS, PALETTE

    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    for color in PALETTE[:6] + PALETTE[7:]:
        for name, background in BACKGROUNDS.items():
            assert contrast(color, background) >= 3.0, f"{color} on the {name} background"
