"""The book's statistics, in one place: the bootstrap (plain, within groups, by clusters), the percentile
interval, binomial intervals, and the first time a curve crosses a level.

Every interval in the analysis comes from :func:`interval` with a ``conf`` argument (0.95 by default); every
bootstrap draws its indices with :func:`resample`, so a given seed gives the same replicates wherever it is
used. Used by every chapter through :mod:`icl_kinetics.analysis` and :mod:`icl_kinetics.fits`.
"""
from __future__ import annotations

import numpy as np


# ----------------------------------------------------------------------------- intervals
def interval(values, conf: float = 0.95, method: str = "linear") -> tuple:
    """Central percentile interval ``(low, high)`` holding `conf` of `values` (NaNs ignored).

    ``method`` is numpy's quantile method: "linear" (the default, ``np.percentile``) or "inverted_cdf" (order
    statistics, for samples holding +inf, e.g. censored times). An empty sample gives ``(nan, nan)``.
    """
    v = np.asarray(values, float).ravel()
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return (np.nan, np.nan)
    q = (1.0 - conf) / 2
    if method == "linear":
        p = round(100.0 * q, 10)  # conf = 0.95 -> percentiles 2.5 and 97.5 exactly
        lo, hi = np.percentile(v, [p, 100.0 - p])
    else:
        lo, hi = np.quantile(v, [q, 1.0 - q], method=method)
    return (float(lo), float(hi))


