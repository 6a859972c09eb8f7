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


# --- chapter 01: phenomenology ---
def accuracy_vs_k(ax, K, acc, threshold=None, color=PAPER_BLUE, label="runs (one dot per seed)", jitter=0.03,
                  seed=0):
    """Final accuracy of every run against K (log axis, small horizontal jitter), with an optional sigmoid fit."""
    from .fits import sigmoid

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


# --- theory figures (chapters 3-4) ---
# Figures of the minimal-model theory (lib/icl_kinetics/theory.py). Data are computed in the chapters;
# these functions only draw. Time axes are gradient-flow time t = lr x iterations.
from matplotlib.colors import LogNorm  # noqa: E402


def _landscape_panel(ax, w, beta, L, cmap="viridis", label=r"$\mathcal{L}$", norm=None, stream=True,
                     density=1.0):
    """Heat map of L(w, beta) on a (len(beta), len(w)) grid with streamlines of -grad L."""
    mesh = ax.pcolormesh(w, beta, L, shading="auto", cmap=cmap, norm=norm, rasterized=True)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    if stream:
        gb, gw = np.gradient(L, beta, w)
        ax.streamplot(w, beta, -gw, -gb, color="w", density=density, linewidth=0.7, arrowsize=0.8)
    ax.set_xlabel(r"$w$ (value strength)")
    ax.set_ylabel(r"$\beta$ (key-query strength)")
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(beta[0], beta[-1])
    return mesh


def fig_loss_landscape(w, beta, L, N, trajectories=None):
    """Fig 4: (a) the loss of eq 5 (phi+ = 0) with gradient-flow streamlines and the plateau |L - log 2| < 0.01
    (dotted); (b) log10 |grad L|, which shows the nearly flat region around the initialisation (0, 0).
    ``trajectories``: optional {label: (w(t), beta(t))} drawn on both panels."""
    from matplotlib.colors import Normalize
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    _landscape_panel(ax[0], w, beta, L, label=r"$\mathcal{L}$ (eq 5; colours clipped at 1.5)",
                     norm=Normalize(0, 1.5))
    ax[0].contour(w, beta, np.abs(L - np.log(2)), levels=[0.01], colors="k", linewidths=1.0, linestyles=":")
    gb, gw = np.gradient(L, beta, w)
    g = np.hypot(gw, gb)
    _landscape_panel(ax[1], w, beta, g, cmap="magma", label=r"$|\nabla\mathcal{L}|$", stream=False,
                     norm=LogNorm(vmin=max(g.min(), 1e-6), vmax=g.max()))
    styles = [dict(color=PAPER_RED, ls="--", lw=1.5), dict(color="c", ls="-", lw=1.5), dict(color="k", ls="-.")]
    for a in ax:
        a.plot(0, 0, "o", color=PAPER_RED, ms=5, label="initialisation (0, 0)")
        for st, (lab, (tw, tb)) in zip(styles, (trajectories or {}).items()):
            a.plot(tw, tb, label=lab, **st)
    ax[0].set_title(rf"loss, N = {N} (dotted: $|\mathcal{{L}} - \log 2| = 0.01$)", fontsize=9)
    ax[1].set_title("gradient norm (flat region near origin)", fontsize=10)
    ax[1].legend(loc="upper left", fontsize=7)
    return title(fig, f"Fig 4 - minimal-model ICL loss landscape (z_MLP = 0, N = {N})")


def fig_balanced_landscape(w, beta, L_exact, L_eq9, N):
    """Balanced contexts (exactly N/2 labels of each sign): eq 5 with eta = 0 (left) and its expansion
    eq 9 (right), both with streamlines of -grad L; the origin is a saddle."""
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    vmin, vmax = min(L_exact.min(), L_eq9.min()), max(L_exact.max(), L_eq9.max())
    from matplotlib.colors import Normalize
    for a, L, name in ((ax[0], L_exact, r"exact balanced ($\eta=0$ in eq 5)"), (ax[1], L_eq9, "eq 9 expansion")):
        _landscape_panel(a, w, beta, L, cmap="cividis", label=r"$\mathcal{L}'$", norm=Normalize(vmin, vmax))
        a.plot(0, 0, "X", color=PAPER_RED, ms=8, label="saddle at origin")
        a.contour(w, beta, L, levels=[np.log(2)], colors=PAPER_RED, linewidths=1.0)
        a.set_title(name, fontsize=10)
    ax[0].legend(loc="upper left", fontsize=8)
    return title(fig, f"Eq 9 - balanced-context landscape (N/2 labels each, N = {N}): saddle, two basins")


