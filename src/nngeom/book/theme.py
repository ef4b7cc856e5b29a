"""One look for every figure of the book: seaborn's theme, set once per notebook by `nngeom.settings`.

`use_book_theme()` sets seaborn's ``whitegrid`` style, the ``notebook`` context and
the colour-blind palette, with a fixed figure resolution, so that distributions
(`seaborn.histplot`, `seaborn.kdeplot`), heatmaps (`seaborn.heatmap`) and grids
of panels look alike on every page.
"""
from __future__ import annotations

__all__ = ["use_book_theme"]


def use_book_theme() -> None:
    """Apply the book's seaborn theme to matplotlib's global settings."""
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind",
                  rc={"figure.dpi": 100, "savefig.dpi": 100, "axes.titlesize": "medium",
                      "figure.constrained_layout.use": False})
