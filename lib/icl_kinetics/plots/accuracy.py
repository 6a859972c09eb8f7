"""Accuracy figures of chapters 1 and 2 (Fig 2b-d, 3a-b): final ICL accuracy against K with the sigmoid,
ICL accuracy during training, and the learned w, beta against eqs 7-8."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from ..fits import sigmoid
from .style import figure, GREY, PAPER_BLUE, PAPER_RED, title, legend


def accuracy_vs_k(ax, K, acc, threshold=None, color=PAPER_BLUE, label="runs (one dot per seed)", jitter=0.03,
                  seed=0):
    """Final accuracy of every run against K (log axis, small horizontal jitter), with an optional sigmoid fit."""

    K = np.asarray(K, float)
    rng = np.random.default_rng(seed)
    ax.scatter(K * 10 ** (jitter * rng.standard_normal(len(K))), acc, s=14, color=color, alpha=0.7, label=label)
    if threshold is not None and np.isfinite(threshold.k_star):
        xs = np.geomspace(K.min(), K.max(), 200)
        ax.plot(xs, sigmoid(np.log10(xs), *threshold.params), color="k", lw=1.2, label="sigmoid fit")
        ax.axvline(threshold.k_star, color="k", ls="--", lw=0.8)
        if np.all(np.isfinite(threshold.ci)):
            ax.axvspan(*threshold.ci, color="k", alpha=0.08, lw=0, label=r"$K^*$ 95% CI")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())  # under a decade of K, minor labels would collide
    ax.set_xlabel("number of item-label pairs K")
    ax.set_ylim(0.4, 1.02)
    ax.axhline(0.5, color=GREY, lw=0.6, ls=":")


def accuracy_curves(ax, steps, curves, values, cmap="viridis", label_fmt="K = {:g}", ylabel="ICL accuracy"):
    """One line per run (rows of curves (M, T)), coloured by `values` (e.g. K), one legend entry per value."""
    values = np.asarray(values, float)
    uniq = np.unique(values)
    colors = plt.get_cmap(cmap)(np.linspace(0.1, 0.9, len(uniq)))
    for u, c in zip(uniq, colors):
        for i, row in enumerate(np.flatnonzero(values == u)):
            ax.plot(steps, curves[row], color=c, lw=1, alpha=0.8, label=label_fmt.format(u) if i == 0 else None)
    ax.set_xlabel("training iteration")
    ax.set_ylabel(ylabel)
    ax.axhline(0.5, color=GREY, lw=0.6, ls=":")


def fig_icl_vs_k_pair(panels: dict, fig_title: str):
    """Final ICL accuracy vs K with the sigmoid fit, one panel per model: {panel title: (K, acc, threshold)}."""
    fig, axes = figure(len(panels), 1, width=4.4, height=3.3)
    axes = np.atleast_1d(axes)
    for ax, (name, (K, acc, thr)) in zip(axes, panels.items()):
        accuracy_vs_k(ax, K, acc, thr if thr is not None and np.isfinite(thr.k_star) else None)
        ax.set_ylabel("final ICL accuracy (novel items)")
        ax.set_title(name, fontsize=10)
    legend(axes[-1], fontsize=7)  # the same entries in every panel: one legend, beside the last
    return title(fig, fig_title)


def fig_icl_curves_pair(panels: dict, fig_title: str, thresholds=None):
    """ICL accuracy over training, one line per run coloured by K, one panel per model:
    {panel title: (steps, icl_acc (M, T), K (M,))}. ``thresholds``: optional {panel title: t_ICL level} lines."""
    fig, axes = figure(len(panels), 1, width=4.6, height=3.4)
    axes = np.atleast_1d(axes)
    for ax, (name, (steps, curves, K)) in zip(axes, panels.items()):
        accuracy_curves(ax, steps, curves, K)
        ax.set_xlabel("training iteration")
        ax.set_title(name, fontsize=10)
        ax.set_ylim(0.35, 1.02)
        ax.xaxis.set_major_locator(plt.MaxNLocator(5))
        legend(ax, fontsize=6, ncol=2)
    return title(fig, fig_title)


def fig_ode_overlay(members: list, beta_threshold: float, fig_title: str, max_steps=None):
    """Learned w and beta (markers) against eqs 7-8 integrated with the member's own c1(t), c2(t) (lines).
    ``members``: list of dicts with steps, w, beta, ode_steps, ode_w, ode_beta, label."""
    fig, ax = figure(2, 1, width=4.6, height=3.4)
    colors = plt.cm.viridis(np.linspace(0, 0.85, max(len(members), 1)))
    for c, m in zip(colors, members):
        for a, key in ((ax[0], "w"), (ax[1], "beta")):
            a.plot(m["steps"], m[key], "o", ms=3.5, color=c, alpha=0.8, label=m["label"])
            a.plot(m["ode_steps"], m[f"ode_{key}"], "-", color=c, lw=1.2)
    ax[1].axhline(beta_threshold, color=GREY, lw=0.8, ls=":", label=r"$\beta = \log N$ (ODE stops)")
    ax[0].plot([], [], "k-", lw=1.2, label="ODE eqs 7-8, measured $c_1(t), c_2(t)$")
    ax[0].set_ylabel(r"$w$ (value strength)")
    ax[1].set_ylabel(r"$\beta$ (key-query strength)")
    for a in ax:
        a.set_xlabel("training iteration")
        if max_steps is not None:
            a.set_xlim(0, max_steps)
    legend(ax[0], fontsize=6)
    legend(ax[1], fontsize=6)
    return title(fig, fig_title)


def fig_icl_iwl_vs_k(K, icl, iwl, thr, N, profile: str):
    """Fig 2b,c: final ICL accuracy (with the sigmoid and K*) and final IWL accuracy against K, one dot per run."""
    fig, (ax1, ax2) = figure(2)
    accuracy_vs_k(ax1, K, icl, thr)
    ax1.set_ylabel("final ICL accuracy (novel items)")
    legend(ax1, fontsize=8)
    accuracy_vs_k(ax2, K, iwl, color=PAPER_RED)
    ax2.set_ylabel("final IWL accuracy (training items)")
    legend(ax2, fontsize=8)
    return title(fig, f"Fig 2b,c: ICL and IWL accuracy vs K (one-layer transformer, N = {N}, {profile} profile)")


def fig_icl_during_training(steps, curves, values, profile: str):
    """Fig 2d: ICL accuracy during training of the runs above the threshold, coloured by K."""
    fig, ax = figure(1, width=6)
    accuracy_curves(ax, steps, curves, values)
    legend(ax, fontsize=7, ncol=2)
    return title(fig, f"Fig 2d: ICL accuracy during training (K >= 1.5 K*, {profile} profile)")