def fig_eq6_error(w, beta, rel_err_grid, N_grid, w_line, err_vs_w, beta_line, err_vs_beta, w_fixed,
                  quantity="relative gradient error of eq 6"):
    """Relative error of eq 6 against the exact eq 20 (e.g. |grad L_eq6 - grad L_eq20| / |grad L_eq20|):
    (a) heat map over (w, beta) at N = N_grid; (b) along beta = 0 vs |w|, (c) along w = w_fixed vs beta,
    for each N in the dicts err_vs_w / err_vs_beta (N -> curve)."""
    fig, ax = figure(3, 1, width=4.2, height=3.4)
    m = ax[0].pcolormesh(w, beta, rel_err_grid, shading="auto", cmap="magma_r",
                         norm=LogNorm(vmin=1e-4, vmax=10), rasterized=True)
    fig.colorbar(m, ax=ax[0], label=quantity)
    cs = ax[0].contour(w, beta, rel_err_grid, levels=[0.01, 0.1], colors=["w", PAPER_BLUE], linewidths=1)
    ax[0].clabel(cs, fmt={0.01: "1%", 0.1: "10%"}, fontsize=8)
    ax[0].set_xlabel(r"$w$")
    ax[0].set_ylabel(r"$\beta$")
    ax[0].set_title(f"N = {N_grid}", fontsize=10)
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(err_vs_w)))
    for c, (N, e) in zip(colors, err_vs_w.items()):
        ax[1].loglog(np.abs(w_line), e, color=c, label=f"N = {N}")
    for c, (N, e) in zip(colors, err_vs_beta.items()):
        ax[2].semilogy(beta_line, e, color=c, label=f"N = {N}")
    ax[1].set_xlabel(r"$|w|$ ($\beta = 0$)")
    ax[2].set_xlabel(rf"$\beta$ ($w = {w_fixed:g}$)")
    for a in ax[1:]:
        a.set_ylabel(quantity)
        a.legend(fontsize=8)
        a.grid(alpha=0.3, which="both")
    return title(fig, "Eq 6 vs exact eq 20 near initialisation (phi+ = 0)")


