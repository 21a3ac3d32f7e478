"""Light and dark styles shared by all figures, and the settings that make SVGs reproducible."""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib as mpl

# Mid-luminance hues that read on white and on Material's dark slate background alike.
PALETTE = ["#3b6fd4", "#e8590c", "#2f9e44", "#c2255c", "#7048e8", "#0c8599", "#e0a100", "#868e96"]

_COMMON = {
    "svg.hashsalt": "dlhandbook",   # stable element ids, so two builds give the same bytes
    "svg.fonttype": "path",         # text as paths: no font needed in the browser
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "savefig.bbox": "tight",
    "figure.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
}


def _colors(fg: str, grid: str) -> dict:
    return {"text.color": fg, "axes.labelcolor": fg, "axes.edgecolor": fg, "xtick.color": fg,
            "ytick.color": fg, "grid.color": grid, "legend.labelcolor": fg}


THEMES = {
    "light": {**_COMMON, **_colors("#1f2328", "#8c959f")},
    "dark": {**_COMMON, **_colors("#e6edf3", "#6e7681")},
}


@contextmanager
def theme(name: str):
    """Draw inside this block in the named theme ("light" or "dark")."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, got {name!r}")
    with mpl.rc_context(THEMES[name]):
        yield
