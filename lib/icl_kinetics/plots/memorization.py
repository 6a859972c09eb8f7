"""Chapter 5 figures (Fig 5, A.2, A.3): the MLP's order parameters, I_K(t), the memorisation power law and
the K* it predicts. Time axes are gradient-flow time t = lr x iterations."""
from __future__ import annotations

import numpy as np

from .style import figure, GREY, k_colors, k_label, PAPER_BLUE, PAPER_GREEN, PAPER_RED, title, legend


def fig_mlp_order_parameters(t, c1, c2, c3, K):
    """Fig A.2: c1, c2, c3 of an MLP memorising K item-label pairs against t, one line per member (colour = K).
    ``t`` (T,) with t[0] = 0 (dropped on the log axis); c1, c2, c3 (E, T); K (E,)."""
    fig, ax = figure(3, 1, width=4.2, height=3.3)
    cols = k_colors(K)
    pos = t > 0
    seen = set()
    for i, k in enumerate(K):
        lab = k_label(k) if k not in seen else None
        seen.add(k)
        for a, c in zip(ax, (c1, c2, c3)):
            a.plot(t[pos], c[i][pos], color=cols[float(k)], lw=1, alpha=0.85, label=lab)
    ax[0].set_yscale("log")
    ax[2].set_yscale("log")
    for a, name in zip(ax, (r"$c_1 = \langle\sigma(-\phi^+)\rangle$", r"$c_2 = 1 - \langle\sigma(-\phi^+)^2\rangle/c_1$",
                            r"$c_3 = \langle e^{-\phi^+}\rangle$")):
        a.set_xscale("log")
        a.set_xlabel(r"$t$ (lr $\times$ iterations)")
        a.set_ylabel(name)
        a.grid(alpha=0.3, which="both")
    legend(ax[0], fontsize=7, ncol=1)
    for a, s in zip(ax, "abc"):
        a.set_title(f"({s})", fontsize=10, loc="left")
    return title(fig, "Fig A.2 - MLP order parameters while memorising K items (all seeds; colour = K)")


def fig_ik_curves(t, c1, ik, K, ik_inf=None, converged=None):
    """Fig A.3: (a) seed-mean c1(t) per K; (b) I_K(t) = 2 int_0^t c1 per member, with the estimated I_K(inf)
    (dashed, one per K, seed mean; dotted where some seed did not converge)."""
    fig, ax = figure(2, 1, width=4.8, height=3.6)
    cols = k_colors(K)
    K = np.asarray(K, float)
    pos = t > 0
    for k in sorted(set(K)):
        g = K == k
        ax[0].plot(t[pos], np.nanmean(c1[g], 0)[pos], color=cols[k], label=k_label(k))
        for j, i in enumerate(np.flatnonzero(g)):
            ax[1].plot(t, ik[i], color=cols[k], lw=1, label=k_label(k) if j == 0 else None)
        if ik_inf is not None:
            v = np.asarray(ik_inf, float)[g]
            ok = converged is None or np.asarray(converged)[g].all()
            if np.isfinite(v).all():
                ax[1].axhline(np.mean(v), color=cols[k], lw=0.8, ls="--" if ok else ":")
    ax[0].set_xscale("log")
    ax[0].set_yscale("log")
    ax[0].set_ylabel(r"$c_1(t)$ (mean over seeds)")
    ax[1].set_yscale("log")
    ax[1].set_ylabel(r"$I_K(t) = 2\int_0^t c_1\,dt'$ (lr $\times$ iterations)")
    ax[1].set_title(r"dashed: estimated $I_K(\infty)$ (dotted: not converged)", fontsize=9)
    for a in ax:
        a.set_xlabel(r"$t$ (lr $\times$ iterations)")
        a.grid(alpha=0.3, which="both")
    legend(ax[0], fontsize=7)
    ax[0].set_title("(a)", fontsize=10, loc="left")
    ax[1].set_title("(b)", fontsize=10, loc="left")
    return title(fig, "Fig A.3 - c1(t) for each K and its integral I_K(t)")


