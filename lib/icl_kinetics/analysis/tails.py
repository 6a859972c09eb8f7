"""Chapter 10, the long tail of t_ICL (Fig A.4): skewness and log-normality of t_ICL per N and pooled over N,
whether a seed keeps its place in the distribution across N, and the many-seed run at one N. Eq 11 reads a
log-normal t_ICL as a normal beta0. Times are training iterations; runs that never acquired ICL are censored."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from ..rules import Choice
from .. import stats as st
from .outcomes import log_normality, lognormal_skewness, skewness_ci
from ..config import RunConfig
from .runs import censored_t_icl
from .scaling import censored_median, pooled_relative_times, seed_consistency, ticl_seeds, ticl_times
from .section import Section, glued, kept, plotted


@dataclass(frozen=True)
class PerNTails(Section):
    n_pos_skew: int = glued()
    n_N: int = glued()
    seeds_per_N: int = glued()
    times: dict = plotted()
    budgets: dict = plotted()
    rows: list = kept()


def per_n_tails(result) -> PerNTails:
    """Per N: median, resolution over median, skewness of t_ICL with a bootstrap interval, sd of ln t_ICL with its
    chi-square interval (``data["rows"]``), and the number of N with a significantly positive skewness."""
    cfgs = result.configs()
    times = ticl_times(result)
    evals = {c.N: c.eval_every for c in cfgs.values()}
    rows, n_pos = [], 0
    for n in sorted(times):
        t = times[n]
        med = censored_median(t, n_boot=0).median
        sk, ci, _ = skewness_ci(t, n_boot=2000, seed=0)
        ln = log_normality(t)
        n_pos += int(np.isfinite(ci[0]) and ci[0] > 0)
        rows.append([n, len(t), int(np.isinf(t).sum()), f"{med:.0f}", f"{evals[n] / med:.2f}", f"{sk:.2f}",
                     f"[{ci[0]:.2f}, {ci[1]:.2f}]", f"{ln['sd']:.2f}", f"[{ln['sd_ci'][0]:.2f}, {ln['sd_ci'][1]:.2f}]"])
    numbers = dict(n_pos_skew=n_pos, n_N=len(times), seeds_per_N=min(len(t) for t in times.values()))
    figure = dict(times=times, budgets={c.N: c.steps for c in cfgs.values()})
    return PerNTails.of(numbers, figure, dict(rows=rows, times=times))


@dataclass(frozen=True)
class SeedRanks(Section):
    icc: float = glued()
    icc_lo: float = glued()
    icc_hi: float = glued()
    r_mean: float = glued()
    n_seeds_common: int = glued()
    sd_seed: float = glued()
    sc: dict = plotted()


def seed_ranks(result) -> SeedRanks:
    """Does a seed keep its t_ICL rank across N? (:func:`seed_consistency`)"""
    sc = seed_consistency(ticl_times(result), ticl_seeds(result), n_boot=2000, seed=0)
    numbers = dict(icc=sc["icc"], icc_lo=sc["icc_ci"][0], icc_hi=sc["icc_ci"][1], r_mean=sc["r_mean"],
                   n_seeds_common=sc["n_seeds"], sd_seed=sc["sd_seed_effect"])
    return SeedRanks.of(numbers, dict(sc=sc))


@dataclass(frozen=True)
class PooledTail(Section):
    n_pool: int = glued()
    n_cens: int = glued()
    skew: float = glued()
    skew_lo: float = glued()
    skew_hi: float = glued()
    sd: float = glued()
    sd_lo: float = glued()
    sd_hi: float = glued()
    shapiro_p: float = glued()
    skew_log: float = glued()
    skew_pred: float = glued()
    skew_pred_lo: float = glued()
    skew_pred_hi: float = glued()
    max_ratio: float = glued()
    ratios_by_n: dict = plotted()
    lognorm: dict = plotted()
    summary: str = kept()


def pooled_tail(times: dict) -> PooledTail:
    """t_ICL / median pooled over N: skewness with a bootstrap interval, log-normality, and the skewness a
    log-normal with the measured sd (and its interval) would have. ``data["summary"]``: that in sentences."""
    pooled, n_cens = pooled_relative_times(times)
    ratios = {}
    for n in sorted(times):
        med = np.median(times[n])
        if np.isfinite(med) and med > 0:
            ratios[n] = times[n][np.isfinite(times[n])] / med
    ln = log_normality(pooled)
    sk, sk_ci, n_pool = skewness_ci(pooled, n_boot=2000, seed=0)
    numbers = dict(n_pool=n_pool, n_cens=n_cens, skew=sk, skew_lo=sk_ci[0], skew_hi=sk_ci[1], sd=ln["sd"],
                   sd_lo=ln["sd_ci"][0], sd_hi=ln["sd_ci"][1], shapiro_p=ln["shapiro_p"], skew_log=ln["skew_log"],
                   skew_pred=ln["skew_pred"], skew_pred_lo=lognormal_skewness(ln["sd_ci"][0]),
                   skew_pred_hi=lognormal_skewness(ln["sd_ci"][1]),
                   max_ratio=float(np.max(pooled)) if len(pooled) else np.nan)
    return PooledTail.of(numbers, dict(ratios_by_n=ratios, lognorm=ln), dict(summary=_tail_summary(ln, sk, sk_ci, n_pool)))


def _tail_summary(ln: dict, sk: float, sk_ci, n_pool: int) -> str:
    if not np.isfinite(ln["sd"]) or n_pool < 8:
        return (f"**Too few acquired runs ({n_pool}) for a tail analysis** at this profile "
                "(expected at the smoke profile, where runs are far too short to acquire ICL).")
    s = (f"Pooled over $N$, $t_{{\\rm ICL}}$/median has skewness {sk:.2f} [{sk_ci[0]:.2f}, {sk_ci[1]:.2f}]: "
         + ("a significant right tail. " if sk_ci[0] > 0 else f"no right tail that {n_pool} runs can resolve. "))
    s += (f"$\\ln t_{{\\rm ICL}}$ has standard deviation {ln['sd']:.2f} [{ln['sd_ci'][0]:.2f}, {ln['sd_ci'][1]:.2f}] "
          f"and the Shapiro-Wilk test {'does not reject' if ln['shapiro_p'] > 0.05 else 'rejects'} normality "
          f"(p = {ln['shapiro_p']:.2f}). ")
    s += (f"A log-normal with this sd would have skewness {ln['skew_pred']:.2f}, "
          + ("inside" if sk_ci[0] <= ln["skew_pred"] <= sk_ci[1] else "outside") + " the measured interval. ")
    return s + f"Read as eq 11, the spread corresponds to an effective $\\mathrm{{sd}}(\\beta_0) \\approx$ {ln['sd']:.2f}."


@dataclass(frozen=True)
class ManySeeds(Section):
    lt_n: int = glued()
    lt_n_acq: int = glued()
    lt_median: float = glued()
    lt_sd: float = glued()
    lt_shapiro_p: float = glued()
    lt_skew_pred: float = glued()
    lt_p99: float = glued()
    lt_max: float = glued()
    lt_decile_skew: float = glued()
    lt_decile_skew_lo: float = glued()
    lt_decile_skew_hi: float = glued()
    times: dict = plotted()
    budgets: dict = plotted()
    skew: float = kept()
    skew_ci: tuple = kept()
    n_acquired: int = kept()
    frac_censored: float = kept()
    max_ratio: float = kept()
    skew_lo: float = kept()
    skew_hi: float = kept()
    cfg: RunConfig = kept()
    choices: dict = kept()  # {skewness estimator: rule_long_tail statistics}


def _decile_skew(x) -> float:
    """Kelly's decile skewness (P90 + P10 - 2 P50) / (P90 - P10): a longer upper than lower tail gives > 0; unlike
    the moment skewness, a few extreme runs cannot make it."""
    p10, p50, p90 = np.percentile(x, [10, 50, 90])
    return float((p90 + p10 - 2 * p50) / (p90 - p10)) if p90 > p10 else np.nan


def many_seeds(lt) -> ManySeeds:
    """The `long_tail` run (many seeds at one N): t_ICL / median of the acquirers, its skewness with a bootstrap
    interval, log-normality, the 99th percentile and maximum, and the censored fraction."""
    (name, cfg), = lt.configs().items()
    t = censored_t_icl(lt[name])              # +inf = never acquired within the budget
    acq = np.isfinite(t)
    rel = t[acq] / np.median(t[acq]) if acq.any() else np.array([])
    sk, sk_ci, _ = skewness_ci(rel, n_boot=2000, seed=0)
    ln = log_normality(rel)
    numbers = {f"lt_{k}": v for k, v in dict(
        n=cfg.E, n_acq=int(acq.sum()), median=float(np.median(t)), sd=ln["sd"], shapiro_p=ln["shapiro_p"],
        skew_pred=ln["skew_pred"], p99=float(np.percentile(rel, 99)) if len(rel) else np.nan,
        max=float(rel.max()) if len(rel) else np.nan).items()}
    figure = dict(times={cfg.N: t}, budgets={cfg.N: cfg.steps})
    base = dict(n_acquired=int(acq.sum()), frac_censored=float(np.mean(~acq)))
    # t_ICL is known to one evaluation interval: break the ties by placing each time uniformly within its interval
    jit = rel - np.random.default_rng(1).uniform(0, cfg.eval_every, len(rel)) / np.median(t[acq]) if len(rel) else rel
    est = {"adjusted Fisher-Pearson skewness (the chapter's)": (sk, sk_ci),
           "plain (biased) skewness": st.bootstrap(lambda x: float(scipy_stats.skew(x)), rel, n_boot=2000)
           if len(rel) >= 3 else (np.nan, (np.nan, np.nan)),
           "Kelly's decile skewness": st.bootstrap(_decile_skew, rel, n_boot=2000)
           if len(rel) >= 3 else (np.nan, (np.nan, np.nan)),
           "ties broken within the evaluation interval": skewness_ci(jit, n_boot=2000, seed=0)[:2]}
    choices = {k: Choice(dict(base, skew=v[0], skew_ci=tuple(v[1])), why) for (k, v), why in zip(est.items(), (
        "the standard small-sample skewness of t_ICL / median, bootstrap over seeds",
        "the moment skewness without the small-sample factor",
        "a quantile measure of asymmetry: no weight on the few slowest seeds",
        "t_ICL is known to one evaluation interval: ties placed uniformly within it"))}
    kelly = est["Kelly's decile skewness"]
    numbers.update(lt_decile_skew=kelly[0], lt_decile_skew_lo=kelly[1][0], lt_decile_skew_hi=kelly[1][1])
    return ManySeeds.of(numbers, figure, dict(skew=sk, skew_ci=sk_ci, n_acquired=int(acq.sum()),
                                         frac_censored=float(np.mean(~acq)),
                                         max_ratio=float(rel.max()) if len(rel) else np.nan, cfg=cfg,
                                         skew_lo=sk_ci[0], skew_hi=sk_ci[1], choices=choices))
