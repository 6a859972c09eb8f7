"""Curve fits used by the analysis: the authors' sigmoid threshold (K*, chapters 1, 2, 7, 12), least-squares lines
and power laws (chapters 5, 7, 8, 11). Intervals and the bootstrap live in :mod:`icl_kinetics.stats`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from . import stats as _st


# ----------------------------------------------------------------------------- sigmoid threshold K*
def sigmoid(log10k, a, b, c, d):
    """The authors' threshold curve: d / (1 + exp(-a (log10 K - b))) + c; K* = 10^b."""
    return d / (1.0 + np.exp(-a * (log10k - b))) + c


@dataclass
class Threshold:
    k_star: float
    ci: tuple  # (low, high), 95% bootstrap over seeds
    params: np.ndarray  # a, b, c, d
    n_boot_ok: int


def _fit_sigmoid(log10k, acc, b_bounds, p0=None):
    """(a, b, c, d) of the sigmoid within the bounds of :func:`fit_threshold`, from `p0` (clipped into them) or
    the default start, with the sigmoid's analytic Jacobian (the same fit as finite differences to about 1e-9, a
    third faster: the bootstraps run thousands of these). Raises when the fit fails."""
    lo = [-1.0, b_bounds[0], 0.0, 0.0]
    hi = [100.0, b_bounds[1], 1.0, 1.0]
    start = np.clip(p0, lo, hi) if p0 is not None else [5.0, float(np.clip(np.median(log10k), *b_bounds)), 0.5, 0.5]
    p, _ = optimize.curve_fit(sigmoid, log10k, acc, p0=start, bounds=(lo, hi), maxfev=20000, jac=_sigmoid_jacobian)
    return p


N_BOOT_KSTAR = 1000  # replicates of every K* interval, with seed 0: one K* reads the same on every page


def fit_threshold(K, acc, n_boot: int = N_BOOT_KSTAR, seed: int = 0, b_bounds=None) -> Threshold:
    """Fit the sigmoid to final ICL accuracy against log10 K (one point per run) and return K* = 10^b.

    The authors bound a in [-1, 100], b in [2, 5], c in [0, 1]. We keep their a and c bounds, bound d in
    [0, 1], and by default bound b to the sampled K range +- 0.5 decades (their [2, 5] at paper scale).
    The interval is a percentile bootstrap that resamples runs within each K (every replicate refitted at once
    by :func:`sigmoid_params_batch`, started from the fit to all runs).
    """
    K = np.asarray(K, float)
    acc = np.asarray(acc, float)
    ok = np.isfinite(K) & np.isfinite(acc)
    K, acc = K[ok], acc[ok]
    x = np.log10(K)
    if b_bounds is None:
        b_bounds = (x.min() - 0.5, x.max() + 0.5)
    p = _fit_sigmoid(x, acc, b_bounds)
    groups = [np.flatnonzero(K == k) for k in np.unique(K)]
    rng = np.random.default_rng(seed)
    idx = np.array([_st.resample(rng, groups=groups) for _ in range(n_boot)], int).reshape(n_boot, len(x))
    boots = sigmoid_params_batch(x[idx[0]], acc[idx], b_bounds, p)[:, 1] if n_boot else np.empty(0)
    boots = boots[np.isfinite(boots)]  # within each K: every replicate has the K of idx[0]
    ci = tuple(10 ** np.asarray(_st.interval(boots))) if len(boots) else (np.nan, np.nan)
    return Threshold(k_star=float(10 ** p[1]), ci=ci, params=p, n_boot_ok=len(boots))


def _sigmoid_jacobian(log10k, a, b, c, d):
    """d sigmoid / d (a, b, c, d), shape (..., 4): (len(log10k), 4) for scalar parameters, (rows, n, 4) for
    parameters of shape (rows, 1) against log10k of shape (1, n)."""
    e = np.exp(-a * (log10k - b))
    ds = e / (1.0 + e) ** 2
    return np.stack([d * ds * (log10k - b), -d * ds * a, np.ones_like(ds), 1.0 / (1.0 + e)], axis=-1)


def sigmoid_params(log10k, acc, b_bounds: tuple, p0=None) -> np.ndarray:
    """The sigmoid's (a, b, c, d) fitted to `acc` against `log10k` within `b_bounds` (K* = 10^b; no interval),
    started from `p0` when given (a replicate near a known fit converges faster); NaNs when the fit fails."""
    try:
        return _fit_sigmoid(log10k, acc, b_bounds, p0)
    except (RuntimeError, ValueError):
        return np.full(4, np.nan)


