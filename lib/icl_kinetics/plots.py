"""Figures. Every function returns a matplotlib Figure whose title carries the paper's figure number.

Shared style lives here; chapters call these functions instead of repeating plotting code.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower().startswith("qt") else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PAPER_BLUE, PAPER_RED, PAPER_GREEN, GREY = "#1f77b4", "#d62728", "#2ca02c", "0.6"


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2, **kw):
    """A figure of ncols x nrows panels, each width x height inches."""
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             constrained_layout=True, **kw)
    return fig, axes.ravel() if axes.size > 1 else axes[0, 0]


def title(fig, text: str):
    """Suptitle naming the paper's figure, e.g. title(fig, 'Fig 2b,c - ICL and IWL accuracy vs K')."""
    fig.suptitle(text, fontsize=11)
    return fig


def iqr_band(ax, x, curves, color=PAPER_BLUE, label=None):
    """Median over rows of curves (M, T) with the 25-75% band."""
    med = np.nanmedian(curves, axis=0)
    lo, hi = np.nanpercentile(curves, [25, 75], axis=0)
    ax.plot(x, med, color=color, label=label)
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
