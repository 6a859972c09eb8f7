"""Theory figures of chapters 3 and 4 (Fig 4, Fig A.1, eqs 6-12), computed from :mod:`icl_kinetics.theory` while
the book builds: loss landscapes, the error of eq 6, t_ICL against beta0 and N, gradient descent against the ODE."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm, Normalize

from .style import figure, GREY, PAPER_BLUE, PAPER_GREEN, PAPER_RED, title, legend


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
    legend(ax[1], fontsize=7)
    return title(fig, f"Fig 4 - minimal-model ICL loss landscape (z_MLP = 0, N = {N})")


def fig_balanced_landscape(w, beta, L_exact, L_eq9, N):
    """Balanced contexts (exactly N/2 labels of each sign): eq 5 with eta = 0 (left) and its expansion
    eq 9 (right), both with streamlines of -grad L; the origin is a saddle."""
    fig, ax = figure(2, 1, width=4.6, height=3.6)
    vmin, vmax = min(L_exact.min(), L_eq9.min()), max(L_exact.max(), L_eq9.max())
    for a, L, name in ((ax[0], L_exact, r"exact balanced ($\eta=0$ in eq 5)"), (ax[1], L_eq9, "eq 9 expansion")):
        _landscape_panel(a, w, beta, L, cmap="cividis", label=r"$\mathcal{L}'$", norm=Normalize(vmin, vmax))
        a.plot(0, 0, "X", color=PAPER_RED, ms=8, label="saddle at origin")
        a.contour(w, beta, L, levels=[np.log(2)], colors=PAPER_RED, linewidths=1.0)
        a.set_title(name, fontsize=10)
    legend(ax[0], fontsize=8)
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
        legend(a, fontsize=8)
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
    legend(ax, fontsize=8)
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
    legend(ax[0], fontsize=8)
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
    legend(ax[0], fontsize=7)
    legend(ax[1], fontsize=7)
    return title(fig, f"Eqs 7-8 vs gradient descent on the exact loss (N = {N}, lr = {lr:g}, z_MLP = 0)")


def fig_t_icl_vs_N(Ns, t_ode, t_gd, t_eq11, slope_ode, slope_gd):
    """Linear scaling of t_ICL with N (eq 11; cf. Fig 6b): ODE, GD on the exact loss and eq 11 (beta0 = 0)."""
    fig, ax = figure(1, 1, width=5.0, height=3.8)
    ax.loglog(Ns, t_eq11, "-", color=PAPER_BLUE, label=r"eq 11: $N\sqrt{2\pi}$")
    ax.loglog(Ns, t_ode, "ko", ms=5, label=f"ODE eqs 7-8 (log-log slope {slope_ode:.3f})")
    ax.loglog(Ns, t_gd, "s", mfc="none", color=PAPER_RED, ms=7, label=f"GD exact loss (slope {slope_gd:.3f})")
    ax.set_xlabel("context length N")
    ax.set_ylabel(r"$t_{\rm ICL}$ (lr $\times$ iterations)")
    legend(ax, fontsize=8)
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
        legend(a, fontsize=7)
    ax[1].set_title(r"o: $\tau_K$ from eq 10; dotted: ODE $t_{\rm ICL}$", fontsize=9)
    return title(fig, "Eqs 10 & 12 - ICL is acquired iff I_K(inf) exceeds N sqrt(2 pi) e^-beta0")
