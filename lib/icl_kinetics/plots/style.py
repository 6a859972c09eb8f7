"""The one style of the book's figures: colours, panel grids, the title that names the paper's figure, colour
maps for K and N, plain ticks on log axes. Every other plots module draws with these."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter


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


def k_colors(Ks):
    Ks = sorted(set(float(k) for k in Ks))
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(Ks)))
    return {k: c for k, c in zip(Ks, cols)}


def k_label(k) -> str:
    return f"K = {int(k)}"


def n_colors(Ns):
    return dict(zip(Ns, plt.cm.viridis(np.linspace(0.05, 0.85, max(len(Ns), 1)))))


def plain_log_ticks(axis, values):
    """Ticks at `values` with plain numbers on a log axis (instead of 2 x 10^1)."""
    axis.set_major_locator(FixedLocator(sorted(set(float(v) for v in values))))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())