def fig_memorization_scaling(K, ik_inf, converged, fit, t_icl_lines=None, nu_paper=0.7, ik_observed=None):
    """Fig 5: I_K(inf) against K (log-log), one point per member, the fitted power law A K^nu with its bootstrap
    band, a slope-nu_paper guide through the fit's centre, and optional horizontal lines {label: t_ICL(N)} whose
    crossings with the fit are the predicted K* (eq 12). Members of excluded K (not converged) are drawn as
    hollow up-triangles at I_K(t_end) (``ik_observed``), a lower bound on I_K(inf)."""
    fig, ax = figure(1, 1, width=6.0, height=4.4)
    K, v = np.asarray(K, float), np.asarray(ik_inf, float)
    lower = np.asarray(ik_observed if ik_observed is not None else ik_inf, float)
    used = np.isin(K, getattr(fit, "Ks_used", np.array([])))
    fin = np.isfinite(v) & (v > 0)
    ax.plot(K[used & fin], v[used & fin], "o", color=PAPER_BLUE, ms=6, label=r"$I_K(\infty)$, converged (in fit)")
    ex = ~used & np.isfinite(lower) & (lower > 0)
    if ex.any():
        ax.plot(K[ex], lower[ex], "^", mfc="none", color=PAPER_RED, ms=7,
                label=r"not converged (excluded): $I_K(t_{\rm end})$, a lower bound")
    if getattr(fit, "ok", False):
        kk = np.geomspace(K.min() / 1.5, K.max() * 1.5, 100)
        ax.plot(kk, fit.A * kk ** fit.nu, "-", color="k",
                label=rf"fit $A K^\nu$: $\nu$ = {fit.nu:.2f} [{fit.nu_ci[0]:.2f}, {fit.nu_ci[1]:.2f}]")
        if len(fit.boot):
            band = 10 ** (fit.boot[:, 1][:, None] + fit.boot[:, 0][:, None] * np.log10(kk)[None])
            lo, hi = np.percentile(band, [2.5, 97.5], axis=0)
            ax.fill_between(kk, lo, hi, color="k", alpha=0.15, lw=0)
        kc = np.sqrt(fit.Ks_used.min() * fit.Ks_used.max())
        ax.plot(kk, fit.A * kc ** fit.nu * (kk / kc) ** nu_paper, ":", color=PAPER_GREEN,
                label=rf"slope $\nu$ = {nu_paper} (paper)")
    for lab, tl in (t_icl_lines or {}).items():
        ax.axhline(tl, color=GREY, lw=0.8, ls="--")
        ax.annotate(lab, (0.99, tl), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=7,
                    color="0.35")
    ax.set_xscale("log")
    if (fin & used).any() or ex.any() or t_icl_lines:
        ax.set_yscale("log")
    ax.set_xlabel("number of item-label pairs K")
    ax.set_ylabel(r"$I_K(\infty) = 2\int_0^\infty c_1\,dt$ (lr $\times$ iterations)")
    ax.grid(alpha=0.3, which="both")
    legend(ax, fontsize=7)
    return title(fig, r"Fig 5 - memorisation scaling law $I_K(\infty) \sim K^{\nu}$")


def fig_kstar_prediction(rows, nu):
    """Predicted K*(N) (eq 13 with the fitted prefactor) with its propagated 95% interval, log-log."""
    fig, ax = figure(1, 1, width=4.8, height=3.6)
    N = np.array([r["N"] for r in rows], float)
    ks = np.array([r["k_star"] for r in rows], float)
    lo = np.array([r["ci"][0] for r in rows], float)
    hi = np.array([r["ci"][1] for r in rows], float)
    if np.isfinite(ks).any():
        ax.errorbar(N, ks, yerr=[ks - lo, hi - ks], fmt="o", color=PAPER_BLUE, capsize=3,
                    label=rf"predicted $K^*$ (slope $1/\nu$ = {1 / nu:.2f})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        legend(ax, fontsize=8)
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"predicted $K^*$ (items)")
    ax.grid(alpha=0.3, which="both")
    return title(fig, r"Eq 13 - predicted $K^\ast = (N \sqrt{2\pi} / A)^{1/\nu}$")
