"""Chapters 9, 10 and 12: outcomes across seeds. Bimodal final accuracy near K* (Fig 6c), acquisition
probability against K and sub-optimal plateaus with balanced contexts (Fig 6e, A.8), and the long tail of
t_ICL (Fig A.4). Times are training iterations."""
from __future__ import annotations

import numpy as np
from scipy import stats as scipy_stats

from .. import stats as st
from .scaling import order_quantile, censored_median


def skewness_ci(x, n_boot: int = 2000, seed: int = 0, conf: float = 0.95):
    """Sample skewness (adjusted Fisher-Pearson, scipy ``skew(bias=False)``) of the finite values of `x` with a
    percentile bootstrap interval. Returns (skew, (low, high), n_finite); NaNs when n < 3 or all values equal."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) < 3 or np.ptp(x) == 0:
        return np.nan, (np.nan, np.nan), len(x)

    def sk(s):
        return float(scipy_stats.skew(s, bias=False)) if np.ptp(s) > 0 else np.nan

    est, ci = st.bootstrap(sk, x, n_boot=n_boot, seed=seed, conf=conf)
    return est, ci, len(x)


def lognormal_skewness(sd):
    """Skewness of a log-normal variable whose log has standard deviation `sd`: (e^s^2 + 2) sqrt(e^s^2 - 1)."""
    v = np.exp(np.asarray(sd, float) ** 2)
    return (v + 2) * np.sqrt(v - 1)


def log_normality(x, conf: float = 0.95) -> dict:
    """Is log x normal? For the finite, positive values of `x`: mean ``mu`` and sd ``sd`` of ln x, the chi-square
    interval of the sd (exact if ln x is normal), the Shapiro-Wilk p-value of ln x (n >= 3), the skewness of ln x,
    and ``skew_pred``: the skewness of x that a log-normal with this sd would have. NaNs with fewer than 3 values.

    If t_ICL ~ e^-beta0 (eq 11) and beta0 is normal, ln t_ICL is normal with sd(ln t_ICL) = sd(beta0).
    """
    x = np.asarray(x, float)
    y = np.log(x[np.isfinite(x) & (x > 0)])
    n = len(y)
    out = dict(n=n, mu=np.nan, sd=np.nan, sd_ci=(np.nan, np.nan), shapiro_p=np.nan, skew_log=np.nan,
               skew_pred=np.nan)
    if n < 3 or np.ptp(y) == 0:
        return out
    sd = float(np.std(y, ddof=1))
    a = (1 - conf) / 2
    lo, hi = (np.sqrt((n - 1) * sd**2 / scipy_stats.chi2.ppf([1 - a, a], n - 1)))
    out.update(mu=float(np.mean(y)), sd=sd, sd_ci=(float(lo), float(hi)),
               shapiro_p=float(scipy_stats.shapiro(y).pvalue), skew_log=float(scipy_stats.skew(y, bias=False)),
               skew_pred=float(lognormal_skewness(sd)))
    return out


BC_UNIFORM = 5.0 / 9.0  # Sarle's bimodality coefficient of a uniform distribution: > 5/9 suggests bimodality


def bimodality_stats(final_acc, mid=(0.6, 0.9), n_boot: int = 2000, seed: int = 0, conf: float = 0.95) -> dict:
    """Bimodality of final ICL accuracy across seeds (Fig 6c).

    ``bc``: Sarle's bimodality coefficient (> 5/9 suggests bimodality; a two-point distribution gives ~1) with a
    percentile bootstrap interval ``bc_ci`` over seeds (resamples in which every value is equal are skipped).
    ``frac_mid``: fraction of runs with an intermediate final accuracy in (mid[0], mid[1]), Wilson interval
    ``frac_mid_ci``; ``n_low`` / ``n_mid`` / ``n_high``: runs at or below mid[0], inside, at or above mid[1].
    NaN values are ignored. Fewer than 4 values (or all equal) give NaN for ``bc``.
    """
    x = np.asarray(final_acc, float)
    x = x[np.isfinite(x)]
    n = len(x)
    n_mid = int(((x > mid[0]) & (x < mid[1])).sum())
    p, lo, hi = st.proportion_ci(n_mid, n, conf)
    out = dict(n=n, n_low=int((x <= mid[0]).sum()), n_mid=n_mid, n_high=int((x >= mid[1]).sum()),
               frac_mid=p, frac_mid_ci=(lo, hi), bc=np.nan, bc_ci=(np.nan, np.nan))
    if n < 4 or np.ptp(x) == 0:
        return out

    def bc(s):
        return st.bimodality_coefficient(s) if np.ptp(s) > 0 else np.nan

    est, ci = st.bootstrap(bc, x, n_boot=n_boot, seed=seed, conf=conf)
    out.update(bc=est, bc_ci=ci)
    return out


def compare_acquisition_times(t_k, t_inf, n_boot: int = 2000, seed: int = 0) -> dict:
    """t_ICL of the runs that acquired ICL at finite K (``t_k``) against the K = infinity distribution (``t_inf``).

    NaN or inf mark runs that never acquired; they are left out of the finite-K sample (they are the "never"
    bar of Fig 6c) and counted as censored (+inf) in the K = infinity median. Returns medians with bootstrap
    intervals (:func:`censored_median`), the ratio of medians with a percentile bootstrap interval (resampling
    both samples; replicates with an infinite median skipped), the two-sided Mann-Whitney U and two-sample
    Kolmogorov-Smirnov p-values on the finite times, and ``frac_beyond_inf_q90``: the fraction of finite-K
    acquirers slower than the 90th percentile of the K = infinity times (late acquirers). NaNs when a sample
    has no finite time.
    """
    a = np.asarray(t_k, float)
    a = a[np.isfinite(a)]
    b = np.where(np.isnan(np.asarray(t_inf, float)), np.inf, np.asarray(t_inf, float))
    bf = b[np.isfinite(b)]
    out = dict(n_k=len(a), n_inf=len(b), n_inf_censored=int(np.isinf(b).sum()), median_k=np.nan,
               median_k_ci=(np.nan, np.nan), median_inf=np.nan, median_inf_ci=(np.nan, np.nan), ratio=np.nan,
               ratio_ci=(np.nan, np.nan), mannwhitney_p=np.nan, ks_p=np.nan, frac_beyond_inf_q90=np.nan)
    if len(a) == 0 or len(bf) == 0:
        return out
    ma, mb = censored_median(a, n_boot, seed), censored_median(b, n_boot, seed + 1)
    out.update(median_k=ma.median, median_k_ci=ma.ci, median_inf=mb.median, median_inf_ci=mb.ci)
    if np.isfinite(mb.median) and mb.median > 0:
        out["ratio"] = ma.median / mb.median
        ab = np.concatenate([a, b])
        blocks = [np.arange(len(a)), len(a) + np.arange(len(b))]

        def ratio(idx):
            x, y = np.median(ab[idx[:len(a)]]), np.median(ab[idx[len(a):]])
            return x / y if np.isfinite(y) and y > 0 else None

        r = st.replicates(ratio, n_boot=n_boot, seed=seed + 2, groups=blocks)
        if r:
            out["ratio_ci"] = st.interval(r)
    if len(a) >= 2 and len(bf) >= 2:
        out["mannwhitney_p"] = float(scipy_stats.mannwhitneyu(a, bf, alternative="two-sided").pvalue)
        out["ks_p"] = float(scipy_stats.ks_2samp(a, bf).pvalue)
    out["frac_beyond_inf_q90"] = float(np.mean(a > float(order_quantile(b, 0.9))))  # q90 may be +inf (censored)
    return out


def acquisition_vs_k(K, final_acc, threshold: float = 0.75, conf: float = 0.95) -> dict:
    """Probability of acquiring ICL per K (Fig 6e): the fraction of seeds whose final ICL accuracy exceeds
    `threshold` (the paper's 75%), with Wilson intervals. Returns dict of arrays over the sorted distinct finite
    K: K, n, k (acquirers), p, lo, hi; and ``acquired`` (E,) bool per run."""
    K, acc = np.asarray(K, float), np.asarray(final_acc, float)
    acquired = np.nan_to_num(acc, nan=-np.inf) > threshold
    Ks = np.unique(K[np.isfinite(K)])
    n = np.array([(K == k).sum() for k in Ks])
    kk = np.array([acquired[K == k].sum() for k in Ks])
    ci = [st.proportion_ci(a, b, conf) for a, b in zip(kk, n)]
    return dict(K=Ks, n=n, k=kk, p=np.array([c[0] for c in ci]), lo=np.array([c[1] for c in ci]),
                hi=np.array([c[2] for c in ci]), acquired=acquired)


def k_half(table: dict) -> float:
    """Model-free threshold: the smallest K of an :func:`acquisition_vs_k` table at which at least half of the
    seeds acquire ICL; +inf if none does."""
    i = np.flatnonzero(np.asarray(table["p"]) >= 0.5)
    return float(table["K"][i[0]]) if len(i) else np.inf


def stratified_permutation_test(strata, group, outcome, n_perm: int = 10000, seed: int = 0) -> dict:
    """Do runs of group 1 succeed less often than group 0, allowing for strata (e.g. K)?

    Statistic: successes in group 1 minus their expectation summed over strata. The null distribution permutes
    group labels within each stratum (exact for the design). Returns dict(diff = observed statistic,
    p_less = one-sided p-value that group 1 succeeds less, p_two = two-sided), NaN without variation.
    """
    strata, group, outcome = np.asarray(strata), np.asarray(group, bool), np.asarray(outcome, bool)
    rng = np.random.default_rng(seed)
    idx = [np.flatnonzero(strata == s) for s in np.unique(strata)]

    def stat(g):
        return sum(outcome[i][g[i]].sum() - g[i].sum() * outcome[i].mean() for i in idx)

    obs = stat(group)
    null = np.empty(n_perm)
    for b in range(n_perm):
        g = group.copy()
        for i in idx:
            g[i] = group[i][rng.permutation(len(i))]
        null[b] = stat(g)
    if np.ptp(null) == 0:
        return dict(diff=float(obs), p_less=np.nan, p_two=np.nan)
    p_less = (1 + np.sum(null <= obs + 1e-12)) / (n_perm + 1)
    p_two = (1 + np.sum(np.abs(null) >= abs(obs) - 1e-12)) / (n_perm + 1)
    return dict(diff=float(obs), p_less=float(p_less), p_two=float(p_two))


def suboptimal_plateaus(steps, icl_acc, lo: float = 0.55, hi: float = 0.95, min_frac: float = 0.25,
                        max_change: float = 0.1) -> dict:
    """Runs stuck at a sub-optimal ICL accuracy (Fig A.8): for the last `min_frac` of training (in iterations)
    every evaluation lies strictly between `lo` and `hi` (above chance, below ICL) and the accuracy changed by at
    most `max_change` over that window (not still climbing). Runs stopped early (NaN at the end) never count.
    Returns dict(mask (E,) bool, duration (E,): iterations of the final stretch inside (lo, hi), level (E,):
    median accuracy over the window)."""
    steps = np.asarray(steps, float)
    acc = np.atleast_2d(np.asarray(icl_acc, float))
    E, T = acc.shape
    win = steps >= steps[-1] - min_frac * (steps[-1] - steps[0])
    inside = (acc > lo) & (acc < hi)  # NaN compares False
    duration = np.zeros(E)
    for e in range(E):
        out = np.flatnonzero(~inside[e])
        start = out[-1] + 1 if len(out) else 0
        duration[e] = steps[-1] - steps[start] if start < T else 0.0
    w = acc[:, win]
    change = np.abs(w[:, -1] - w[:, 0])
    level = np.array([np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan for r in w])
    mask = inside[:, win].all(1) & (change <= max_change) & (win.sum() >= 2)
    return dict(mask=mask, duration=duration, level=level)
