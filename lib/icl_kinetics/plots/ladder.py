"""The scale ladder (chapter 13): one panel per scale-free statistic, its value with 95% interval at each rung
(profile), the paper's value as a dashed line. Rungs with partial data are drawn open; rungs without a value are
named on the axis and left empty."""
from __future__ import annotations

import numpy as np

from .style import GREY, PAPER_BLUE, PAPER_RED, figure, title, legend

YLABELS = {"nu": r"$\nu$ in $I_K(\infty) \propto K^\nu$ (Fig 5)",
           "t_ICL exponent": r"exponent of median $t_{\rm ICL}$ vs $N$ (Fig 6b)",
           "K*": r"$K^*$, sigmoid fit of final ICL accuracy (Fig 2b)",
           "K* exponent": r"exponent of $K^*$ vs $N - 1$ (Fig 6a)",
           "never bar at chance": "fraction of non-acquirers at chance (Fig 6c)",
           "lr clock ratio": r"$t_{\rm ICL}$(lr 0.01) / $t_{\rm ICL}$(lr 0.05), iterations",
           "MLP clock ratio": r"$I_K(\infty)$(lr 0.01) / $I_K(\infty)$(lr 0.05), iterations"}
REFERENCE = {"lr clock ratio": "lr ratio", "MLP clock ratio": "lr ratio"}  # where the dashed line is the theory's value, not the paper's


def fig_ladder(ladder: dict, paper_values: dict):
    """`ladder`: {statistic: [analysis.ladder.Rung per rung]}; `paper_values`: {statistic: the paper's value}."""
    fig, axes = figure(min(len(ladder), 2), (len(ladder) + 1) // 2, width=4.4, height=3.3)
    axes = np.atleast_1d(axes)
    for ax, (stat, rungs) in zip(axes, ladder.items()):
        x = np.arange(len(rungs))
        for i, r in enumerate(rungs):
            if not np.isfinite(r.value):
                ax.annotate("no value", (i, 0.5), xycoords=("data", "axes fraction"), ha="center", color=GREY,
                            fontsize=8, rotation=90)
                continue
            err = [[r.value - r.lo], [r.hi - r.value]] if np.isfinite(r.lo) and np.isfinite(r.hi) else None
            full = r.status == "complete"
            ax.errorbar([i], [r.value], yerr=err, fmt="o", color=PAPER_BLUE, mfc=PAPER_BLUE if full else "white",
                        capsize=3, label=("complete" if full else "partial data") if i == 0 or not full else None)
        ax.axhline(paper_values[stat], color=PAPER_RED, ls="--", lw=1,
                   label=f"{REFERENCE.get(stat, 'paper')}: {paper_values[stat]:g}")
        ax.set_xticks(x, [f"{r.profile}\n{r.scale.replace(', ', chr(10)) if r.scale else ''}" for r in rungs],
                      fontsize=7)  # one setting a line: D, width, N
        ax.set_xlim(-0.5, len(rungs) - 0.5)
        ax.set_xlabel("rung (profile)")
        ax.set_ylabel(YLABELS.get(stat, stat), fontsize=8)
        if stat == "K*":
            ax.set_yscale("log")
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        legend(ax, uniq.values(), uniq.keys(), fontsize=7)
    for ax in axes[len(ladder):]:
        ax.set_visible(False)
    return title(fig, "Scale ladder: Fig 5 nu, Fig 6b t_ICL exponent, Fig 2b K*, Fig 6a K* exponent, Fig 6c "
                      "never bar and the two lr clocks at each rung")
