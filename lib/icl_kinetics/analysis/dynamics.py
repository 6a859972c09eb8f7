"""Chapter 2, the minimal model against eqs 7-8: the learned beta's crossing of log N and the ODE integrated with
each member's measured c1(t), c2(t), compared run by run. Time in the ODE is gradient-flow time t = lr x
iterations; the comparison reports iterations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import Choice
from .. import stats as st
from ..theory import integrate_icl_ode, simulate_gd_exact, t_icl_eq11, t_icl_ode, tau_k
from ..config import RunConfig
from .runs import acquired, members, n_context
from .section import Section, glued, kept, plotted


def crossing_time(steps, curves, level: float) -> np.ndarray:
    """(E,) first time each row of `curves` (E, T) reaches `level`, linearly interpolated between the two
    evaluations around the crossing; NaN if never (:func:`icl_kinetics.stats.first_crossing`)."""
    return st.first_crossing(steps, curves, level, interpolate=True)


def member_icl_ode(run: dict, cfg: RunConfig, e: int, beta_threshold: float | None = None):
    """Eqs 7-8 for member `e` of a minimal-model run, integrated with the c1(t), c2(t) measured on its own MLP
    (probes ``c1``, ``c2``; linear interpolation between evaluations), from w0 = 0, beta0 = cfg.beta0, with
    N = :func:`n_context`. Returns (theory.ODEResult, steps): ``steps = ode.t / lr`` converts the ODE's
    gradient-flow time back to iterations."""
    t = cfg.lr * np.asarray(run["steps"], float)
    c1, c2 = np.asarray(run["c1"][e], float), np.asarray(run["c2"][e], float)
    ok = np.isfinite(c1) & np.isfinite(c2)
    ode = integrate_icl_ode(n_context(cfg), beta0=cfg.beta0, w0=0.0, c1=(t[ok], c1[ok]), c2=(t[ok], c2[ok]),
                            t_max=float(t[ok][-1]), beta_threshold=beta_threshold)
    return ode, ode.t / cfg.lr


@dataclass(frozen=True)
class OdeComparison(Section):
    Nctx: int = glued()
    ode_agree: int = glued()
    ode_both_acq: int = glued()
    ode_both_not: int = glued()
    ode_only_run: int = glued()
    ode_only_ode: int = glued()
    n_acq95: int = glued()
    n_beta_cross: int = glued()
    ode_ratio: float = glued()
    ode_ratio_lo: float = glued()
    ode_ratio_hi: float = glued()
    eq10_ratio: float = glued()
    n_ratio: int = glued()
    gd_ratio: float = glued()
    members: list = plotted()
    beta_threshold: float = plotted()
    max_steps: float = plotted()
    ratio: float = kept()
    ci: tuple = kept()
    choices: dict = kept()  # {analysis choice: rule_ode_ratio statistics}


def ode_comparison(run: dict, cfg: RunConfig, n_overlay: int = 6) -> OdeComparison:
    """Eqs 7-8 integrated with each member's measured c1(t), c2(t) (:func:`member_icl_ode`) against the learned
    beta: whether both reach beta = log N within the run, the ratio of the times (median, bootstrap interval), the
    ratio to eq 10's tau_K, and the lag of plain GD on the exact loss (no MLP) behind eqs 7-8 at the same N and lr.
    ``figure``: up to `n_overlay` runs that acquired ICL, one per K from the largest."""
    K = members(cfg)["K"]
    Nctx = n_context(cfg)
    beta_thr = float(np.log(Nctx))
    steps = run["steps"].astype(float)
    t_grid = cfg.lr * steps
    acq = acquired(run, 0.95)
    t_learn = crossing_time(steps, run["beta"], beta_thr)
    odes, t_ode, t_eq10 = [], np.full(cfg.E, np.nan), np.full(cfg.E, np.nan)
    for e in range(cfg.E):
        ode, ode_steps = member_icl_ode(run, cfg, e)
        odes.append((ode, ode_steps))
        if np.isfinite(ode.t_icl):
            t_ode[e] = ode.t_icl / cfg.lr
        ok = np.isfinite(run["c1"][e])
        tau = tau_k(t_grid[ok], run["c1"][e][ok], Nctx, cfg.beta0)
        t_eq10[e] = tau / cfg.lr if np.isfinite(tau) else np.nan
    pred = np.isfinite(t_ode)                  # the ODE reaches beta = log N within the run
    learned = np.isfinite(t_learn)             # the learned beta reaches log N within the run
    both = acq & pred & learned
    ratio = t_learn[both] / t_ode[both]
    ratio10 = t_learn[both & np.isfinite(t_eq10)] / t_eq10[both & np.isfinite(t_eq10)]
    if both.sum() >= 2:
        r_med, r_ci = st.bootstrap(np.median, ratio, n_boot=1000)
    else:
        r_med, r_ci = (float(ratio[0]) if both.any() else np.nan), (np.nan, np.nan)
    # the same comparison at half the threshold, beta = log(N) / 2, read off the same trajectories
    half = np.array([crossing_time(o_steps, o.beta[None], beta_thr / 2)[0] for o, o_steps in odes])
    r_half = (crossing_time(steps, run["beta"], beta_thr / 2) / half)[both]
    choices = {"median ratio, times to beta = log N (the chapter's)": Choice(
                   dict(ratio=r_med, ci=r_ci), "per run, the run's time over its own ODE's; bootstrap over runs"),
               "mean ratio": Choice(_boot(np.mean, ratio), "every run counts by its value"),
               "times to beta = log(N) / 2": Choice(_boot(np.median, r_half),
                                                    "the comparison halfway, before the nonlinear end of the rise")}
    gd_ref = simulate_gd_exact(Nctx, beta0=cfg.beta0, lr=cfg.lr, n_steps=int(4 * t_icl_eq11(Nctx, 0.0) / cfg.lr),
                               steps_after_icl=1)
    numbers = dict(Nctx=Nctx, ode_agree=int((pred == learned).sum()), ode_both_acq=int((learned & pred).sum()),
                   ode_both_not=int((~learned & ~pred).sum()), ode_only_run=int((learned & ~pred).sum()),
                   ode_only_ode=int((~learned & pred).sum()), n_acq95=int(acq.sum()),
                   n_beta_cross=int(learned.sum()), ode_ratio=r_med, ode_ratio_lo=r_ci[0], ode_ratio_hi=r_ci[1],
                   eq10_ratio=float(np.median(ratio10)) if len(ratio10) else np.nan, n_ratio=int(both.sum()),
                   gd_ratio=float(gd_ref.t_icl[0] / t_icl_ode(Nctx, cfg.beta0)))
    cand = np.flatnonzero(both)
    order = cand[np.argsort(-K[cand], kind="stable")]
    pick, seen = [], set()
    for e in order:
        if K[e] not in seen:
            pick.append(e)
            seen.add(K[e])
        if len(pick) == n_overlay:
            break
    overlay = [dict(steps=steps, w=run["w"][e], beta=run["beta"][e], ode_steps=odes[e][1], ode_w=odes[e][0].w,
                    ode_beta=odes[e][0].beta, label=f"K = {K[e]:.0f}, seed {cfg.seeds[e]}") for e in pick]
    xmax = min(float(steps[-1]), 2.5 * float(np.nanmax(t_learn[pick]))) if pick else float(steps[-1])
    return OdeComparison.of(numbers, dict(members=overlay, beta_threshold=beta_thr, max_steps=xmax),
                   dict(ratio=r_med, ci=r_ci, choices=choices))


def _boot(fn, x) -> dict:
    """rule_ode_ratio statistics of fn over the run/ODE time ratios `x`: estimate and bootstrap interval."""
    x = np.asarray(x, float)[np.isfinite(x)]
    if len(x) < 2:
        return dict(ratio=float(fn(x)) if len(x) else np.nan, ci=(np.nan, np.nan))
    est, ci = st.bootstrap(fn, x, n_boot=1000)
    return dict(ratio=est, ci=ci)
