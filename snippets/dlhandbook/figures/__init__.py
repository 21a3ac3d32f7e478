"""The handbook's figures: one function per figure, a registry, and a deterministic writer.

A figure function takes no arguments and returns a ``matplotlib.figure.Figure`` drawn with the
current style. Register it with ``@figure("name")`` in any module of this package; the registry
imports every module, so adding a figure never means editing a shared list. ``build`` saves each
figure twice, ``name.svg`` in the light theme and ``name.dark.svg`` in the dark theme, and pages
show them with Material's ``#only-light`` and ``#only-dark`` suffixes.

Cache any expensive experiment behind a figure with ``functools.cache``: it is drawn twice.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from dlhandbook.figures.style import THEMES, theme  # noqa: E402

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
    """Register a function that returns a Markdown table; written to ``generated/tables/name.md``.

    Pages include it with ``--8<-- "generated/tables/name.md"``, so a measured number in a table
    comes from the code, never from the page.
    """

    def register(fn: TableFn) -> TableFn:
        if name in TABLES:
            raise ValueError(f"table name {name!r} is registered twice")
        TABLES[name] = fn
        return fn

    return register


def build_table(name: str, out_dir: Path) -> Path:
    """Compute table ``name`` and write it as Markdown to ``out_dir/name.md``."""
    load_all()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.md"
    path.write_text(TABLES[name]().rstrip("\n") + "\n", encoding="utf-8")
    return path


def load_all() -> dict[str, FigureFn]:
    """Import every module of this package so that each registers its figures."""
    for module in pkgutil.iter_modules(__path__):
        if module.name not in {"style", "notebooks", "__main__"}:
            importlib.import_module(f"{__name__}.{module.name}")
    return FIGURES


def paths(name: str, out_dir: Path) -> dict[str, Path]:
    """The files a figure is written to, by theme."""
    return {t: out_dir / (f"{name}.svg" if t == "light" else f"{name}.{t}.svg") for t in THEMES}


def build(name: str, out_dir: Path = DEFAULT_OUT) -> list[Path]:
    """Draw figure ``name`` in every theme and write deterministic SVGs to ``out_dir``."""
    fn = load_all()[name]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for theme_name, path in paths(name, out_dir).items():
        with theme(theme_name):
            fig = fn()
            fig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
            plt.close(fig)
        written.append(path)
    return written
