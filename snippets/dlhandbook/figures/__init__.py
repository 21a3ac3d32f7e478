"""The handbook's figures: one function per figure, a registry, a deterministic writer.

A figure function takes no arguments and returns a ``matplotlib.figure.Figure`` drawn
with the current style. Register it with ``@figure("name")`` in any module of this
package; the registry imports every module, so adding a figure never means editing a
shared list. ``build`` draws each figure once, in the light theme, and saves it twice:
``name.svg``, and ``name.dark.svg`` with the light theme's colours replaced by the dark
theme's; pages show them with Material's ``#only-light`` and ``#only-dark`` suffixes.
A figure takes its theme colours from ``plt.rcParams``. ``build`` refuses a figure with
more than two panels side by side; ``style`` holds the sizes that keep text legible on a
laptop and on a phone.

Cache any expensive experiment behind a figure with ``functools.cache``: the tests draw
some figures again.
"""

from __future__ import annotations

import importlib
import io
import pkgutil
from collections.abc import Callable
from pathlib import Path

import matplotlib
import matplotlib.figure

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import mathtext  # noqa: E402

from dlhandbook.figures.style import THEMES, recolor, theme  # noqa: E402


def share_math_parses() -> bool:
    """Make Matplotlib parse each math string once per process instead of once per renderer.

    ``MathTextParser._parse_cached`` is an ``lru_cache(50)`` on a method, so its key holds
    the parser, and every renderer owns a parser of its own. ``savefig`` makes new
    renderers and lays a figure out several times, so each ``$10^{-4}$`` tick label was
    parsed again and again: a third of the time ``savefig`` took over all figures
    (matplotlib issue 20821 tracks the parser's speed). The shared cache keys a parse on
    everything the parse reads: the arguments, the parser's output type and the
    ``mathtext.*`` settings, so the bytes written are the same
    (``tests/site/test_figures.py`` checks). Returns whether it is in place; where a
    Matplotlib release changes that method, it is left alone.
    """
    cached = mathtext.MathTextParser._parse_cached
    if getattr(cached, "shared_by_dlhandbook", False):
        return True
    parse = getattr(cached, "__wrapped__", None)
    if parse is None:
        return False
    settings = sorted(k for k in matplotlib.rcParams if k.startswith("mathtext."))
    parses: dict[tuple, object] = {}

    def _parse_cached(self, s, dpi, prop, antialiased, load_glyph_flags):
        key = (self._output_type, s, dpi, prop, antialiased, load_glyph_flags,
               tuple(str(matplotlib.rcParams[k]) for k in settings))
        if key not in parses:
            parses[key] = parse(self, s, dpi, prop, antialiased, load_glyph_flags)
        return parses[key]

    _parse_cached.shared_by_dlhandbook = True
    _parse_cached.unshared = cached
    mathtext.MathTextParser._parse_cached = _parse_cached
    return True


share_math_parses()

FigureFn = Callable[[], "matplotlib.figure.Figure"]
TableFn = Callable[[], str]
FIGURES: dict[str, FigureFn] = {}
TABLES: dict[str, TableFn] = {}
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_OUT = REPO_ROOT / "docs" / "generated" / "figures"


def figure(name: str) -> Callable[[FigureFn], FigureFn]:
    """Register a figure function under ``name`` (the SVG's file stem)."""

    def register(fn: FigureFn) -> FigureFn:
        if name in FIGURES:
            raise ValueError(f"figure name {name!r} is registered twice")
        FIGURES[name] = fn
        return fn

    return register


def table(name: str) -> Callable[[TableFn], TableFn]:
    """Register a function returning a Markdown table, written to ``tables/name.md``.

    Pages include it with ``--8<-- "generated/tables/name.md"``, so a measured number in
    a table comes from the code, never from the page.
    """

    def register(fn: TableFn) -> TableFn:
        if name in TABLES:
            raise ValueError(f"table name {name!r} is registered twice")
        TABLES[name] = fn
        return fn

    return register


def build_table(name: str, out_dir: Path) -> Path:
    """Compute table ``name`` and write it as Markdown to ``out_dir/name.md``."""
    if name not in TABLES:   # a worker imports only the module it draws
        load_all()
    fn = TABLES[name]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.md"
    path.write_text(fn().rstrip("\n") + "\n", encoding="utf-8")
    return path


def load_all() -> dict[str, FigureFn]:
    """Import every module of this package so that each registers its figures."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in {"style", "notebooks", "generate", "__main__"}:
            importlib.import_module(f"{__name__}.{module.name}")
    return FIGURES


def paths(name: str, out_dir: Path) -> dict[str, Path]:
    """The files a figure is written to, by theme."""
    return {t: out_dir / (f"{name}.svg" if t == "light" else f"{name}.{t}.svg")
            for t in THEMES}


MAX_PANELS_SIDE_BY_SIDE = 2   # a phone's content column (358 px) fits two panels


def panels_side_by_side(fig: matplotlib.figure.Figure) -> int:
    """The largest number of panels that share a row of ``fig``, as last drawn.

    A panel is a visible Axes (with its frame drawn or not) other than a colorbar. Two
    panels share a row when their vertical extents overlap by more than half the shorter
    one; in a row, panels that overlap horizontally (a ``twinx``, an inset added by
    ``fig.add_axes``) count once.
    Insets made with ``ax.inset_axes`` are children of their Axes and are not counted.
    """
    boxes = [ax.get_position() for ax in fig.axes
             if ax.get_visible() and not hasattr(ax, "_colorbar")
             and ax.get_label() != "<colorbar>"]
    widest = 0
    for box in boxes:
        row = [b for b in boxes
               if min(b.y1, box.y1) - max(b.y0, box.y0)
               > 0.5 * min(b.height, box.height)]
        count, right = 0, -float("inf")
        for b in sorted(row, key=lambda b: b.x1):   # most disjoint intervals, greedily
            if b.x0 >= right - 1e-9:
                count, right = count + 1, b.x1
        widest = max(widest, count)
    return widest


def check_layout(name: str, fig: matplotlib.figure.Figure) -> None:
    """Raise if figure ``name`` puts more panels side by side than a phone can show."""
    n = panels_side_by_side(fig)
    if n > MAX_PANELS_SIDE_BY_SIDE:
        raise ValueError(
            f"figure {name!r} has {n} panels side by side in one row; at most "
            f"{MAX_PANELS_SIDE_BY_SIDE} fit a phone: use a 2-column grid or stack them")


def build(name: str, out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Draw figure ``name`` once, in the light theme; write deterministic SVGs to ``out_dir``,
    the light one and its recolouring for each other theme (``style.recolor``).

    Raises ``ValueError`` naming the figure if it puts over two panels side by side.
    """
    fn = FIGURES[name] if name in FIGURES else load_all()[name]   # see build_table
    out_dir.mkdir(parents=True, exist_ok=True)
    out = paths(name, out_dir)
    with theme("light"):
        fig = fn()
        try:
            svg = io.StringIO()
            fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
            check_layout(name, fig)   # after savefig: positions are those drawn
        finally:
            plt.close(fig)
    for theme_name, path in out.items():
        path.write_text(recolor(svg.getvalue(), theme_name), encoding="utf-8")
    return list(out.values())
