"""Intervals that are honest at a few seeds per point (issue 32): a t model of each K's mean accuracy for the
sigmoid K* and its exponent against N (at 4 seeds per K a percentile bootstrap of the seeds is too narrow), and
each seed's own log-log slope of t_ICL against N with a t interval over seeds. Used by the choice tables of
chapters 1, 7 and 8 and the ladder (chapter 13)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from .. import fits
from .. import stats as st
from ..config import n_context


@dataclass(frozen=True)
class KstarTModel:
    """K* per N and the exponent of K* against N with intervals from a parametric bootstrap that is honest at a
    few seeds per K (:func:`kstar_t_model`). ``ci`` (nN, 2); ``exponent_ci``; ``n_ok`` replicates used."""
    N: np.ndarray
    k_star: np.ndarray
    ci: np.ndarray
    exponent: float
    exponent_ci: tuple
    n_ok: int


def kstar_t_model(sweeps: dict, n_boot: int = 500, seed: int = 0) -> KstarTModel:
    """K*(N) from ``sweeps = {N: (K (E,), final ICL accuracy (E,))}`` (N as the power law's x, as
    :func:`kstar_vs_n_fit`) with a t model of each K's mean accuracy: a replicate draws every K's mean as
    m + (s / sqrt(n)) T with T ~ t(n - 1) (n seeds at that K, s their standard deviation), refits the sigmoid to
    the means (the least squares of the fit to every run when each K has as many seeds) and the log-log line.
    With 4 seeds per K, a percentile bootstrap of the seeds sees 3/4 of the variance and only 35 distinct means
    per K; the t model gives each mean the spread 4 seeds can tell."""
    rng = np.random.default_rng(seed)
    Ns = np.array(sorted(sweeps), float)
    grids = []
    for n in sorted(sweeps):
        K, a = (np.asarray(v, float) for v in sweeps[n])
        Ks = np.unique(K)
        acc = [a[K == k] for k in Ks]
        x = np.log10(Ks)
        grids.append((x, (x.min() - 0.5, x.max() + 0.5), np.array([v.mean() for v in acc]),
                      np.array([v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else 0.0 for v in acc]),
                      np.array([max(len(v) - 1, 1) for v in acc])))
    params = [fits.sigmoid_params(x, m, bb) for x, bb, m, _, _ in grids]
    ks = np.array([10 ** p[1] for p in params])
    # every replicate's draws in the order of one replicate at a time (N within replicate), then each N refitted
    # at once from its fit to the means
    draws = [[np.clip(m + se * rng.standard_t(df), 0.0, 1.0) for _, _, m, se, df in grids] for _ in range(n_boot)]
    boot = np.full((n_boot, len(grids)), np.nan)  # (n_boot, nN)
    for i, ((x, bb, _, _, _), p) in enumerate(zip(grids, params)):
        if n_boot and np.all(np.isfinite(p)):
            boot[:, i] = 10 ** fits.sigmoid_params_batch(x, np.array([d[i] for d in draws]), bb, p)[:, 1]
    ci = np.array([st.interval(boot[:, i]) for i in range(len(Ns))])
    used = np.isfinite(ks)
    if used.sum() < 2:
        return KstarTModel(Ns, ks, ci, np.nan, (np.nan, np.nan), 0)
    x = np.log10(Ns[used])
    ok = np.all(np.isfinite(boot[:, used]), axis=1)
    slopes = st.ols_slopes(x, np.log10(boot[ok][:, used]))
    return KstarTModel(Ns, ks, ci, float(np.polyfit(x, np.log10(ks[used]), 1)[0]), st.interval(slopes),
                       int(ok.sum()))


def per_seed_slopes(times: dict) -> np.ndarray:
    """Each seed's own log-log slope of t_ICL against the number of context items N - 1 (``times`` paired: run i
    at every N shares seed i); NaN for a seed censored at some N."""
    ns = sorted(times)
    x = np.log10([n_context(n) for n in ns])
    t = np.array([np.asarray(times[n], float) for n in ns])  # (N values, seeds)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log10(t)
    with np.errstate(invalid="ignore"):
        slopes = st.ols_slopes(x, y.T)
    return np.where(np.all(np.isfinite(y), axis=0), slopes, np.nan)


def mean_slope_t(slopes) -> tuple:
    """(mean, 95% t interval) of per-seed slopes: the seed is the unit, n - 1 degrees of freedom."""
    s = np.asarray(slopes, float)
    s = s[np.isfinite(s)]
    if len(s) < 3:
        return float("nan"), (float("nan"),) * 2
    half = float(scipy_stats.t.ppf(0.975, len(s) - 1) * s.std(ddof=1) / np.sqrt(len(s)))
    return float(s.mean()), (float(s.mean() - half), float(s.mean() + half))


def geometric_mean_t(ratios) -> tuple:
    """(geometric mean, 95% t interval) of positive ratios, one per seed: a t interval on their logarithms
    (n - 1 degrees of freedom), mapped back."""
    lr = np.log(np.asarray(ratios, float))
    n = len(lr)
    m, half = lr.mean(), scipy_stats.t.ppf(0.975, n - 1) * lr.std(ddof=1) / np.sqrt(n)
    return float(np.exp(m)), (float(np.exp(m - half)), float(np.exp(m + half)))


def trend_with_k(K, values) -> str:
    """Whether per-member values (a clock ratio) move with K, in words: the sign of Spearman's correlation when
    its two-sided p < 0.05, else 'no trend with K at p < 0.05'."""
    rho, p = scipy_stats.spearmanr(K, values)
    if not np.isfinite(p) or p >= 0.05:
        return "no trend with K at p < 0.05"
    return (f"{'falling' if rho < 0 else 'rising'} with K (Spearman {rho:.2f}, "
            f"{'p < 0.001' if p < 0.001 else f'p = {p:.2g}'})")
