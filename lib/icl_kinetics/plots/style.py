"""The one style of the book's figures: colours, panel grids, the title that names the paper's figure, colour
maps for K and N, plain ticks on log axes. Every other plots module draws with these."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

from ..prose import as_math


PAPER_BLUE, PAPER_RED, PAPER_GREEN, GREY = "#1f77b4", "#d62728", "#2ca02c", "0.6"


MAX_PER_ROW = 3  # panels side by side; a longer row wraps (tick labels of five panels in a row collide)


def figure(ncols: int = 1, nrows: int = 1, width: float = 4.2, height: float = 3.2, **kw):
    """A figure of ncols x nrows panels, each width x height inches; a single row of more than MAX_PER_ROW panels
    wraps onto several rows (the unused places are left empty). Returns the panels in reading order."""
    n = ncols * nrows
    if nrows == 1 and ncols > MAX_PER_ROW:
        nrows, ncols = -(-n // MAX_PER_ROW), MAX_PER_ROW
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             constrained_layout=True, **kw)
    flat = axes.ravel()
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n] if n > 1 else flat[0]


def title(fig, text: str):
    """Suptitle naming the paper's figure, e.g. title(fig, 'Fig 2b,c - ICL and IWL accuracy vs K'): the dash after
    the figure's number becomes a colon, and plain spellings of symbols (t_ICL, K*, K = inf, ...) mathtext."""
    text = as_math(text.replace(" - ", ": ", 1)).replace("K = inf", r"$K = \infty$")
    fig.suptitle(text, fontsize=11)
    return fig


def legend(ax, *args, **kw):
    """The panel's legend outside its data, to the right of the panel (constrained layout makes room for it;
    ``loc`` is ignored)."""
    kw.pop("loc", None)
    return ax.legend(*args, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False, **kw)


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
