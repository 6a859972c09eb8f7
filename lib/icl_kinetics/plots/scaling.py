"""Figures of chapters 7, 8 and 10 (Fig 6a-b, A.4, A.5, A.7): K* and t_ICL against N, the distribution of
t_ICL and its tail. Runs that never acquired ICL (t_ICL = inf, censored) are drawn as triangles at the step budget."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats as scipy_stats

from .style import figure, GREY, n_colors, PAPER_BLUE, PAPER_GREEN, PAPER_RED, plain_log_ticks, title, legend


MINUS = "\u2212"  # a typographic minus sign in legends


def fig_kstar_vs_n(kfit, fig_title: str, predicted=None, paper_exponent: float = 1.41,
                   paper_pred_exponent: float = 1.43):
    """Fig 6a: K* against N (log-log) with the per-N bootstrap intervals and the fitted power law; reference slopes
    of the paper's measured (1.41) and predicted (1.43) exponents drawn through our geometric-mean point.
    ``predicted``: optional list of rows {N, k_star, ci} (chapter 05's eq 13 prediction) drawn on the first panel
    and against the measured K* on the second (y = x line)."""
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    N, ks, ci, used = kfit.N, kfit.k_star, kfit.ci, kfit.used
    fin = np.isfinite(ks)
    yerr = np.abs(np.vstack([ks - ci[:, 0], ci[:, 1] - ks]))
    yerr = np.where(np.isfinite(yerr), yerr, 0)
    if fin.any():
        ax[0].errorbar(N[fin & used], ks[fin & used], yerr=yerr[:, fin & used], fmt="o", color="k", capsize=3,
                       label=r"measured $K^*$ (95% bootstrap)")
        if (fin & ~used).any():
            ax[0].plot(N[fin & ~used], ks[fin & ~used], "o", mfc="none", color="k",
                       label=r"$K^*$ at the edge of the K range (not fitted)")
    if kfit.ok:
        xs = np.geomspace(N.min() / 1.1, N.max() * 1.1, 50)
        ax[0].plot(xs, 10 ** kfit.line(np.log10(xs)), color=PAPER_BLUE,
                   label=f"fit: slope {kfit.exponent:.2f} [{kfit.exponent_ci_boot[0]:.2f}, "
                         f"{kfit.exponent_ci_boot[1]:.2f}]")
        x0, y0 = np.exp(np.mean(np.log(N[used]))), np.exp(np.mean(np.log(ks[used])))
        for s, st, lab in ((paper_exponent, ":", "paper, measured"), (paper_pred_exponent, "--", "paper, predicted")):
            ax[0].plot(xs, y0 * (xs / x0) ** s, st, color=GREY, lw=1, label=f"slope {s} ({lab})")
    rows = [r for r in (predicted or []) if r.get("k_star") is not None and np.isfinite(r["k_star"])]
    if rows:
        pn = np.array([r["N"] for r in rows], float)
        pk = np.array([r["k_star"] for r in rows], float)
        pci = np.array([[np.nan if v is None else v for v in r["ci"]] for r in rows], float)
        perr = np.where(np.isfinite(pci.T), np.abs(np.vstack([pk - pci[:, 0], pci[:, 1] - pk])), 0)
        ax[0].errorbar(pn * 1.03, pk, yerr=perr, fmt="s", mfc="none", color=PAPER_RED, capsize=3,
                       label=r"predicted $K^*$ (ch. 5, eq 13)")
        meas = {float(n): (k, c) for n, k, c in zip(N, ks, ci)}
        pairs = [(meas[n][0], meas[n][1], k, c) for n, k, c in zip(pn, pk, pci) if n in meas and np.isfinite(meas[n][0])]
        if pairs:
            mk = np.array([p[0] for p in pairs])
            mci = np.array([p[1] for p in pairs])
            qk = np.array([p[2] for p in pairs])
            qci = np.array([p[3] for p in pairs])
            ax[1].errorbar(mk, qk, xerr=np.nan_to_num(np.abs(np.vstack([mk - mci[:, 0], mci[:, 1] - mk]))),
                           yerr=np.nan_to_num(np.abs(np.vstack([qk - qci[:, 0], qci[:, 1] - qk]))),
                           fmt="s", color=PAPER_RED, capsize=3)
            for (m, _, q, _), n in zip(pairs, [n for n in pn if n in meas and np.isfinite(meas[n][0])]):
                ax[1].annotate(f"N \u2212 1 = {int(n)}", (m, q), textcoords="offset points", xytext=(5, 4), fontsize=7)
            lo = min(mk.min(), qk.min()) / 2
            hi = max(mk.max(), qk.max()) * 2
            ax[1].plot([lo, hi], [lo, hi], "k--", lw=0.8, label="predicted = measured")
            legend(ax[1], fontsize=7)
    if not rows:
        ax[1].text(0.5, 0.5, "no K* prediction available\n(chapter 5 file missing or its fit failed)",
                   ha="center", va="center", transform=ax[1].transAxes, fontsize=9)
    if ax[0].has_data():
        ax[0].set_xscale("log")
        plain_log_ticks(ax[0].xaxis, N)
    ax[0].set_xlabel("context items N \u2212 1 (eq 13's N)")  # kfit.N: the configs' N less the target
    ax[0].set_ylabel(r"task-diversity threshold $K^*$ (items)")
    ax[1].set_xlabel(r"measured $K^*$ (items)")
    ax[1].set_ylabel(r"predicted $K^*$ (items)")
    for a in ax:
        if a.has_data():
            a.set_yscale("log")
            if a is ax[1]:
                a.set_xscale("log")
        a.grid(alpha=0.3, which="both")
    if ax[0].get_legend_handles_labels()[0]:
        legend(ax[0], fontsize=6.5)
    else:
        ax[0].text(0.5, 0.5, "no usable K* (no transition in the K range)", ha="center", va="center",
                   transform=ax[0].transAxes, fontsize=9)
    ax[0].set_title("K* against N", fontsize=10)
    ax[1].set_title("eq 13 prediction against measurement", fontsize=10)
    return title(fig, fig_title)


def _strip(ax, x, t, y_censored, color, jitter, rng, label=None):
    """Individual times at x (jittered), censored runs as upward triangles at height `y_censored`."""
    t = np.asarray(t, float)
    fin = np.isfinite(t)
    xj = x * (1 + jitter * rng.uniform(-1, 1, len(t)))
    ax.scatter(xj[fin], t[fin], s=12, color=color, alpha=0.55, lw=0, label=label)
    if (~fin).any():
        ax.scatter(xj[~fin], np.full((~fin).sum(), y_censored), marker="^", s=28, color=PAPER_RED, label=None)


def fig_ticl_vs_n(times: dict, medfit, budgets: dict, eq11_const: float, fig_title: str):
    """Fig 6b: t_ICL of every run against N (dots; red triangles: never acquired within the step budget, drawn just
    above the largest finite time, their budgets given in the legend), the median with its bootstrap interval, the OLS line through the medians and eq 11 with
    beta0 = 0 converted to iterations (t = eq11_const x N). Right: medians in log-log with the fitted slope and
    slope 1 for reference."""
    fig, ax = figure(2, 1, width=4.8, height=3.7)
    rng = np.random.default_rng(0)
    Ns = np.array(sorted(times), float)
    allt = np.concatenate([np.asarray(times[int(n)], float) for n in Ns])
    tmax = float(np.max(allt[np.isfinite(allt)])) if np.isfinite(allt).any() else float(max(budgets.values()))
    y_cens = min(1.12 * tmax, float(max(budgets.values())))
    for i, n in enumerate(Ns):
        _strip(ax[0], n, times[int(n)], y_cens, PAPER_BLUE, 0.04, rng, label="runs" if i == 0 else None)
    med = np.array([m.median for m in medfit.medians])
    lo = np.array([m.ci[0] for m in medfit.medians])
    hi = np.array([m.ci[1] for m in medfit.medians])
    fin = np.isfinite(med)
    hi_c = np.where(np.isfinite(hi), hi, med)
    for a in ax:
        if fin.any():
            a.errorbar(Ns[fin], med[fin], yerr=[med[fin] - lo[fin], hi_c[fin] - med[fin]], fmt="D", color="k",
                       ms=5, capsize=3, label="median (95% bootstrap)", zorder=5)
    n_cens = int(np.isinf(allt).sum() + np.isnan(allt).sum())
    if n_cens:
        b_lo, b_hi = min(budgets.values()), max(budgets.values())
        ax[0].scatter([], [], marker="^", s=28, color=PAPER_RED,
                      label=f"never acquired within budget ({n_cens} runs; budget "
                            + (f"{b_lo:,})" if b_lo == b_hi else f"{b_lo:,} to {b_hi:,})"))
    xs = np.linspace(0, Ns.max() * 1.1, 50)
    xl = np.geomspace(Ns.min() / 1.25, Ns.max() * 1.25, 50)
    if medfit.ok:
        ax[0].plot(xs, medfit.line(xs), color=PAPER_BLUE,
                   label=f"OLS on medians: {medfit.line.slope:,.0f} N {MINUS if medfit.line.intercept < 0 else '+'} "
                         f"{abs(medfit.line.intercept):,.0f}")
        ax[1].plot(xl, 10 ** medfit.loglog(np.log10(xl)), color=PAPER_BLUE,
                   label=f"log-log slope against N {medfit.loglog.slope:.2f} [{medfit.loglog_ci_boot[0]:.2f}, "
                         f"{medfit.loglog_ci_boot[1]:.2f}]")
        ax[1].plot(xl, medfit.prop * xl, ":", color=GREY, label=f"slope 1 (c N, c = {medfit.prop:.0f})")
    for a, x in ((ax[0], xs[1:]), (ax[1], xl)):
        a.plot(x, eq11_const * x, "--", color=PAPER_GREEN, lw=1, label=rf"eq 11, $\beta_0 = 0$: {eq11_const:.0f} N")
        a.set_xlabel("context length N")
        a.set_ylabel(r"$t_{\rm ICL}$ (iterations)")
        a.grid(alpha=0.3, which="both")
    ax[0].set_xlim(0, Ns.max() * 1.15)
    ax[0].set_ylim(0, None)
    ax[1].set_xscale("log")
    ax[1].set_yscale("log")
    ax[1].set_xlim(Ns.min() / 1.3, Ns.max() * 1.3)
    plain_log_ticks(ax[1].xaxis, Ns)
    legend(ax[0], fontsize=6.5)
    legend(ax[1], fontsize=6.5)
    ax[0].set_title("all runs and medians", fontsize=10)
    ax[1].set_title("medians, log-log", fontsize=10)
    return title(fig, fig_title)


def fig_ticl_histograms(times: dict, budgets: dict, fig_title: str, bins: int = 12):
    """Fig A.4: one histogram of t_ICL per N (iterations), median (solid) and mean of the acquired runs (dashed);
    the number of censored runs (never acquired within the step budget) is written in each panel."""
    Ns = sorted(times)
    fig, ax = figure(len(Ns), 1, width=3.3, height=2.9)
    ax = np.atleast_1d(ax)
    cols = n_colors(Ns)
    for a, n in zip(ax, Ns):
        t = np.asarray(times[n], float)
        fin = t[np.isfinite(t)]
        if len(fin):
            a.hist(fin, bins=np.linspace(0, max(fin.max(), 1) * 1.05, bins + 1), color=cols[n], alpha=0.8,
                   edgecolor="k", lw=0.3)
            med = np.median(np.where(np.isfinite(t), t, np.inf))
            if np.isfinite(med):
                a.axvline(med, color="k", lw=1.2, label=f"median {med:.0f}")
            a.axvline(fin.mean(), color=PAPER_RED, lw=1, ls="--", label=f"mean (acquired) {fin.mean():.0f}")
            legend(a, fontsize=6.5)
        a.set_title(f"N = {n}: {len(t)} runs, {len(t) - len(fin)} censored at {budgets[n]:.0f}", fontsize=8)
        a.set_xlabel(r"$t_{\rm ICL}$ (iterations)")
        a.set_ylabel("runs")
    return title(fig, fig_title)


def fig_relative_tail(ratios_by_n: dict, lognorm: dict, fig_title: str):
    """Fig A.4 pooled over N: (a) histogram of t_ICL / median(N) (log x axis) with the log-normal density of the
    fitted sd; (b) QQ plot of ln(t_ICL / median) against a standard normal, one colour per N, with the line
    of slope sd (a normal ln t_ICL lies on it). ``ratios_by_n``: {N: finite t_ICL / median}; ``lognorm``: the
    analysis.log_normality dict of the pooled ratios."""
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    pooled = np.concatenate([np.asarray(r, float) for _, r in sorted(ratios_by_n.items())] or [np.empty(0)])
    cols = n_colors(sorted(ratios_by_n))
    if len(pooled) >= 2:
        edges = np.geomspace(pooled.min() / 1.1, pooled.max() * 1.1, 14)
        ax[0].hist(pooled, bins=edges, color=GREY, edgecolor="k", lw=0.3, density=True,
                   label=f"pooled, {len(pooled)} runs")
        if np.isfinite(lognorm["sd"]):
            xs = np.geomspace(edges[0], edges[-1], 200)
            ax[0].plot(xs, scipy_stats.lognorm(lognorm["sd"], scale=np.exp(lognorm["mu"])).pdf(xs), color=PAPER_BLUE,
                       label=f"log-normal, sd(ln) = {lognorm['sd']:.2f}")
        ax[0].set_xscale("log")
        y = np.log(pooled)
        order = np.argsort(y)
        q = scipy_stats.norm.ppf((np.arange(1, len(y) + 1) - 0.375) / (len(y) + 0.25))  # Blom plotting positions
        owner = np.concatenate([[n] * len(r) for n, r in sorted(ratios_by_n.items())])
        for n in sorted(ratios_by_n):
            m = owner[order] == n
            ax[1].plot(q[m], y[order][m], "o", ms=4, color=cols[n], alpha=0.8, label=f"N = {n}")
        if np.isfinite(lognorm["sd"]):
            ax[1].plot(q, lognorm["mu"] + lognorm["sd"] * q, "k--", lw=1,
                       label=f"normal: mean {lognorm['mu']:.2f}, sd {lognorm['sd']:.2f}")
        legend(ax[1], fontsize=7)
        legend(ax[0], fontsize=7)
    ax[0].set_xlabel(r"$t_{\rm ICL}$ / median at the same N")
    ax[0].set_ylabel("density")
    ax[1].set_xlabel("standard normal quantile")
    ax[1].set_ylabel(r"$\ln(t_{\rm ICL}$ / median)")
    ax[0].set_title("relative times, pooled over N", fontsize=10)
    ax[1].set_title(r"QQ plot: is $\ln t_{\rm ICL}$ normal?", fontsize=10)
    for a in ax:
        a.grid(alpha=0.3, which="both")
    return title(fig, fig_title)


def fig_seed_consistency(sc: dict, fig_title: str):
    """ln(t_ICL / median at that N) against N, one line per seed (the same initialisation at every N), coloured by
    the seed's mean over N. ``sc``: analysis.seed_consistency output."""
    fig, ax = figure(1, 1, width=5.6, height=3.8)
    L, N = sc["L"], sc["N"]
    if len(L):
        eff = L.mean(1)
        norm = plt.Normalize(eff.min(), eff.max() if np.ptp(eff) > 0 else eff.min() + 1)
        for row, e in zip(L, eff):
            ax.plot(N, row, "o-", ms=3.5, lw=1, color=plt.cm.coolwarm(norm(e)), alpha=0.85)
        ax.plot([], [], "o-", color=GREY, label=f"one seed ({sc['n_seeds']} seeds), colour: its mean over N")
        legend(ax, fontsize=7)
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"$\ln(t_{\rm ICL}$ / median at that N)")
    ax.set_xticks(N)
    ax.grid(alpha=0.3)
    ax.set_title(f"ICC = {sc['icc']:.2f} [{sc['icc_ci'][0]:.2f}, {sc['icc_ci'][1]:.2f}], "
                 f"mean correlation between N = {sc['r_mean']:.2f}", fontsize=9)
    return title(fig, fig_title)
