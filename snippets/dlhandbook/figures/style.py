"""Light and dark styles shared by all figures, and settings for reproducible SVGs.

Legibility. Pages show an SVG at its natural size (1 pt = 4/3 px), shrunk to fit the
content column: about 750 px on a laptop, 358 px on a 390 px phone. Text of ``FONT_PT``
points in a figure 6 in wide as saved (after bbox "tight") is displayed at
    laptop: 11 * 4/3 = 14.7 px              (576 px < 750 px: not shrunk)
    phone:  11 * 4/3 * 358 / 576 = 9.1 px
so 11 pt and at most 6 in keep every text >= 11 px on a laptop and >= 9 px on a phone;
``tests/site/test_figures.py`` checks every SVG. Draw figures ``WIDTH_IN`` wide, use no
text below ``FONT_PT``, and put at most two panels side by side (``build`` checks that).
"""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib as mpl

# Mid-luminance hues that read on white and on Material's dark slate alike: each but
# the amber (index 6, used for markers) has a contrast ratio of at least 3 on both.
PALETTE = ["#3b6fd4", "#e8590c", "#2f9e44", "#d6336c",
           "#845ef7", "#0c8599", "#e0a100", "#868e96"]
BACKGROUNDS = {"light": "#ffffff", "dark": "#1e2129"}   # Material's default and slate
WIDTH_IN = 5.8   # figsize width; bbox "tight" adds 2 * savefig.pad_inches at most
FONT_PT = 11

_COMMON = {
    "svg.hashsalt": "dlhandbook",   # stable element ids: two builds give the same bytes
    "svg.fonttype": "path",         # text as paths: no font needed in the browser
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.transparent": True,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.05,
    "figure.dpi": 100,
    "savefig.dpi": 200,             # only layers drawn with rasterized=True
    "path.simplify_threshold": 0.3,  # drop points within 0.3 pt of a line: lighter SVGs
    "figure.figsize": (WIDTH_IN, 3.6),
    "figure.constrained_layout.use": True,   # stacked panels and outside legends fit
    "font.size": FONT_PT,   # ticks, labels and legends are "medium" = font.size
    "axes.titlesize": FONT_PT,
    "axes.titlepad": 4,
    "figure.titlesize": FONT_PT + 1,
    "legend.fontsize": FONT_PT,
    "legend.title_fontsize": FONT_PT,
    "legend.handlelength": 1.6,
    "legend.borderaxespad": 0.3,
    "legend.labelspacing": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
}


def _colors(fg: str, grid: str) -> dict:
    return {"text.color": fg, "axes.labelcolor": fg, "axes.edgecolor": fg,
            "xtick.color": fg, "ytick.color": fg, "grid.color": grid,
            "legend.labelcolor": fg}


THEMES = {
    "light": {**_COMMON, **_colors("#1f2328", "#8c959f")},
    "dark": {**_COMMON, **_colors("#e6edf3", "#6e7681")},
}
# The themes differ only in these colours, so a figure is drawn once, in the light theme, and its
# dark SVG is the light one with each light colour replaced (drawing is most of a build's time).
# A figure that needs a theme's colour reads it from ``plt.rcParams`` (``"text.color"``), never
# types it; ``tests/site/test_figures.py`` checks that recolouring equals drawing in the dark.
RECOLOR = {THEMES["light"][k]: THEMES["dark"][k]
           for k in THEMES["light"] if THEMES["light"][k] != THEMES["dark"][k]}


def recolor(svg: str, name: str) -> str:
    """The SVG drawn in the light theme, in theme ``name``'s colours."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, got {name!r}")
    if name == "light":
        return svg
    for light, dark in RECOLOR.items():
        svg = svg.replace(light, dark)
    return svg


@contextmanager
def theme(name: str):
    """Draw inside this block in the named theme ("light" or "dark")."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {sorted(THEMES)}, got {name!r}")
    with mpl.rc_context(THEMES[name]):
        yield