def sigmoid_params_batch(log10k, acc, b_bounds: tuple, p0, iters: int = 1000) -> np.ndarray:
    """(B, 4) sigmoid parameters (a, b, c, d) fitted to each row of `acc` (B, n) against the shared `log10k` (n,)
    within the bounds of :func:`fit_threshold`, all rows at once (the bootstraps: resampling seeds within each K
    keeps every K in place, so only the accuracies differ between replicates). A projected Levenberg-Marquardt
    started from `p0` (the fit to the full data), a parameter on a bound held there while descent pushes outward.
    It stops a row when a full step no longer changes its fit, or when no step lowers its cost (a minimum on the
    bounds); a row still creeping along a flat valley after `iters` steps (a steepness that the data cannot pin
    down: the rise falls between two K) keeps where it has got to, whose K* moves by about 1e-3 decades along
    such a valley. Checked against curve_fit's trust-region fit replicate by replicate on the stored sweeps: never
    a higher cost (tests/test_fits_batch.py). A row with a non-finite result is refitted alone by
    :func:`sigmoid_params` (NaN where that fails too)."""
    x = np.asarray(log10k, float)[None, :]                                    # (1, n)
    Y = np.atleast_2d(np.asarray(acc, float))                                 # (B, n)
    lo, hi = np.array([-1.0, b_bounds[0], 0.0, 0.0]), np.array([100.0, b_bounds[1], 1.0, 1.0])
    P = np.tile(np.clip(np.asarray(p0, float), lo, hi), (len(Y), 1))           # (B, 4)

    def residuals(P, Y):
        return sigmoid(x, *(P[:, i:i + 1] for i in range(4))) - Y             # (rows, n)

    R = residuals(P, Y)
    cost, lam = (R ** 2).sum(1), np.full(len(Y), 1e-3)
    done = np.zeros(len(Y), bool)
    for _ in range(iters):
        act = np.flatnonzero(~done & (lam <= 1e12))  # rows still moving
        if not len(act):
            break
        p, r = P[act], R[act]
        J = _sigmoid_jacobian(x, *(p[:, i:i + 1] for i in range(4)))        # (rows, n, 4)
        g = np.einsum("bni,bn->bi", J, r)
        H = np.einsum("bni,bnj->bij", J, J)
        # a parameter on a bound that descent would push outward stays there: its row of the system is fixed
        held = ((p <= lo) & (g > 0)) | ((p >= hi) & (g < 0))                  # (rows, 4)
        g = np.where(held, 0.0, g)
        H = np.where(held[:, :, None] | held[:, None, :], 0.0, H) + held[:, :, None] * np.eye(4)
        damp = lam[act, None, None] * (np.eye(4) * (np.diagonal(H, axis1=1, axis2=2)[:, :, None] + 1e-12))
        try:
            step = np.linalg.solve(H + damp, g[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a flat direction (say d = 0): the least-norm step instead
            step = (np.linalg.pinv(H + damp) @ g[:, :, None])[:, :, 0]
        pn = np.clip(p - step, lo, hi)
        rn = residuals(pn, Y[act])
        cn = (rn ** 2).sum(1)
        better = cn <= cost[act]
        small = (np.abs(cost[act] - cn) <= 1e-12 * np.maximum(cost[act], 1e-300)) | (np.abs(pn - p).max(1) < 1e-10)
        up = act[better]
        P[up], R[up], cost[up] = pn[better], rn[better], cn[better]
        done[act[small & (lam[act] < 1e6)]] = True  # converged: a full step no longer changes the fit
        lam[act] = np.where(better, lam[act] / 3, lam[act] * 3)
    for i in np.flatnonzero(~np.all(np.isfinite(P), axis=1)):  # numerical failure: curve_fit decides
        P[i] = sigmoid_params(x[0], Y[i], b_bounds, p0)
    return P


# ----------------------------------------------------------------------------- lines and power laws
@dataclass
class LineFit:
    slope: float
    intercept: float
    slope_ci: tuple  # 95%
    intercept_ci: tuple
    r2: float

    def __call__(self, x):
        return self.slope * np.asarray(x) + self.intercept


def linear_fit(x, y, conf: float = 0.95) -> LineFit:
    """Ordinary least squares y = slope x + intercept with t-distribution confidence intervals."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    res = stats.linregress(x[ok], y[ok])
    n = ok.sum()
    tq = stats.t.ppf(0.5 + conf / 2, max(n - 2, 1))
    return LineFit(res.slope, res.intercept,
                   (res.slope - tq * res.stderr, res.slope + tq * res.stderr),
                   (res.intercept - tq * res.intercept_stderr, res.intercept + tq * res.intercept_stderr),
                   res.rvalue**2)


def power_law_fit(x, y, conf: float = 0.95) -> LineFit:
    """y ~ A x^slope: a straight line in log10-log10 (intercept = log10 A)."""
    return linear_fit(np.log10(x), np.log10(y), conf)
