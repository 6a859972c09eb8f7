"""Transience figures of chapters 2, 6 and 11 (Fig 2e, 3c, 6d, A.6): ICL accuracy and w against eq 15,
transience time against weight decay, and the loss relations of eq 16."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..theory import icl_loss_from_iwl_loss, iwl_loss_from_icl_loss
from .style import figure, GREY, PAPER_BLUE, PAPER_RED, title, legend


TRANSIENCE_STYLE = {  # Fig A.6 markers
    "never": dict(marker="+", color=PAPER_RED, s=60, label="never reaches 99% ICL accuracy"),
    "persistent": dict(marker="x", color="#e6b800", s=45, label="acquires ICL, no transience seen"),
    "transient": dict(marker="o", color=PAPER_BLUE, s=30, label="transient"),
}


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
        legend(a, fontsize=6)
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
    legend(ax, fontsize=7, ncol=2)
    return title(fig, fig_title)


def _eq16_axes(ax, xs, fit, xlabel, ylabel, relation_label):
    """Shared part of the eq-16 panels: y = -1/2 log x over the data's x range, an optional fitted line
    (analysis.loss_relation_fit result, slope in ln x), log x axis and labels in nats."""
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
        legend(ax, fontsize=6)
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
    legend(ax, fontsize=7)
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
        legend(a, fontsize=6)
    ax[0].set_title(r"$L_{\rm ICL} \ll 1$ branch", fontsize=10)
    ax[1].set_title(r"$L_{\rm IWL} \ll 1$ branch", fontsize=10)
    return title(fig, fig_title)


def fig_eq15_minimal(steps, c3, w, w_tr, w_ode, wd, labels, fig_title: str):
    """Eq 15 in the minimal model: c3 of every run against e lambda_w (top) and the learned w against W(c3/lambda_w)
    (dashed, from ICL acquisition on) and eq 44 with the measured c3 (dotted) (bottom)."""
    fig, ax = figure(2, 1, width=4.8, height=3.5)
    colors = plt.cm.plasma(np.linspace(0, 0.85, len(c3)))
    for e in range(len(c3)):
        ax[0].semilogy(steps, c3[e], color=colors[e], lw=1, label=labels[e])
        ax[1].plot(steps, w[e], color=colors[e], lw=1.3)
        ax[1].plot(steps, w_tr[e], "--", color=colors[e], lw=0.9)
        if w_ode[e] is not None:
            ax[1].plot(*w_ode[e], ":", color=colors[e], lw=1.4)
    for lam in np.unique(wd):
        ax[0].axhline(np.e * lam, color="k", lw=0.8, ls="-.")
        ax[0].annotate(rf"$e\lambda_w$ = {np.e * lam:.2g}", (steps[-1], np.e * lam), ha="right", va="bottom",
                       fontsize=7)
    ax[1].plot([], [], "k-", label="learned $w$")
    ax[1].plot([], [], "k--", label=r"$W(c_3/\lambda_w)$ (eq 15)")
    ax[1].plot([], [], "k:", label="eq 44 with measured $c_3$")
    ax[0].set_ylabel(r"$c_3 = \langle e^{-\phi^+}\rangle$ (training items)")
    ax[1].set_ylabel(r"$w$")
    for a in ax:
        a.set_xlabel("training iteration")
    legend(ax[0], fontsize=5)
    legend(ax[1], fontsize=7)
    return title(fig, fig_title)