def fig_t_icl_vs_beta0(beta0, t_ode, t_eq11, t_eq37, N, fits=None, t_eq37_half=None):
    """Fig A.1a: t_ICL vs beta0 from eqs 7-8 (c1 = c2 = 1/2, w0 = 0) against eq 11 and eq 37.
    ``fits``: optional list of (beta0 range, slope, intercept) lines of log t_ICL vs beta0 to overlay."""
    fig, ax = figure(1, 1, width=6.2, height=4.0)
    ax.semilogy(beta0, t_ode, "k-", lw=2, label="ODE eqs 7-8 (numerical)")
    ax.semilogy(beta0, t_eq11, "--", color=PAPER_BLUE, label=r"eq 11: $N\sqrt{2\pi}e^{-\beta_0}$")
    ax.semilogy(beta0, t_eq37, ":", color=PAPER_RED, label=r"eq 37 as printed: $Ne^{-2\beta_0}$")
    if t_eq37_half is not None:
        ax.semilogy(beta0, t_eq37_half, "-.", color=PAPER_GREEN, label=r"eq 36 integrated: $Ne^{-2\beta_0}/2$")
    for (lo, hi), s, b in fits or []:
        x = np.linspace(lo, hi, 10)
        ax.semilogy(x, np.exp(b + s * x), color="orange", lw=4, alpha=0.5)
        ax.annotate(f"slope {s:.2f}", (x.mean(), np.exp(b + s * x.mean())), textcoords="offset points",
                    xytext=(8, 8), fontsize=8, color="darkorange")
    ax.set_xlabel(r"$\beta_0$ (initial key-query strength, $w_0 = 0$)")
    ax.set_ylabel(r"$t_{\rm ICL}$ (lr $\times$ iterations)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return title(fig, f"Fig A.1a - exponential dependence of t_ICL on beta0 (N = {N}, c1 = c2 = 1/2)")


def fig_t_icl_histogram(t_icl, beta0_sd, N, bins=60):
    """Fig A.1b: histogram of t_ICL for normally distributed beta0 (linear and log-x panels)."""
    fig, ax = figure(2, 1, width=4.4, height=3.3)
    ax[0].hist(t_icl, bins=bins, color=GREY, edgecolor="k", lw=0.3)
    med = np.median(t_icl)
    for a in ax:
        a.axvline(med, color=PAPER_RED, lw=1, label=f"median {med:.0f}")
        a.axvline(np.mean(t_icl), color=PAPER_BLUE, lw=1, ls="--", label=f"mean {np.mean(t_icl):.0f}")
        a.set_xlabel(r"$t_{\rm ICL}$ (lr $\times$ iterations)")
        a.set_ylabel("count")
    ax[1].hist(t_icl, bins=np.geomspace(t_icl.min(), t_icl.max(), bins), color=GREY, edgecolor="k", lw=0.3)
    ax[1].set_xscale("log")
    ax[0].legend(fontsize=8)
    ax[0].set_title("linear axis: long right tail", fontsize=10)
    ax[1].set_title("log axis", fontsize=10)
    return title(fig, rf"Fig A.1b - t_ICL for beta0 ~ N(0, {beta0_sd:g}^2) (N = {N}, w0 = 0)")


def fig_gd_vs_ode(gd, odes, N, lr):
    """Plain GD on the exact loss (eq 21, autograd) vs eqs 7-8: w(t) and beta(t) overlaid.
    ``gd``: theory.GDResult with several runs; ``odes``: list of theory.ODEResult (same order)."""
    fig, ax = figure(2, 1, width=4.6, height=3.4)
    colors = plt.cm.viridis(np.linspace(0, 0.8, len(odes)))
    for j, (c, ode) in enumerate(zip(colors, odes)):
        b0 = gd.beta[0, j]
        for a, y_gd, y_ode in ((ax[0], gd.w[:, j], ode.w), (ax[1], gd.beta[:, j], ode.beta)):
            a.plot(gd.t, y_gd, color=c, lw=2.5, alpha=0.5, label=rf"GD exact loss, $\beta_0$ = {b0:g}")
            a.plot(ode.t, y_ode, "--", color="k", lw=0.9, label="ODE eqs 7-8" if j == 0 else None)
    ax[1].axhline(gd.beta_threshold, color=GREY, lw=0.8, ls=":", label=r"threshold $\beta = \log N$")
    ax[0].set_ylabel(r"$w$")
    ax[1].set_ylabel(r"$\beta$")
    for a in ax:
        a.set_xlabel(r"$t$ (lr $\times$ iterations)")
        a.set_xlim(0, gd.t[-1])
    ax[0].legend(fontsize=7)
    ax[1].legend(fontsize=7, loc="upper left")
    return title(fig, f"Eqs 7-8 vs gradient descent on the exact loss (N = {N}, lr = {lr:g}, z_MLP = 0)")


def fig_t_icl_vs_N(Ns, t_ode, t_gd, t_eq11, slope_ode, slope_gd):
    """Linear scaling of t_ICL with N (eq 11; cf. Fig 6b): ODE, GD on the exact loss and eq 11 (beta0 = 0)."""
    fig, ax = figure(1, 1, width=5.0, height=3.8)
    ax.loglog(Ns, t_eq11, "-", color=PAPER_BLUE, label=r"eq 11: $N\sqrt{2\pi}$")
    ax.loglog(Ns, t_ode, "ko", ms=5, label=f"ODE eqs 7-8 (log-log slope {slope_ode:.3f})")
    ax.loglog(Ns, t_gd, "s", mfc="none", color=PAPER_RED, ms=7, label=f"GD exact loss (slope {slope_gd:.3f})")
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"$t_{\rm ICL}$ (lr $\times$ iterations)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return title(fig, r"Fig 6b (theory) - t_ICL grows linearly with N (beta0 = 0, w0 = 0)")


def fig_tau_k(t, c1_curves, ik_curves, target, taus, t_odes):
    """Eq 10/12 with a decaying c1(t): (a) c1(t); (b) I_K(t) against the eq 10 target N sqrt(2 pi) e^{-beta0},
    with tau_K (eq 10) and the ODE's t_ICL marked. Dicts keyed by a label (e.g. the memorisation time)."""
    fig, ax = figure(2, 1, width=4.4, height=3.4)
    colors = plt.cm.plasma(np.linspace(0, 0.8, len(c1_curves)))
    for c, (k, c1) in zip(colors, c1_curves.items()):
        ax[0].plot(t, c1, color=c, label=k)
        ax[1].plot(t, ik_curves[k], color=c, label=k)
        if np.isfinite(taus[k]):
            ax[1].plot(taus[k], target, "o", color=c, mfc="none", ms=8)
        if np.isfinite(t_odes[k]):
            ax[1].axvline(t_odes[k], color=c, lw=0.8, ls=":")
    ax[1].axhline(target, color="k", lw=1, ls="--", label=r"$N\sqrt{2\pi}e^{-\beta_0}$ (eq 10)")
    ax[0].set_ylabel(r"$c_1(t)$")
    ax[1].set_ylabel(r"$I_K(t) = 2\int_0^t c_1$")
    for a in ax:
        a.set_xlabel(r"$t$ (lr $\times$ iterations)")
        a.legend(fontsize=7)
    ax[1].set_title(r"o: $\tau_K$ from eq 10; dotted: ODE $t_{\rm ICL}$", fontsize=9)
    return title(fig, "Eqs 10 & 12 - ICL is acquired iff I_K(inf) exceeds N sqrt(2 pi) e^-beta0")


# --- chapter 05 ---
# Memorisation by the MLP alone (Fig 5, A.2, A.3). Time axes are gradient-flow time t = lr x iterations.
def _k_colors(Ks):
    Ks = sorted(set(float(k) for k in Ks))
    cols = plt.cm.viridis(np.linspace(0, 0.9, len(Ks)))
    return {k: c for k, c in zip(Ks, cols)}


def _k_label(k) -> str:
    return f"K = {int(k)}"


def fig_mlp_order_parameters(t, c1, c2, c3, K):
    """Fig A.2: c1, c2, c3 of an MLP memorising K item-label pairs against t, one line per member (colour = K).
    ``t`` (T,) with t[0] = 0 (dropped on the log axis); c1, c2, c3 (E, T); K (E,)."""
    fig, ax = figure(3, 1, width=4.2, height=3.3)
    cols = _k_colors(K)
    pos = t > 0
    seen = set()
    for i, k in enumerate(K):
        lab = _k_label(k) if k not in seen else None
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
    ax[0].legend(fontsize=7, ncol=1)
    for a, s in zip(ax, "abc"):
        a.set_title(f"({s})", fontsize=10, loc="left")
    return title(fig, "Fig A.2 - MLP order parameters while memorising K items (all seeds; colour = K)")


def fig_ik_curves(t, c1, ik, K, ik_inf=None, converged=None):
    """Fig A.3: (a) seed-mean c1(t) per K; (b) I_K(t) = 2 int_0^t c1 per member, with the estimated I_K(inf)
    (dashed, one per K, seed mean; dotted where some seed did not converge)."""
    fig, ax = figure(2, 1, width=4.8, height=3.6)
    cols = _k_colors(K)
    K = np.asarray(K, float)
    pos = t > 0
    for k in sorted(set(K)):
        g = K == k
        ax[0].plot(t[pos], np.nanmean(c1[g], 0)[pos], color=cols[k], label=_k_label(k))
        for j, i in enumerate(np.flatnonzero(g)):
            ax[1].plot(t, ik[i], color=cols[k], lw=1, label=_k_label(k) if j == 0 else None)
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
    ax[0].legend(fontsize=7)
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
    ax.legend(fontsize=7, loc="upper left")
    return title(fig, r"Fig 5 - memorisation scaling law I_K(inf) ~ K^nu")


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
        ax.legend(fontsize=8)
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"predicted $K^*$ (items)")
    ax.grid(alpha=0.3, which="both")
    return title(fig, r"Eq 13 - predicted K* = (N sqrt(2 pi) / A)^(1/nu)")


