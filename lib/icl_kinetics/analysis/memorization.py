"""Chapter 5, the memorisation scaling law (section 3.6, Fig 5, A.2, A.3): I_K(inf) from MLP-only runs, its
power law in K, and the K* it predicts through eq 12 (t_ICL(N) = I_K*(inf)); chapter 9 inverts I_K(t) (eq 12).
Time is gradient-flow time t = lr x iterations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import fits
from .. import stats as st
from ..theory import i_k
from ..theory import k_star_prediction, t_icl_eq11
from ..train import RunConfig
from .runs import members


@dataclass
class IKInfinity:
    """Estimate of I_K(inf) = 2 int_0^inf c1 dt from a c1(t) sampled on [0, T].

    ``value = observed + tail``: ``observed`` is I_K(T) (trapezoid over the run), ``tail`` the extrapolated
    2 int_T^inf c1 under a power law c1 ~ a t^-p fitted to the end of the run (``inf`` if p <= 1: the fitted
    tail does not integrate). ``tail_frac = tail / value``; ``last10_frac`` the fraction of I_K(T) added over the
    last 10% of the run time (a model-free check). ``converged``: p > 1 and tail_frac <= tol and last10_frac
    <= last10_tol; ``reason`` says which test failed.
    """
    value: float
    observed: float
    tail: float
    tail_frac: float
    tail_exponent: float
    last10_frac: float
    c1_end: float
    t_end: float
    converged: bool
    reason: str


def ik_infinity(t, c1, tol: float = 0.05, last10_tol: float = 0.05, fit_from: float = 0.5,
                min_points: int = 4) -> IKInfinity:
    """I_K(inf) from a sampled c1(t) (t in lr x iterations, t[0] = 0), with a convergence verdict.

    The tail beyond the last sample T is extrapolated with a power law c1 = a t^-p, fitted by least squares
    to log c1 against log t over t in [fit_from * T, T] (a heavy tail: an exponential decay shows up as a large
    p and a negligible tail, a plateau or 1/t decay as p <= 1, i.e. a divergent integral). Then
    tail = 2 a T^(1-p) / (p - 1). The estimate counts as converged when the tail is finite and at most ``tol``
    of the total, and the run's last 10% of time added at most ``last10_tol`` of I_K(T). NaN samples (stopped
    members) are dropped. Needs at least ``min_points`` positive samples in the fit window, else not converged.
    """
    t, c1 = np.asarray(t, float), np.asarray(c1, float)
    ok = np.isfinite(t) & np.isfinite(c1)
    t, c1 = t[ok], c1[ok]
    if len(t) < 2:
        return IKInfinity(np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, False, "too few samples")
    ik = i_k(t, c1)
    T, observed = float(t[-1]), float(ik[-1])
    before = float(np.interp(t[0] + 0.9 * (T - t[0]), t, ik))
    last10 = (observed - before) / observed if observed > 0 else np.nan
    win = (t >= fit_from * T) & (t > 0) & (c1 > 0)
    p, tail = np.nan, np.inf
    c1_end = float(c1[-1])
    if win.sum() >= min_points:
        slope, icpt = np.polyfit(np.log(t[win]), np.log(c1[win]), 1)
        p = -float(slope)
        c1_end = float(np.exp(icpt + slope * np.log(T)))  # fitted c1(T): robust to SGD noise in the last sample
        if p > 1:
            tail = 2.0 * c1_end * T / (p - 1.0)
    value = observed + tail
    tail_frac = tail / value if np.isfinite(value) and value > 0 else 1.0
    reasons = []
    if not np.isfinite(p):
        reasons.append(f"fewer than {min_points} positive samples to fit the tail")
    elif p <= 1:
        reasons.append(f"c1 decays as t^-{p:.2f} at the end of the run (p <= 1: the integral diverges)")
    elif tail_frac > tol:
        reasons.append(f"extrapolated tail is {100 * tail_frac:.0f}% of the total (> {100 * tol:.0f}%)")
    if not (np.isfinite(last10) and last10 <= last10_tol):
        reasons.append(f"the last 10% of the run added {100 * last10:.1f}% of I_K (> {100 * last10_tol:.0f}%)")
    converged = not reasons
    return IKInfinity(value=float(value) if np.isfinite(value) else np.inf, observed=observed,
                      tail=float(tail), tail_frac=float(tail_frac), tail_exponent=p, last10_frac=float(last10),
                      c1_end=c1_end, t_end=T, converged=bool(converged),
                      reason="converged" if converged else "; ".join(reasons))


def memorization_table(run: dict, cfg: RunConfig, **kw) -> dict:
    """Per-member I_K(inf) estimates of an MLP-only run (``memorization`` experiment).

    Returns dict of (E,) arrays: K, seed, value, observed, tail, tail_frac, tail_exponent, last10_frac,
    c1_end, final_train_acc, converged (bool), and ``reason`` (list of str). ``kw`` go to :func:`ik_infinity`.
    Time t = lr x steps.
    """
    m = members(cfg)
    t = cfg.lr * np.asarray(run["steps"], float)
    ests = [ik_infinity(t, c, **kw) for c in run["c1"]]
    out = {"K": m["K"], "seed": m["seed"]}
    for f in ("value", "observed", "tail", "tail_frac", "tail_exponent", "last10_frac", "c1_end"):
        out[f] = np.array([getattr(e, f) for e in ests], float)
    out["converged"] = np.array([e.converged for e in ests], bool)
    out["reason"] = [e.reason for e in ests]
    acc = run.get("train_acc")
    out["final_train_acc"] = (np.array([r[np.isfinite(r)][-1] if np.isfinite(r).any() else np.nan for r in acc])
                              if acc is not None else np.full(len(ests), np.nan))
    return out


@dataclass
class ScalingFit:
    """I_K(inf) = A K^nu fitted on members whose estimate converged (all seeds of a K must converge).

    ``nu_ci``/``A_ci``: 95% percentile bootstrap that resamples seeds within each K; ``nu_ci_ols``: t interval
    of the least-squares slope on all included members (captures departures from a straight line that the
    seed bootstrap does not). ``boot``: (n_boot_ok, 2) bootstrap (nu, log10 A) pairs, for propagation.
    """
    nu: float
    A: float
    nu_ci: tuple
    A_ci: tuple
    nu_ci_ols: tuple
    r2: float
    Ks_used: np.ndarray
    Ks_excluded: dict  # K -> reason
    boot: np.ndarray
    ok: bool
    message: str = ""


def fit_memorization_scaling(table: dict, n_boot: int = 2000, seed: int = 0, K_range=None) -> ScalingFit:
    """Power-law fit log10 I_K(inf) = log10 A + nu log10 K over the K whose every seed converged.

    ``K_range``: optional (K_min, K_max) to fit a sub-range only (a sensitivity check for curvature); K outside
    it are listed as excluded. Degenerate data (fewer than 2 distinct usable K) give ``ok=False`` and NaNs
    instead of an exception.
    """
    K, val, conv = np.asarray(table["K"], float), np.asarray(table["value"], float), np.asarray(table["converged"])
    lo, hi = K_range if K_range is not None else (-np.inf, np.inf)
    excluded, used = {}, []
    for k in np.unique(K):
        g = K == k
        if not lo <= k <= hi:
            excluded[float(k)] = f"outside the fitted range [{lo:g}, {hi:g}]"
        elif not conv[g].all():
            bad = [r for r, c in zip(np.asarray(table["reason"], object)[g], conv[g]) if not c]
            excluded[float(k)] = f"{(~conv[g]).sum()}/{g.sum()} seeds not converged: {bad[0]}"
        elif not (np.isfinite(val[g]).all() and (val[g] > 0).all()):
            excluded[float(k)] = "non-finite or non-positive estimate"
        else:
            used.append(k)
    used = np.array(used, float)
    nan2 = (np.nan, np.nan)
    if len(used) < 2:
        return ScalingFit(np.nan, np.nan, nan2, nan2, nan2, np.nan, used, excluded, np.empty((0, 2)), False,
                          f"only {len(used)} K value(s) with converged I_K(inf): no power-law fit")
    sel = np.isin(K, used)
    x, y = np.log10(K[sel]), np.log10(val[sel])
    lf = fits.linear_fit(x, y)
    groups = [np.flatnonzero(K[sel] == k) for k in used]
    boot = np.asarray(st.replicates(lambda idx: tuple(np.polyfit(x[idx], y[idx], 1)), n_boot=n_boot, seed=seed,
                                    groups=groups))
    nu_ci = st.interval(boot[:, 0])
    A_ci = tuple(10 ** np.asarray(st.interval(boot[:, 1])))
    return ScalingFit(float(lf.slope), float(10 ** lf.intercept), nu_ci, A_ci, tuple(lf.slope_ci),
                      float(lf.r2), used, excluded, boot, True)


def kstar_from_scaling(N, A: float, nu: float, beta0: float = 0.0):
    """K* solving I_K*(inf) = t_ICL(N) (eq 12) with I_K(inf) = A K^nu and t_ICL = N sqrt(2 pi) e^-beta0 (eq 11):
    K* = (t_ICL / A)^(1/nu), i.e. eq 13 with the prefactor (sqrt(2 pi)/A)^(1/nu) fixed by the fit."""
    return k_star_prediction(N, beta0, nu=nu, prefactor=(np.sqrt(2 * np.pi) / A) ** (1.0 / nu))


def kstar_table(fit: ScalingFit, Ns, beta0: float = 0.0) -> list:
    """Predicted K* per N with a 95% interval propagated from the seed bootstrap of (nu, A); each row says
    whether K* lies inside the K range the fit used (else it is an extrapolation of the power law)."""
    rows = []
    for N in Ns:
        t_icl = float(t_icl_eq11(N, beta0))
        if not fit.ok:
            rows.append(dict(N=int(N), t_icl=t_icl, k_star=np.nan, ci=[np.nan, np.nan], within_fitted_range=False))
            continue
        ks = float(kstar_from_scaling(N, fit.A, fit.nu, beta0))
        kb = kstar_from_scaling(N, 10 ** fit.boot[:, 1], fit.boot[:, 0], beta0)
        kb = kb[np.isfinite(kb)]
        ci = list(st.interval(kb))
        rows.append(dict(N=int(N), t_icl=t_icl, k_star=ks, ci=ci,
                         within_fitted_range=bool(fit.Ks_used.min() <= ks <= fit.Ks_used.max())))
    return rows


def invert_ik(t, ik, targets) -> np.ndarray:
    """tau_K for each target: the first time at which the increasing curve I_K(t) (sampled at t) reaches the
    target, linearly interpolated; +inf where it never does within the sampled range (eq 12: ICL is never
    acquired). With I_K(t) = t (K = infinity) this is the identity. Times in the units of `t`."""
    t, ik = np.asarray(t, float), np.asarray(ik, float)
    ok = np.isfinite(t) & np.isfinite(ik)
    t, ik = t[ok], np.maximum.accumulate(ik[ok])
    out = np.full(np.shape(targets), np.inf)
    for i, y in np.ndenumerate(np.asarray(targets, float)):
        if not np.isfinite(y) or len(ik) == 0 or y > ik[-1]:
            continue
        j = int(np.argmax(ik >= y))
        out[i] = t[0] if j == 0 else float(np.interp(y, ik[j - 1:j + 1], t[j - 1:j + 1]))
    return out


def half_range_fits(tab: dict, fit: ScalingFit, n_boot: int = 2000, seed: int = 1) -> dict:
    """The memorisation power law refitted on the lower and on the upper half of the K values `fit` used
    ({"low": ScalingFit, "high": ScalingFit}); their disagreement measures the curvature of log I_K(inf)."""
    half = (len(fit.Ks_used) + 1) // 2
    out = {}
    for part, ks in (("low", fit.Ks_used[:half]), ("high", fit.Ks_used[-half:])):
        out[part] = (fit_memorization_scaling(tab, n_boot=n_boot, seed=seed, K_range=(ks.min(), ks.max()))
                     if half >= 3 else ScalingFit(np.nan, np.nan, (np.nan,) * 2, (np.nan,) * 2, (np.nan,) * 2,
                                                  np.nan, np.array([]), {}, np.empty((0, 2)), False, "too few K"))
    return out