def wilson_interval(k, n, conf: float = 0.95):
    """Wilson score interval for a binomial proportion k/n (arrays allowed). ValueError unless every n is a whole
    number >= 1 and every k a whole number in [0, n] (no NaN or interval outside [0, 1] from a count that
    cannot be one)."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    _check_counts(k, n)
    from scipy import stats as scipy_stats  # here, not at the top: the trainer imports this module (0.9 s)

    z = scipy_stats.norm.ppf(0.5 + conf / 2)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def proportion_ci(k, n, conf: float = 0.95) -> tuple:
    """(k/n, low, high) with the Wilson score interval; NaNs when n = 0 (no trials, no proportion). ValueError
    for a count that is not a whole number (2.5 is not truncated) or k outside [0, n]."""
    k_arr, n_arr = np.asarray(k, float), np.asarray(n, float)
    if k_arr.ndim or n_arr.ndim:
        raise ValueError(f"proportion_ci({k!r}, {n!r}): k and n must be single counts (wilson_interval takes arrays)")
    if n_arr == 0 and k_arr == 0:
        return np.nan, np.nan, np.nan
    _check_counts(k_arr, n_arr)
    k, n = int(k_arr), int(n_arr)
    lo, hi = wilson_interval(k, n, conf)
    return k / n, float(lo), float(hi)


def _check_counts(k: np.ndarray, n: np.ndarray) -> None:
    """ValueError unless n holds whole numbers >= 1 and k whole numbers in [0, n] (broadcast)."""
    def whole(x):
        return bool(np.all(np.isfinite(x)) and np.all(x == np.round(x)))

    def show(x):
        return f"{x.item():g}" if x.ndim == 0 else str(x.tolist())
    if not whole(n) or np.any(n < 1):
        raise ValueError(f"binomial proportion k/n with n = {show(n)}: n must be a whole number >= 1 (the trials)")
    if not whole(k) or np.any(k < 0) or np.any(k > n):
        raise ValueError(f"binomial proportion k/n with k = {show(k)}, n = {show(n)}: k must be a whole number "
                         "in [0, n] (the successes)")


# ----------------------------------------------------------------------------- bootstrap
def resample(rng: np.random.Generator, n: int | None = None, groups=None, clusters=None) -> np.ndarray:
    """Indices of one bootstrap sample.

    * ``n``: draw n of range(n) with replacement;
    * ``groups`` (list of index arrays): draw within each group, as many as it holds (a stratified bootstrap,
      e.g. seeds within each K), concatenated in group order;
    * ``clusters`` (list of index arrays): draw whole clusters with replacement (e.g. every evaluation of a
      member), concatenated.
    """
    if groups is not None:
        return np.concatenate([np.asarray(g)[rng.integers(0, len(g), len(g))] for g in groups])
    if clusters is not None:
        return np.concatenate([clusters[i] for i in rng.integers(0, len(clusters), len(clusters))])
    return rng.integers(0, n, n)


def replicates(fn, n: int | None = None, n_boot: int = 1000, seed: int = 0, groups=None, clusters=None,
               rng: np.random.Generator | None = None, skip=(RuntimeError, ValueError)) -> list:
    """``fn(idx)`` for `n_boot` bootstrap index samples (:func:`resample`). A replicate whose ``fn`` raises one of
    `skip` or returns None is left out. Returns the list of kept values (pass ``rng`` to continue a stream)."""
    rng = np.random.default_rng(seed) if rng is None else rng
    out = []
    for _ in range(n_boot):
        idx = resample(rng, n, groups, clusters)
        try:
            v = fn(idx)
        except skip:
            continue
        if v is not None:
            out.append(v)
    return out


def ols_slopes(x, Y) -> np.ndarray:
    """(B,) least-squares slope of each row of `Y` (B, n) against the shared `x` (n,) (``np.polyfit(x, y, 1)[0]``
    for every row at once)."""
    x = np.asarray(x, float)
    Y = np.atleast_2d(np.asarray(Y, float))
    xc = x - x.mean()
    return (Y - Y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def bootstrap(fn, samples, n_boot: int = 1000, seed: int = 0, conf: float = 0.95, groups=None):
    """Percentile bootstrap of a statistic fn(samples) -> float; samples resampled along axis 0 (within
    `groups` if given). Non-finite replicates are skipped.

    Returns (estimate, (low, high)).
    """
    samples = np.asarray(samples)
    vals = [v for v in replicates(lambda i: fn(samples[i]), len(samples), n_boot, seed, groups=groups)
            if np.isfinite(v)]
    return float(fn(samples)), interval(vals, conf)


# ----------------------------------------------------------------------------- first crossings
def last_finite(curve: np.ndarray) -> np.ndarray:
    """Per row of curve (E, T): the last non-NaN value (NaN for a row with none)."""
    ok = ~np.isnan(curve)  # (E, T)
    idx = curve.shape[1] - 1 - ok[:, ::-1].argmax(1)  # (E,) the last True of each row
    return np.where(ok.any(1), curve[np.arange(curve.shape[0]), idx], np.nan)


def first_index(mask) -> np.ndarray:
    """Per row of a boolean (E, T) array, the first True column; -1 when the row has none."""
    mask = np.asarray(mask, bool)
    return np.where(mask.any(1), mask.argmax(1), -1)


def first_crossing(x, curves, level: float, strict: bool = False, interpolate: bool = False) -> np.ndarray:
    """(E,) first ``x`` at which each row of `curves` (E, T) reaches `level`; NaN where it never does.

    ``strict``: "reaches" means ``> level`` (else ``>= level``). ``interpolate``: the crossing is linearly
    interpolated between the two samples around it (else the first sample at or past it). NaN samples never
    count as reaching the level. This is the one crossing helper: t_ICL (ICL accuracy > 0.95), acquisition
    times, beta reaching log N, tau_K (I_K reaching t_ICL) all use it.
    """
    x = np.asarray(x, float)
    curves = np.atleast_2d(np.asarray(curves, float))
    c = np.nan_to_num(curves, nan=-np.inf)
    idx = first_index(c > level if strict else c >= level)
    out = np.where(idx >= 0, x[np.clip(idx, 0, None)], np.nan)
    if interpolate:
        for e in np.flatnonzero(idx > 0):
            j = idx[e]
            y0, y1 = curves[e, j - 1], curves[e, j]
            out[e] = x[j - 1] + (level - y0) / (y1 - y0) * (x[j] - x[j - 1])
    return out


# ----------------------------------------------------------------------------- shape of a distribution
def bimodality_coefficient(x) -> float:
    """Sarle's bimodality coefficient (g^2 + 1) / (kappa + 3 (n-1)^2 / ((n-2)(n-3))); > 5/9 suggests bimodality."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 4:
        return np.nan
    from scipy import stats as scipy_stats

    g = scipy_stats.skew(x, bias=False)
    kappa = scipy_stats.kurtosis(x, bias=False)
    return float((g**2 + 1) / (kappa + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))