# --- chapters 02 and 06 ---
# Minimal model (Fig 3a-c) and transience (Fig 2e, 6d, A.6). Time axes are training iterations.
TRANSIENCE_STYLE = {  # Fig A.6 markers
    "never": dict(marker="+", color=PAPER_RED, s=60, label="never reaches 99% ICL accuracy"),
    "persistent": dict(marker="x", color="#e6b800", s=45, label="acquires ICL, no transience seen"),
    "transient": dict(marker="o", color=PAPER_BLUE, s=30, label="transient"),
}


def fig_icl_vs_k_pair(panels: dict, fig_title: str):
    """Final ICL accuracy vs K with the sigmoid fit, one panel per model: {panel title: (K, acc, threshold)}."""
    fig, axes = figure(len(panels), 1, width=4.4, height=3.3)
    axes = np.atleast_1d(axes)
    for ax, (name, (K, acc, thr)) in zip(axes, panels.items()):
        accuracy_vs_k(ax, K, acc, thr if thr is not None and np.isfinite(thr.k_star) else None)
        ax.set_ylabel("final ICL accuracy (novel items)")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
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
        ax.legend(fontsize=6, ncol=2, loc="lower right")
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
    ax[0].legend(fontsize=6, loc="upper left")
    ax[1].legend(fontsize=6, loc="upper left")
    return title(fig, fig_title)


