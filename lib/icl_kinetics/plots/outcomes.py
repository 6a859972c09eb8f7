"""Outcome figures of chapters 9 and 12 (Fig 6c, 6e, A.8): t_ICL and final accuracy across seeds near K*,
I_K(t) against t_ICL (eq 12), acquisition probability against K, balanced-context curves."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..fits import sigmoid
from .accuracy import accuracy_vs_k
from .style import figure, GREY, PAPER_BLUE, PAPER_GREEN, PAPER_RED, plain_log_ticks, title, legend


OUTCOME_COLORS = {"acquired": PAPER_GREEN, "intermediate": "orange", "never": PAPER_RED}


def fig_ticl_outcomes(t_icl, budget: float, fig_title: str, t_ref=None, ref_label: str = "K = infinity",
                      label: str = "K = K*", bins: int = 16):
    """Fig 6c (bottom): histogram of t_ICL as a fraction of all runs, with the runs that never acquired ICL
    (t_ICL NaN or inf) as a separate bar labelled "never" to the right of the step budget. ``t_ref``: optional
    reference sample (e.g. K = infinity), drawn as a step histogram on the same bins and scale."""
    t = np.asarray(t_icl, float)
    fin = t[np.isfinite(t)]
    n_never = int((~np.isfinite(t)).sum())
    fig, ax = figure(1, 1, width=6.6, height=3.6)
    edges = np.linspace(0, budget, bins + 1)
    w = np.full(len(fin), 1.0 / len(t)) if len(t) else None
    ax.hist(fin, bins=edges, weights=w, color=PAPER_GREEN, alpha=0.8, edgecolor="k", lw=0.4,
            label=f"{label}: acquired ({len(fin)} of {len(t)})")
    width = edges[1] - edges[0]
    xn = budget + 1.5 * width
    ax.bar(xn, n_never / max(len(t), 1), width=width, color=PAPER_RED, alpha=0.8, edgecolor="k", lw=0.4,
           label=f"{label}: never ({n_never} of {len(t)})")
    if t_ref is not None:
        r = np.asarray(t_ref, float)
        rf = r[np.isfinite(r)]
        if len(r):
            ax.hist(np.clip(rf, 0, budget), bins=edges, weights=np.full(len(rf), 1.0 / len(r)), histtype="step",
                    color="k", lw=1.3, label=f"{ref_label}: acquired ({len(rf)} of {len(r)})")
            nr = int((~np.isfinite(r)).sum())
            if nr:
                ax.bar(xn, nr / len(r), width=width, fill=False, edgecolor="k", lw=1.3)
    ax.axvline(budget, color=GREY, lw=0.8, ls=":", label=f"end of training ({budget:,.0f})")
    ticks = list(np.linspace(0, budget, 5))[:-1]
    ax.set_xticks(ticks + [xn])
    ax.set_xticklabels([f"{v:,.0f}" for v in ticks] + ["never"])
    ax.set_xlabel(r"$t_{\rm ICL}$ (iterations; first evaluation with ICL accuracy > 0.95)")
    ax.set_ylabel("fraction of runs")
    legend(ax, fontsize=7)
    return title(fig, fig_title)


def fig_outcome_curves(steps, icl_acc, outcome, fig_title: str):
    """ICL accuracy of every seed over training, coloured by outcome (keys of OUTCOME_COLORS)."""
    fig, ax = figure(1, 1, width=6.6, height=3.6)
    outcome = np.asarray(outcome)
    for cls, c in OUTCOME_COLORS.items():
        rows = np.flatnonzero(outcome == cls)
        for i, e in enumerate(rows):
            ax.plot(steps, icl_acc[e], color=c, lw=0.9, alpha=0.7, label=f"{cls} ({len(rows)})" if i == 0 else None)
    ax.axhline(0.5, color=GREY, lw=0.6, ls=":")
    ax.axhline(0.95, color="k", lw=0.6, ls="--", label="0.95 (defines $t_{\\rm ICL}$)")
    ax.set_xlabel("training iteration")
    ax.set_ylabel("ICL accuracy (novel items)")
    legend(ax, fontsize=7)
    return title(fig, fig_title)


def fig_ik_illustration(t, ik_curves: dict, t_icl_inf, highlight, tau_iters, budget: float, fig_title: str,
                        t_max=None):
    """Fig 6c (top), as an illustration: (a) I_K(t) = 2 int c1 of MLP memorisation runs for several K
    (``ik_curves``: {K: (t, I_K)} in gradient-flow time lr x iterations) against I = t (K = infinity), with the
    K = infinity acquisition times ``t_icl_inf`` (gradient-flow time) as horizontal ticks; ICL is acquired when
    I_K reaches the run's t_ICL. (b) The times tau_K = I_K^-1(t_ICL) those runs would have at K = ``highlight``
    (``tau_iters``, iterations; inf = never), as a histogram with a "never" bar. ``t_max``: right end of the
    time axis of (a) (default: the longest curve)."""
    fig, ax = figure(2, 1, width=4.6, height=3.5)
    Ks = sorted(ik_curves)
    cols = plt.cm.viridis(np.linspace(0.05, 0.9, max(len(Ks), 1)))
    tmax = max(float(np.nanmax(tt)) for tt, _ in ik_curves.values()) if Ks else 1.0
    for K, c in zip(Ks, cols):
        tt, ik = ik_curves[K]
        ax[0].plot(tt, ik, color=c, lw=2.2 if K == highlight else 0.9, label=f"K = {K:g}" + (" (b)" if K == highlight
                                                                                           else ""))
    ax[0].plot([0, tmax], [0, tmax], "k--", lw=1, label=r"K = $\infty$: $I = t$")
    ti = np.asarray(t_icl_inf, float)
    ti = ti[np.isfinite(ti)]
    for y in ti:
        ax[0].axhline(y, xmin=0.0, xmax=0.03, color=PAPER_RED, lw=1)
    if len(ti):
        ax[0].axhspan(np.percentile(ti, 10), np.percentile(ti, 90), color=PAPER_RED, alpha=0.1, lw=0,
                      label=r"$t_{\rm ICL}$ at K = $\infty$ (10-90%)")
    top = max(2.5 * (np.percentile(ti, 90) if len(ti) else 1.0), 1.0)
    ax[0].set_ylim(0, top)
    ax[0].set_xlim(0, t_max or tmax)
    ax[0].set_xlabel(r"gradient-flow time $t$ = lr $\times$ iterations")
    ax[0].set_ylabel(r"$I_K(t) = 2\int_0^t c_1\,dt'$")
    legend(ax[0], fontsize=6)
    tau = np.asarray(tau_iters, float)
    fin = tau[np.isfinite(tau) & (tau <= budget)]
    edges = np.linspace(0, budget, 17)
    if len(tau):
        ax[1].hist(fin, bins=edges, weights=np.full(len(fin), 1 / len(tau)), color=PAPER_GREEN, alpha=0.8,
                   edgecolor="k", lw=0.4, label=f"acquire ({len(fin)})")
        wdt = edges[1] - edges[0]
        ax[1].bar(budget + 1.5 * wdt, (len(tau) - len(fin)) / len(tau), width=wdt, color=PAPER_RED, alpha=0.8,
                  edgecolor="k", lw=0.4, label=f"never ({len(tau) - len(fin)})")
        ticks = list(np.linspace(0, budget, 3))[:-1]
        ax[1].set_xticks(ticks + [budget + 1.5 * wdt])
        ax[1].set_xticklabels([f"{v:,.0f}" for v in ticks] + ["never"])
    ax[1].set_xlabel(r"predicted $\tau_K$ (iterations)")
    ax[1].set_ylabel("fraction of runs")
    ax[1].set_title(f"K = {highlight:g}: " + r"$\tau_K = I_K^{-1}(t_{\rm ICL})$", fontsize=9)
    legend(ax[1], fontsize=7)
    return title(fig, fig_title)


def fig_acquisition_probability(tables: dict, sweeps: dict, thresholds: dict, fig_title: str,
                                acc_threshold: float = 0.75):
    """Fig 6e: (a) probability of acquiring ICL (final ICL accuracy > `acc_threshold`) against K with Wilson
    intervals, one line per condition (``tables``: {name: analysis.acquisition_vs_k(...)}); (b) final ICL accuracy
    of every run with the sigmoid K* fit per condition (``sweeps``: {name: (K, final acc)}, ``thresholds``:
    {name: fits.Threshold or None})."""
    fig, ax = figure(2, 1, width=4.6, height=3.5)
    cols = dict(zip(tables, [PAPER_BLUE, PAPER_RED, PAPER_GREEN, "k"]))
    for j, (name, t) in enumerate(tables.items()):
        x = t["K"] * (1.03 if j % 2 else 1 / 1.03)
        ax[0].errorbar(x, t["p"], yerr=[t["p"] - t["lo"], t["hi"] - t["p"]], fmt="o-", color=cols[name],
                       capsize=3, label=name)
        K, acc = sweeps[name]
        thr = thresholds.get(name)
        accuracy_vs_k(ax[1], K, acc, None, color=cols[name], label=name, seed=j)
        if thr is not None and np.isfinite(thr.k_star):
            xs = np.geomspace(np.min(K), np.max(K), 200)
            ax[1].plot(xs, sigmoid(np.log10(xs), *thr.params), color=cols[name], lw=1.2)
            ax[1].axvline(thr.k_star, color=cols[name], ls="--", lw=0.8, label=f"{name}: K* = {thr.k_star:.0f}")
    ax[0].set_xscale("log")
    allK = np.unique(np.concatenate([np.asarray(t["K"], float) for t in tables.values()]))
    for a in ax:
        plain_log_ticks(a.xaxis, allK)
        a.tick_params(axis="x", labelsize=7)
    ax[0].set_ylim(-0.05, 1.05)
    ax[0].set_xlabel("number of item-label pairs K")
    ax[0].set_ylabel(f"P(final ICL accuracy > {acc_threshold:.0%})")
    legend(ax[0], fontsize=7)
    ax[1].axhline(acc_threshold, color="k", lw=0.6, ls=":")
    ax[1].set_ylabel("final ICL accuracy (novel items)")
    legend(ax[1], fontsize=6)
    return title(fig, fig_title)


def fig_balanced_curves(steps, icl_acc, K, plateau, fig_title: str, band=(0.55, 0.95)):
    """Fig A.8: ICL accuracy of every balanced-context run, one panel per K; runs flagged in ``plateau`` (stuck at a
    sub-optimal accuracy) in orange, others in grey; the band (lo, hi) shaded."""
    K = np.asarray(K, float)
    Ks = np.unique(K)
    ncol = min(3, len(Ks))
    nrow = int(np.ceil(len(Ks) / ncol))
    fig, axes = figure(ncol, nrow, width=3.3, height=2.6, sharey=True)
    axes = np.atleast_1d(axes)
    for ax, k in zip(axes, Ks):
        for e in np.flatnonzero(K == k):
            ax.plot(steps, icl_acc[e], color="orange" if plateau[e] else GREY, lw=1.4 if plateau[e] else 0.9)
        ax.axhspan(*band, color="orange", alpha=0.06, lw=0)
        ax.axhline(0.5, color=GREY, lw=0.6, ls=":")
        ax.set_title(f"K = {k:.0f}: {int(np.sum(plateau[K == k]))} of {int(np.sum(K == k))} stuck", fontsize=9)
        ax.set_xlabel("training iteration")
        ax.xaxis.set_major_locator(plt.MaxNLocator(3))
    for ax in axes[len(Ks):]:
        ax.axis("off")
    axes[0].set_ylabel("ICL accuracy")
    axes[0].plot([], [], color="orange", label="sub-optimal plateau")
    axes[0].plot([], [], color=GREY, label="other runs")
    legend(axes[0], fontsize=6)
    return title(fig, fig_title)


def fig_final_accuracy_hists(samples: dict, fig_title: str, mid=(0.6, 0.9), bins: int = 20):
    """Fig 6c companion: histograms of final ICL accuracy, one panel per model ({label: final accuracies});
    the band marks the 'intermediate' range of the bimodality rule."""
    fig, axes = figure(len(samples), 1, width=4.4, height=3.2)
    axes = np.atleast_1d(axes)
    edges = np.linspace(0.4, 1.0, bins + 1)
    for ax, (label, acc) in zip(axes, samples.items()):
        a = np.asarray(acc, float)
        a = a[np.isfinite(a)]
        ax.axvspan(*mid, color=GREY, alpha=0.15, lw=0, label="intermediate (0.6 to 0.9)")
        ax.hist(np.clip(a, edges[0], edges[-1]), bins=edges, color=PAPER_GREEN, edgecolor="k", lw=0.4)
        ax.set_xlabel("final ICL accuracy (novel items)")
        ax.set_ylabel("seeds")
        ax.set_title(f"{label} ({len(a)} seeds)", fontsize=9)
        legend(ax, fontsize=7)
    title(fig, fig_title)
    return fig


def fig_solutions(points: dict, fig_title: str, acquired: float = 0.75):
    """Fig 6e companion: which solution each run found. ``points``: {arm: (final accuracy on the training
    contexts, on standard contexts, on conflict contexts)}, one dot per run. (a) conflict against training
    contexts: copying runs sit top right, label-counting runs bottom right; (b) standard against training
    contexts."""
    fig, ax = figure(2, 1, width=4.2, height=3.6, sharex=True)
    for (arm, (own, standard, conflict)), color, marker in zip(points.items(), [PAPER_BLUE, PAPER_RED, "k"], "osD"):
        for a, y in zip(ax, (conflict, standard)):
            a.scatter(own, y, s=16, color=color, marker=marker, alpha=0.7, label=arm, lw=0)
    for a in ax:
        a.axvline(acquired, color=GREY, lw=0.7, ls=":")
        a.axhline(0.5, color=GREY, lw=0.6, ls=":")
        a.set_xlim(-0.02, 1.02)
        a.set_ylim(-0.02, 1.02)
        a.set_xlabel("final ICL accuracy on the training contexts")
    ax[0].axhspan(acquired, 1.02, color=PAPER_GREEN, alpha=0.08, lw=0)
    ax[0].axhspan(-0.02, 1 - acquired, color="orange", alpha=0.08, lw=0)
    ax[0].text(0.02, 0.9, "copies", fontsize=7, color=PAPER_GREEN)
    ax[0].text(0.02, 0.05, "counts labels", fontsize=7, color="darkorange")
    ax[0].set_ylabel("final accuracy on conflict contexts\n(target's label = context majority)")
    ax[1].set_ylabel("final accuracy on standard contexts")
    legend(ax[0], fontsize=6)
    return title(fig, fig_title)