def fig_minimal_transience(steps, icl_acc, w, w_tr, labels, fig_title: str, w_ode=None):
    """Fig 3c: (a) ICL accuracy over training; (b) learned w (solid) against w_tr = W(c3/lambda_w) (dashed) and,
    optionally, eq 44 integrated with the measured c3 (dotted; ``w_ode``: list of (steps, w) or None per run)."""
    fig, ax = figure(2, 1, width=4.8, height=3.5)
    colors = plt.cm.plasma(np.linspace(0, 0.85, max(len(labels), 1)))
    for i, (c, lab) in enumerate(zip(colors, labels)):
        ax[0].plot(steps, icl_acc[i], color=c, lw=1.2, label=lab)
        ax[1].plot(steps, w[i], color=c, lw=1.4, label=lab)
        ax[1].plot(steps, w_tr[i], "--", color=c, lw=1.0)
        if w_ode is not None and w_ode[i] is not None:
            ax[1].plot(*w_ode[i], ":", color=c, lw=1.4)
    ax[1].plot([], [], "k--", lw=1.0, label=r"$w_{\rm tr} = W(c_3/\lambda_w)$ (eq 15)")
    if w_ode is not None:
        ax[1].plot([], [], "k:", lw=1.4, label=r"eq 44 with measured $c_3(t)$")
    ax[0].axhline(0.5, color=GREY, lw=0.6, ls=":")
    ax[0].set_ylabel("ICL accuracy (novel items)")
    ax[1].set_ylabel(r"$w$")
    ax[1].set_ylim(bottom=min(0.0, float(np.nanmin(w)) if np.isfinite(w).any() else 0.0))
    for a in ax:
        a.set_xlabel("training iteration")
        a.xaxis.set_major_locator(plt.MaxNLocator(5))
        a.legend(fontsize=6)
    return title(fig, fig_title)


def fig_transformer_transience(steps, icl_acc, iwl_acc, wd, fig_title: str):
    """Fig 2e: ICL (solid) and IWL (dashed) accuracy over training, one colour per attention weight decay."""
    fig, ax = figure(1, 1, width=6.6, height=3.8)
    wd = np.asarray(wd, float)
    uniq = np.unique(wd)
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(uniq)))
    for u, c in zip(uniq, colors):
        for i, row in enumerate(np.flatnonzero(wd == u)):
            ax.plot(steps, icl_acc[row], color=c, lw=1.2, label=f"wd = {u:.2g}" if i == 0 else None)
            ax.plot(steps, iwl_acc[row], "--", color=c, lw=0.9)
    ax.plot([], [], "k-", label="ICL accuracy")
    ax.plot([], [], "k--", label="IWL accuracy")
    ax.axhline(0.5, color=GREY, lw=0.6, ls=":")
    ax.set_xlabel("training iteration")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return title(fig, fig_title)


def _eq16_axes(ax, xs, fit, xlabel, ylabel, relation_label):
    """Shared part of the eq-16 panels: y = -1/2 log x over the data's x range, an optional fitted line
    (analysis.loss_relation_fit result, slope in ln x), log x axis and labels in nats."""
    from .theory import iwl_loss_from_icl_loss
    xs = np.concatenate([np.asarray(x, float) for x in xs]) if len(xs) else np.array([])
    xs = xs[np.isfinite(xs) & (xs > 0)]
    lo = max(float(xs.min()) / 2, 1e-8) if len(xs) else 1e-3
    g = np.geomspace(lo, 1.0, 200)
    ax.plot(g, iwl_loss_from_icl_loss(g), "k-", lw=1.5, label=relation_label)
    if fit is not None and np.isfinite(fit["slope"]):
        xf = np.exp(np.linspace(fit["x"].min(), fit["x"].max(), 50))
        ax.plot(xf, fit["slope"] * np.log(xf) + fit["intercept"], color="orange", lw=3, alpha=0.6,
                label=f"fit: slope {fit['slope']:.2f} ({fit['slope_ci'][0]:.2f} to {fit['slope_ci'][1]:.2f})")
    ax.set_xscale("log")
    ax.set_xlim(lo, 5.0)
    ax.set_ylim(0, None)
    ax.set_xlabel(xlabel + " (nats)")
    ax.set_ylabel(ylabel + " (nats)")


def fig_loss_relation(panels: dict, fig_title: str, fit=None):
    """Fig 6d: L_IWL against L_ICL after ICL acquisition (log x axis), with eq 16's two asymptotic relations.
    ``panels``: {panel title: dict(icl=[(L_ICL, L_IWL) per run on the ICL branch], faded=[... after fading])}.
    ``fit``: optional loss_relation_fit result drawn on the first panel."""
    from .theory import icl_loss_from_iwl_loss
    fig, axes = figure(len(panels), 1, width=4.6, height=3.6)
    axes = np.atleast_1d(axes)
    for k, (ax, (name, br)) in enumerate(zip(axes, panels.items())):
        allx = []
        for j, (x, y) in enumerate(br.get("icl", [])):
            ax.plot(x, y, "o-", ms=2.5, lw=0.5, color=PAPER_BLUE, alpha=0.6,
                    label="after acquisition, before fading" if j == 0 else None)
            allx.append(x)
        for j, (x, y) in enumerate(br.get("faded", [])):
            ax.plot(x, y, "s-", ms=2.5, lw=0.5, color=PAPER_RED, alpha=0.5,
                    label="after ICL faded" if j == 0 else None)
            allx.append(x)
        _eq16_axes(ax, allx, fit if k == 0 else None, r"ICL loss $L_{\rm ICL}$", r"IWL loss $L_{\rm IWL}$",
                   r"$L_{\rm IWL} = -\frac{1}{2}\log L_{\rm ICL}$")
        ys = np.geomspace(1e-4, 1.0, 200)
        ax.plot(icl_loss_from_iwl_loss(ys), ys, "k--", lw=1.2, label=r"$L_{\rm ICL} = -\frac{1}{2}\log L_{\rm IWL}$")
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=6)
    return title(fig, fig_title)


def fig_transience_time(wd, t_tr, classes, steps_max, fig_title: str):
    """Fig A.6: transience time against attention weight decay. Runs without a transience time are drawn at the
    end of training (``steps_max``) with the paper's markers (red plus: never acquired; yellow cross: no
    transience seen)."""
    fig, ax = figure(1, 1, width=6.6, height=3.8)
    wd, t_tr, classes = np.asarray(wd, float), np.asarray(t_tr, float), np.asarray(classes)
    rng = np.random.default_rng(0)
    jit = 10 ** (0.02 * rng.standard_normal(len(wd)))
    for cls, st in TRANSIENCE_STYLE.items():
        m = classes == cls
        if not m.any():
            continue
        y = t_tr[m] if cls == "transient" else np.full(m.sum(), float(steps_max))
        ax.scatter(wd[m] * jit[m], y, **st)
    ax.axhline(steps_max, color=GREY, lw=0.6, ls=":", label="end of training")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"attention weight decay $\lambda_w$")
    ax.set_ylabel("transience time (iterations)")
    ax.legend(fontsize=7)
    return title(fig, fig_title)


# --- chapters 07, 08, 10 ---
# Empirical validations: K* vs N (Fig 6a, A.7), t_ICL vs N (Fig 6b, A.5), the long tail of t_ICL (Fig A.4).
# Times are training iterations; runs that never acquired ICL (t_ICL = inf, censored) are drawn as triangles at
# the step budget.
def _n_colors(Ns):
    return dict(zip(Ns, plt.cm.viridis(np.linspace(0.05, 0.85, max(len(Ns), 1)))))


def _plain_log_ticks(axis, values):
    """Ticks at `values` with plain numbers on a log axis (instead of 2 x 10^1)."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter
    axis.set_major_locator(FixedLocator(sorted(set(float(v) for v in values))))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


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
                ax[1].annotate(f"N = {int(n)}", (m, q), textcoords="offset points", xytext=(5, 4), fontsize=7)
            lo = min(mk.min(), qk.min()) / 2
            hi = max(mk.max(), qk.max()) * 2
            ax[1].plot([lo, hi], [lo, hi], "k--", lw=0.8, label="predicted = measured")
            ax[1].legend(fontsize=7)
    if not rows:
        ax[1].text(0.5, 0.5, "no K* prediction available\n(chapter 5 file missing or its fit failed)",
                   ha="center", va="center", transform=ax[1].transAxes, fontsize=9)
    if ax[0].has_data():
        ax[0].set_xscale("log")
        _plain_log_ticks(ax[0].xaxis, N)
    ax[0].set_xlabel("context length N")
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
        ax[0].legend(fontsize=6.5, loc="upper left")
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
    ax[0].scatter([], [], marker="^", s=28, color=PAPER_RED,
                  label=f"never acquired within budget ({n_cens} runs; budget {min(budgets.values())}"
                        f"-{max(budgets.values())})")
    xs = np.linspace(0, Ns.max() * 1.1, 50)
    xl = np.geomspace(Ns.min() / 1.25, Ns.max() * 1.25, 50)
    if medfit.ok:
        ax[0].plot(xs, medfit.line(xs), color=PAPER_BLUE,
                   label=f"OLS on medians: {medfit.line.slope:.0f} N {medfit.line.intercept:+.0f}")
        ax[1].plot(xl, 10 ** medfit.loglog(np.log10(xl)), color=PAPER_BLUE,
                   label=f"log-log slope {medfit.loglog.slope:.2f} [{medfit.loglog_ci_boot[0]:.2f}, "
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
    _plain_log_ticks(ax[1].xaxis, Ns)
    ax[0].legend(fontsize=6.5, loc="upper left")
    ax[1].legend(fontsize=6.5, loc="upper left")
    ax[0].set_title("all runs and medians", fontsize=10)
    ax[1].set_title("medians, log-log", fontsize=10)
    return title(fig, fig_title)


def fig_ticl_histograms(times: dict, budgets: dict, fig_title: str, bins: int = 12):
    """Fig A.4: one histogram of t_ICL per N (iterations), median (solid) and mean of the acquired runs (dashed);
    the number of censored runs (never acquired within the step budget) is written in each panel."""
    Ns = sorted(times)
    fig, ax = figure(len(Ns), 1, width=3.3, height=2.9)
    ax = np.atleast_1d(ax)
    cols = _n_colors(Ns)
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
            a.legend(fontsize=6.5, loc="upper right")
        a.set_title(f"N = {n}: {len(t)} runs, {len(t) - len(fin)} censored at {budgets[n]:.0f}", fontsize=8)
        a.set_xlabel(r"$t_{\rm ICL}$ (iterations)")
        a.set_ylabel("runs")
    return title(fig, fig_title)


def fig_relative_tail(ratios_by_n: dict, lognorm: dict, fig_title: str):
    """Fig A.4 pooled over N: (a) histogram of t_ICL / median(N) (log x axis) with the log-normal density of the
    fitted sd; (b) QQ plot of ln(t_ICL / median) against a standard normal, one colour per N, with the line
    of slope sd (a normal ln t_ICL lies on it). ``ratios_by_n``: {N: finite t_ICL / median}; ``lognorm``: the
    analysis.log_normality dict of the pooled ratios."""
    from scipy import stats
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    pooled = np.concatenate([np.asarray(r, float) for _, r in sorted(ratios_by_n.items())] or [np.empty(0)])
    cols = _n_colors(sorted(ratios_by_n))
    if len(pooled) >= 2:
        edges = np.geomspace(pooled.min() / 1.1, pooled.max() * 1.1, 14)
        ax[0].hist(pooled, bins=edges, color=GREY, edgecolor="k", lw=0.3, density=True,
                   label=f"pooled, {len(pooled)} runs")
        if np.isfinite(lognorm["sd"]):
            xs = np.geomspace(edges[0], edges[-1], 200)
            ax[0].plot(xs, stats.lognorm(lognorm["sd"], scale=np.exp(lognorm["mu"])).pdf(xs), color=PAPER_BLUE,
                       label=f"log-normal, sd(ln) = {lognorm['sd']:.2f}")
        ax[0].set_xscale("log")
        y = np.log(pooled)
        order = np.argsort(y)
        q = stats.norm.ppf((np.arange(1, len(y) + 1) - 0.375) / (len(y) + 0.25))  # Blom plotting positions
        owner = np.concatenate([[n] * len(r) for n, r in sorted(ratios_by_n.items())])
        for n in sorted(ratios_by_n):
            m = owner[order] == n
            ax[1].plot(q[m], y[order][m], "o", ms=4, color=cols[n], alpha=0.8, label=f"N = {n}")
        if np.isfinite(lognorm["sd"]):
            ax[1].plot(q, lognorm["mu"] + lognorm["sd"] * q, "k--", lw=1,
                       label=f"normal: mean {lognorm['mu']:.2f}, sd {lognorm['sd']:.2f}")
        ax[1].legend(fontsize=7, loc="upper left")
        ax[0].legend(fontsize=7)
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
        ax.legend(fontsize=7, loc="upper left")
    ax.axhline(0, color="k", lw=0.6)
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"$\ln(t_{\rm ICL}$ / median at that N)")
    ax.set_xticks(N)
    ax.grid(alpha=0.3)
    ax.set_title(f"ICC = {sc['icc']:.2f} [{sc['icc_ci'][0]:.2f}, {sc['icc_ci'][1]:.2f}], "
                 f"mean correlation between N = {sc['r_mean']:.2f}", fontsize=9)
    return title(fig, fig_title)


# --- chapters 09, 11, 12 ---
# Empirical validations: bimodal outcomes near K* (Fig 6c), eq 16 (Fig 6d, drawn with fig_loss_relation of chapter 6)
# and balanced contexts (Fig 6e, A.8). Times are training iterations unless an axis says otherwise.
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
    ax.legend(fontsize=7)
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
    ax.legend(fontsize=7, loc="lower right")
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
    ax[0].legend(fontsize=6, loc="lower right")
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
    ax[1].legend(fontsize=7)
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
            from .fits import sigmoid
            xs = np.geomspace(np.min(K), np.max(K), 200)
            ax[1].plot(xs, sigmoid(np.log10(xs), *thr.params), color=cols[name], lw=1.2)
            ax[1].axvline(thr.k_star, color=cols[name], ls="--", lw=0.8, label=f"{name}: K* = {thr.k_star:.0f}")
    ax[0].set_xscale("log")
    allK = np.unique(np.concatenate([np.asarray(t["K"], float) for t in tables.values()]))
    for a in ax:
        _plain_log_ticks(a.xaxis, allK)
        a.tick_params(axis="x", labelsize=7)
    ax[0].set_ylim(-0.05, 1.05)
    ax[0].set_xlabel("number of item-label pairs K")
    ax[0].set_ylabel(f"P(final ICL accuracy > {acc_threshold:.0%})")
    ax[0].legend(fontsize=7)
    ax[1].axhline(acc_threshold, color="k", lw=0.6, ls=":")
    ax[1].set_ylabel("final ICL accuracy (novel items)")
    ax[1].legend(fontsize=6, loc="lower right")
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
    axes[0].legend(fontsize=6)
    return title(fig, fig_title)


def fig_eq16_branches(panel: dict, fit_icl: dict, fit_faded: dict, fig_title: str):
    """Fig 6d, one panel per relation of eq 16. (a) L_IWL against L_ICL (log x) on the ICL branch with
    L_IWL = -1/2 log L_ICL and the fit ``fit_icl``; (b) L_ICL against L_IWL (log x) after ICL faded with
    L_ICL = -1/2 log L_IWL and ``fit_faded`` (fits: analysis.loss_relation_fit results). ``panel``:
    dict(icl=[(L_ICL, L_IWL) per run], faded=[...])."""
    fig, ax = figure(2, 1, width=4.4, height=3.5)
    specs = ((ax[0], panel.get("icl", []), fit_icl, PAPER_BLUE, False, r"$L_{\rm ICL}$", r"$L_{\rm IWL}$",
              "after acquisition, before fading"),
             (ax[1], panel.get("faded", []), fit_faded, PAPER_RED, True, r"$L_{\rm IWL}$", r"$L_{\rm ICL}$",
              "after ICL faded"))
    for a, pts, fit, col, swap, xl, yl, lab in specs:
        xs_all = []
        for j, (li, lw) in enumerate(pts):
            x, y = (lw, li) if swap else (li, lw)
            a.plot(x, y, "o-", ms=2.5, lw=0.5, color=col, alpha=0.6, label=lab if j == 0 else None)
            xs_all.append(np.asarray(x, float))
        _eq16_axes(a, xs_all, fit, xl, yl, yl + r" $= -\frac{1}{2}\log$ " + xl + " (eq 16)")
        a.legend(fontsize=6)
    ax[0].set_title(r"$L_{\rm ICL} \ll 1$ branch", fontsize=10)
    ax[1].set_title(r"$L_{\rm IWL} \ll 1$ branch", fontsize=10)
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
        ax.legend(fontsize=7, loc="upper left")
    title(fig, fig_title)
    return fig
