"""Chapters 7, 8 and 10: K* against N (Fig 6a, A.7), t_ICL against N (Fig 6b, A.5) and whether a seed keeps its
place across N. Times are training iterations; runs that never acquired ICL within their step budget are
right-censored: they enter as t_ICL = +inf (never dropped), so medians and order statistics stay valid."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from .. import fits
from .. import stats as st
from ..theory import t_icl_eq11
from ..prose import count, fmt, join_and
from .runs import censored_t_icl, safe_sweep_threshold
from ..config import n_context
from ..rules import Choice
from .small_sample import mean_slope_t, per_seed_slopes
from .section import Section, glued, kept, plotted


def order_quantile(x, q):
    """Quantiles by order statistics (no interpolation), so +inf values never turn into NaN."""
    return np.quantile(np.asarray(x, float), q, method="inverted_cdf")


@dataclass
class CensoredMedian:
    """Median of right-censored times (censored = +inf) with a percentile bootstrap interval.

    ``median`` is +inf when half or more of the runs are censored (the median is then only bounded below by the
    step budget); ``ci`` may have an infinite upper end for the same reason. ``boot``: the bootstrap medians.
    """
    median: float
    ci: tuple
    n: int
    n_censored: int
    boot: np.ndarray


def censored_median(t, n_boot: int = 2000, seed: int = 0, conf: float = 0.95) -> CensoredMedian:
    """Median of times `t` where NaN or +inf mean "never happened within the budget" (sorted last).

    The interval resamples runs with replacement (percentile bootstrap, order-statistic quantiles so infinite
    bootstrap medians are handled). An empty sample gives NaNs.
    """
    t = np.asarray(t, float)
    t = np.where(np.isnan(t), np.inf, t)
    n, n_cens = len(t), int(np.isinf(t).sum())
    if n == 0:
        return CensoredMedian(np.nan, (np.nan, np.nan), 0, 0, np.empty(0))
    rng = np.random.default_rng(seed)
    boot = np.median(t[rng.integers(0, n, (n_boot, n))], axis=1) if n_boot else np.empty(0)
    ci = st.interval(boot, conf, method="inverted_cdf")
    return CensoredMedian(float(np.median(t)), ci, n, n_cens, boot)


@dataclass
class MedianVsN:
    """Median t_ICL against N: OLS line, log-log slope and a fit through the origin, with bootstrap intervals.

    ``line``: fits.LineFit of median = slope N + intercept (its t intervals treat the medians as exact points
    scattered about a line). ``*_boot`` intervals resample runs within each N and refit (they carry the seed noise
    of each median). ``loglog``: fits.LineFit of log10 median against log10 N (slope 1 = linear scaling).
    ``prop``: least-squares constant c of median = c N (through the origin). ``medians``: per-N
    :class:`CensoredMedian` with their own bootstrap intervals. ``n_boot_ok``: bootstrap replicates
    whose medians were all finite. ``ok`` False (and NaNs) when fewer than 3 N have a finite median.
    """
    N: np.ndarray
    medians: list  # CensoredMedian per N
    line: object
    loglog: object
    prop: float
    slope_ci_boot: tuple
    intercept_ci_boot: tuple
    loglog_ci_boot: tuple
    prop_ci_boot: tuple
    n_boot_ok: int
    ok: bool
    message: str = ""


def median_vs_n_fit(times: dict, n_boot: int = 2000, seed: int = 0, paired: bool = False,
                    min_n: int = 3) -> MedianVsN:
    """Fit median t_ICL against N from ``times = {N: (E,) t_ICL, censored = inf or NaN}``.

    ``paired=True``: run i at every N shares its seed (same initialisation), so the bootstrap draws the same run
    indices at every N (all N need the same number of runs); otherwise runs are resampled independently per N.
    ``min_n``: fewest N with a finite median needed for a fit (with 2, the OLS intervals are degenerate: use the
    bootstrap ones).

    N with an infinite median (half or more of the runs censored) are left out of the fits (listed in
    ``message``); the bootstrap skips replicates in which a used N's median is infinite.
    """
    Ns = np.array(sorted(times), float)
    meds = [censored_median(times[n], n_boot=n_boot, seed=seed) for n in sorted(times)]
    m = np.array([c.median for c in meds])
    use = np.isfinite(m) & (m > 0)
    nan2 = (np.nan, np.nan)
    dropped = [int(n) for n in Ns[~use]]
    msg = f"N = {dropped} left out: median not finite (half or more runs censored)" if dropped else ""
    if use.sum() < max(min_n, 2):
        return MedianVsN(Ns, meds, None, None, np.nan, nan2, nan2, nan2, nan2, 0, False,
                         (msg + "; " if msg else "") + f"only {use.sum()} N with a finite median: no fit")
    x, y = Ns[use], m[use]
    line, loglog = fits.linear_fit(x, y), fits.power_law_fit(x, y)
    prop = float((x * y).sum() / (x * x).sum())
    samples = [np.where(np.isnan(np.asarray(times[n], float)), np.inf, np.asarray(times[n], float))
               for n in np.array(sorted(times))[use]]
    if paired and len({len(s) for s in samples}) != 1:
        raise ValueError("paired=True needs the same number of runs at every N")
    sizes = np.cumsum([0] + [len(s) for s in samples])
    pooled = np.concatenate(samples)
    blocks = [np.arange(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def refit(idx):  # paired: one draw of run indices shared by every N; else a draw within each N's block
        mb = (np.array([np.median(s[idx]) for s in samples]) if paired else
              np.array([np.median(pooled[idx[a:b]]) for a, b in zip(sizes[:-1], sizes[1:])]))
        if not np.all(np.isfinite(mb)) or np.any(mb <= 0):
            return None
        s, b = np.polyfit(x, mb, 1)
        return (s, b, np.polyfit(np.log10(x), np.log10(mb), 1)[0], (x * mb).sum() / (x * x).sum())

    boot = np.asarray(st.replicates(refit, n=len(samples[0]), n_boot=n_boot, seed=seed,
                                    groups=None if paired else blocks)).reshape(-1, 4)
    ci = [st.interval(boot[:, j]) if len(boot) else nan2 for j in range(4)]
    return MedianVsN(Ns, meds, line, loglog, prop, ci[0], ci[1], ci[2], ci[3], len(boot), True, msg)


@dataclass
class KStarVsN:
    """K* per N and the power law K* = C N^exponent fitted in log10-log10.

    ``k_star``/``notes``: the sigmoid fit of :func:`safe_sweep_threshold` per N (NaN where it failed);
    ``used``: N entering the power law (note "ok", i.e. a fitted K* inside the sampled K range).
    ``ci`` (nN, 2): per-N 95% interval from the joint bootstrap; ``exponent_ci_boot``: 95% interval of the
    exponent from the same bootstrap (every replicate resamples seeds within each K at every N, refits every K*,
    refits the line), so the K* uncertainty is propagated. ``line``: fits.LineFit of log10 K* vs log10 N, whose
    ``slope_ci`` treats the K* as exact. ``boot``: (n_boot_ok, nN) bootstrap K*; ``exponent_boot``: the exponent
    of each of those replicates (empty when there is no fit).
    """
    N: np.ndarray
    k_star: np.ndarray
    ci: np.ndarray
    notes: list
    used: np.ndarray
    line: object
    exponent: float
    exponent_ci_boot: tuple
    boot: np.ndarray
    n_boot_ok: int
    ok: bool
    message: str = ""
    exponent_boot: np.ndarray = field(default_factory=lambda: np.empty(0))


def _kstar_point(K, acc):
    """K* and note of :func:`safe_sweep_threshold` for plain arrays (no bootstrap of its own)."""
    K = np.asarray(K, float)
    cfg = SimpleNamespace(Ks=tuple(K), seeds=tuple(range(len(K))), wd_attn=(0.0,) * len(K))  # what members() reads
    thr, note = safe_sweep_threshold({"final_icl_acc": np.asarray(acc, float)}, cfg, n_boot=0)
    return thr, note


def _kstar_batch(K, acc, p0) -> np.ndarray:
    """(B,) K* of each row of `acc` (B, E) at the runs' `K` (E,), as :func:`_kstar_point` would give it (NaN where
    the accuracies are flat across K), all rows fitted at once from `p0`."""
    x = np.log10(K)
    flat = np.ptp(acc, axis=1) < 0.05
    out = 10 ** fits.sigmoid_params_batch(x, acc, (x.min() - 0.5, x.max() + 0.5), p0)[:, 1]
    return np.where(flat, np.nan, out)


def kstar_vs_n_fit(sweeps: dict, n_boot: int = 300, seed: int = 0) -> KStarVsN:
    """K*(N) and the exponent of K* ~ N^exponent from ``sweeps = {N: (K (E,), final ICL accuracy (E,))}``.

    Each K* is the authors' sigmoid fit (:func:`safe_sweep_threshold`). The exponent is an OLS line of log10 K*
    on log10 N over the N whose fit is "ok". Its bootstrap interval resamples seeds within each (N, K), refits
    the sigmoid at every N and the line; replicates in which a used N's fit fails are skipped (counted in
    ``n_boot_ok``). Fewer than 2 usable N give ``ok=False`` and NaNs. Each K*'s own interval (``ci``) is that
    sweep's :func:`fits.fit_threshold` interval, as chapter 1 and the ladder give it, whatever ``n_boot`` is.
    """
    Ns = np.array(sorted(sweeps), float)
    data = [(np.asarray(sweeps[n][0], float), np.asarray(sweeps[n][1], float)) for n in sorted(sweeps)]
    pts = [_kstar_point(K, a) for K, a in data]
    ks = np.array([t.k_star for t, _ in pts], float)
    notes = [note for _, note in pts]
    used = np.array([note == "ok" and np.isfinite(k) for k, note in zip(ks, notes)])
    # one bootstrap draw resamples seeds within each K at every used N (the (N, K) groups of all used N, in order,
    # as index arrays into the concatenated accuracies); each N's replicates are then refitted at once
    starts = np.cumsum([0] + [len(a) for _, a in data])
    groups = [[np.flatnonzero(K == k) for k in np.unique(K)] for K, _ in data]
    flat = [starts[i] + g for i in np.flatnonzero(used) for g in groups[i]]
    acc_all = np.concatenate([a for _, a in data]) if data else np.empty(0)
    rng = np.random.default_rng(seed)
    draws = np.array([st.resample(rng, groups=flat) for _ in range(n_boot)], int) if flat else None
    boot, pos = np.full((n_boot, len(Ns)), np.nan), 0
    for i in np.flatnonzero(used):
        K, _ = data[i]
        order = np.concatenate(groups[i])
        boot[:, i] = _kstar_batch(K[order], acc_all[draws[:, pos:pos + len(order)]], pts[i][0].params)
        pos += len(order)
    ok_rows = np.all(np.isfinite(boot[:, used]), axis=1) if used.any() else np.zeros(n_boot, bool)
    boot = boot[ok_rows]
    ci = np.full((len(Ns), 2), np.nan)
    for i in np.flatnonzero(used):
        ci[i] = fits.fit_threshold(*data[i]).ci
    nan2 = (np.nan, np.nan)
    if used.sum() < 2:
        return KStarVsN(Ns, ks, ci, notes, used, None, np.nan, nan2, boot, len(boot), False,
                        f"only {used.sum()} N with a usable K*: no power-law fit")
    x = np.log10(Ns[used])
    line = fits.power_law_fit(Ns[used], ks[used])
    slopes = st.ols_slopes(x, np.log10(boot[:, used]))
    eci = st.interval(slopes)
    msg = "" if used.all() else f"N = {[int(n) for n in Ns[~used]]} left out of the power law"
    return KStarVsN(Ns, ks, ci, notes, used, line, float(line.slope), eci, boot, len(boot), True, msg, slopes)


def pooled_relative_times(times: dict) -> tuple:
    """Pool t_ICL over N after dividing each N's times by its (censored) median. Returns (ratios of the
    acquired runs, number of censored runs left out). N whose median is not finite contribute nothing."""
    out, n_cens = [], 0
    for n in sorted(times):
        t = np.asarray(times[n], float)
        t = np.where(np.isnan(t), np.inf, t)
        med = float(np.median(t))
        n_cens += int(np.isinf(t).sum())
        if np.isfinite(med) and med > 0:
            out.append(t[np.isfinite(t)] / med)
    return (np.concatenate(out) if out else np.empty(0)), n_cens


def ticl_times(result) -> dict:
    """{N: censored t_ICL (E,)} for a ``ticl_vs_n``-like result (runs named by N, e.g. ``N20``)."""
    cfgs = result.configs()
    return {cfgs[r].N: censored_t_icl(result[r]) for r in cfgs}


def ticl_seeds(result) -> dict:
    """{N: (E,) seeds} for a ``ticl_vs_n``-like result, to pair runs across N."""
    cfgs = result.configs()
    return {cfgs[r].N: np.asarray(cfgs[r].seeds) for r in cfgs}


def seed_consistency(times: dict, seeds: dict, n_boot: int = 2000, seed: int = 0) -> dict:
    """Does a seed (an initialisation) keep its place in the t_ICL distribution across N?

    Uses the seeds present at every N with a finite t_ICL. ``L`` (n_seeds, nN): ln(t_ICL / median at that N).
    ``icc``: one-way intraclass correlation ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW), the share of the variance
    of L that is between seeds (1: t_ICL / N is fixed by the initialisation; 0: no seed effect), with a 95%
    bootstrap over seeds ``icc_ci``; ``r_mean``: mean Pearson correlation of L between pairs of N; ``seed_effect``:
    per-seed mean of L over N (if t_ICL = c N e^-beta0, an estimate of -beta0 + const); ``sd_seed_effect`` its sd.
    NaNs when fewer than 3 common seeds or 2 N.
    """
    Ns = sorted(times)
    common = set.intersection(*[set(np.asarray(seeds[n]).tolist()) for n in Ns]) if Ns else set()
    rows = []
    for sd in sorted(common):
        r = []
        for n in Ns:
            t = np.asarray(times[n], float)
            t = np.where(np.isnan(t), np.inf, t)
            med = np.median(t)
            v = t[np.flatnonzero(np.asarray(seeds[n]) == sd)[0]]
            r.append(np.log(v / med) if np.isfinite(v) and np.isfinite(med) and med > 0 else np.nan)
        rows.append(r)
    L = np.array(rows, float).reshape(-1, len(Ns))
    L = L[np.all(np.isfinite(L), axis=1)]
    out = dict(N=np.array(Ns), L=L, n_seeds=len(L), icc=np.nan, icc_ci=(np.nan, np.nan), r_mean=np.nan,
               seed_effect=np.full(len(L), np.nan), sd_seed_effect=np.nan)
    n, k = L.shape
    if n < 3 or k < 2:
        return out

    def icc(M):
        m = M.mean(1)
        msb = k * np.var(m, ddof=1)
        msw = ((M - m[:, None]) ** 2).sum() / (len(M) * (k - 1))
        den = msb + (k - 1) * msw
        return (msb - msw) / den if den > 0 else np.nan

    est, ci = st.bootstrap(icc, L, n_boot=n_boot, seed=seed)
    cc = np.corrcoef(L.T)
    out.update(icc=est, icc_ci=ci,
               r_mean=float(cc[np.triu_indices(k, 1)].mean()), seed_effect=L.mean(1),
               sd_seed_effect=float(np.std(L.mean(1), ddof=1)))
    return out


def _float(v):
    return float(v) if v is not None else np.nan


@dataclass(frozen=True)
class TiclVsN(Section):
    n_runs: int = glued()
    n_censored: int = glued()
    seeds_per_N: str = glued()  # '24', or '12 to 24' when the N have different numbers of seeds
    budget_text: str = glued()  # the step budget per N in words: one budget, or which N have which
    eq11_const: float = glued(plotted=True)
    lr: float = glued()
    N_min: int = glued()
    N_max: int = glued()
    slope: float = glued()
    slope_lo: float = glued()
    slope_hi: float = glued()
    intercept: float = glued()
    intercept_lo: float = glued()
    intercept_hi: float = glued()
    intercept_ols_lo: float = glued()
    intercept_ols_hi: float = glued()
    r2: float = glued()
    loglog: float = glued()
    loglog_lo: float = glued()
    loglog_hi: float = glued()
    loglog_ols_lo: float = glued()
    loglog_ols_hi: float = glued()
    prop: float = glued()
    prop_lo: float = glued()
    prop_hi: float = glued()
    prop_ratio: float = glued()
    prop_ratio_lo: float = glued()
    prop_ratio_hi: float = glued()
    n_boot_ok: int = glued()
    times: dict = plotted()
    medfit: MedianVsN = plotted()
    budgets: dict = plotted()
    fit: MedianVsN = kept()
    rows: list = kept()
    seeds: dict = kept()  # {N: (E,) seed}, in the order of ``times``; paired when :func:`same_seeds`
    summary: str = kept()


def budget_text(budgets: dict) -> str:
    """The step budgets ``{N: iterations}`` in words: '37,520 iterations at every N', or '37,520 iterations at
    N = 25, 50 and 100, 93,800 at N = 200'."""
    by = {}  # budget -> its N, in the order of N
    for n, b in sorted(budgets.items()):
        by.setdefault(b, []).append(n)
    if len(by) <= 1:
        return f"{next(iter(by)):,} iterations at every N" if by else ""
    parts = [f"{b:,}{' iterations' if i == 0 else ''} at N = {join_and(map(str, ns))}"
             for i, (b, ns) in enumerate(by.items())]
    return ", ".join(parts)


def _range_text(values: list) -> str:
    return str(min(values)) if min(values) == max(values) else f"{min(values)} to {max(values)}"


def ticl_vs_n(result, n_boot: int = 2000, min_n: int = 3) -> TiclVsN:
    """Fig 6b: median t_ICL against N (:func:`median_vs_n_fit`; paired bootstrap when every N shares its seeds)
    against eq 11's sqrt(2 pi) / lr iterations per unit N. ``data["rows"]``: per N runs, censored runs, step
    budget, median with interval, eq 11 and their ratio."""
    cfgs = result.configs()
    times, seeds = ticl_times(result), ticl_seeds(result)
    paired = same_seeds(seeds)
    budgets = {c.N: c.steps for c in cfgs.values()}
    lr = next(iter(cfgs.values())).lr
    Ns = sorted(times)
    fit = median_vs_n_fit(times, n_boot=n_boot, seed=0, paired=paired, min_n=min_n)
    eq11_const = float(t_icl_eq11(1, 0.0)) / lr   # sqrt(2 pi) / lr iterations per unit of N
    rows = [[n, m.n, m.n_censored, f"{budgets[n]:,}", f"{m.median:,.0f}", f"[{m.ci[0]:,.0f}, {m.ci[1]:,.0f}]",
             f"{eq11_const * n:,.0f}", f"{m.median / (eq11_const * n):.2f}"] for n, m in zip(Ns, fit.medians)]
    ok = fit.ok
    numbers = dict(n_runs=sum(m.n for m in fit.medians), n_censored=sum(m.n_censored for m in fit.medians),
                   seeds_per_N=_range_text([m.n for m in fit.medians]), budget_text=budget_text(budgets), eq11_const=eq11_const, lr=lr, N_min=Ns[0],
                   N_max=Ns[-1], slope=_float(fit.line.slope if ok else np.nan),
                   slope_lo=_float(fit.slope_ci_boot[0]), slope_hi=_float(fit.slope_ci_boot[1]),
                   intercept=_float(fit.line.intercept if ok else np.nan),
                   intercept_lo=_float(fit.intercept_ci_boot[0]), intercept_hi=_float(fit.intercept_ci_boot[1]),
                   intercept_ols_lo=_float(fit.line.intercept_ci[0] if ok else np.nan),
                   intercept_ols_hi=_float(fit.line.intercept_ci[1] if ok else np.nan),
                   r2=_float(fit.line.r2 if ok else np.nan), loglog=_float(fit.loglog.slope if ok else np.nan),
                   loglog_lo=_float(fit.loglog_ci_boot[0]), loglog_hi=_float(fit.loglog_ci_boot[1]),
                   loglog_ols_lo=_float(fit.loglog.slope_ci[0] if ok else np.nan),
                   loglog_ols_hi=_float(fit.loglog.slope_ci[1] if ok else np.nan),
                   prop=_float(fit.prop), prop_lo=_float(fit.prop_ci_boot[0]), prop_hi=_float(fit.prop_ci_boot[1]),
                   prop_ratio=_float(fit.prop / eq11_const), prop_ratio_lo=_float(fit.prop_ci_boot[0] / eq11_const),
                   prop_ratio_hi=_float(fit.prop_ci_boot[1] / eq11_const), n_boot_ok=fit.n_boot_ok)
    figure = dict(times=times, medfit=fit, budgets=budgets, eq11_const=eq11_const)
    return TiclVsN.of(numbers, figure, dict(fit=fit, rows=rows, times=times, seeds=seeds,
                                            summary=fit_summary(
        fit, eq11_const)))


def fit_summary(fit: MedianVsN, eq11_const: float) -> str:
    """Markdown sentences on a median t_ICL vs N fit: is slope 1 inside the log-log intervals, is the intercept
    consistent with 0, and the fitted constant against eq 11's."""
    if not fit.ok:
        return f"**No fit**: {fit.message}. (At the smoke profile almost no run acquires ICL; this is expected.)"
    lo, hi = fit.loglog_ci_boot
    inside = lo <= 1 <= hi
    ilo, ihi = fit.intercept_ci_boot
    olo, ohi = fit.loglog.slope_ci
    if len(fit.medians) == 2:
        ols = "with two values of $N$ the least-squares line passes through both medians, so it has no interval"
    elif f"{olo:.2f}" != f"{ohi:.2f}":
        ols = (f"the least-squares interval through the medians alone, [{olo:.2f}, {ohi:.2f}], is a description "
               "only (it ignores the seeds behind each median)")
    else:
        ols = ("the medians lie on one line to within rounding, so the least-squares interval through them is "
               "degenerate and says nothing")
    s = (f"The log-log slope against $N$ (the target counted, the authors' convention; the verdict below uses "
         f"$N - 1$) is {fit.loglog.slope:.2f} with 95% bootstrap interval [{lo:.2f}, {hi:.2f}]: slope 1 (linear "
         f"scaling) is {'inside' if inside else 'outside'} the interval; {ols}. ")
    consistent = ilo <= 0.5 and ihi >= -0.5  # iterations; interval ends of exactly 0 up to float rounding count
    edge = consistent and min(abs(ilo), abs(ihi)) <= 0.5
    zero = ("at the edge of consistency with 0 (0 ends its interval)" if edge else
            "consistent with 0" if consistent else "not consistent with 0")
    s += (f"The intercept of the straight line, {fmt(fit.line.intercept, '.0f')} iterations "
          f"[{fmt(round(ilo) + 0.0, '.0f')}, {fmt(round(ihi) + 0.0, '.0f')}], is {zero}. ")
    s += (f"The fitted constant is {fit.prop / eq11_const:.2f} times eq 11's $\\sqrt{{2\\pi}}/\\mathrm{{lr}}$ "
          f"({fit.prop:.1f} against {eq11_const:.1f} iterations per unit $N$).")
    if fit.message:
        s += f" Note: {fit.message}."
    return s


def slope_against_context(times: dict, paired: bool, n_boot: int = 2000) -> tuple:
    """Log-log slope of median t_ICL against the number of context items N - 1, with its bootstrap interval."""
    fit_ctx = median_vs_n_fit({n_context(n): t for n, t in times.items()}, n_boot=n_boot, seed=0, paired=paired)
    return (fit_ctx.loglog.slope, fit_ctx.loglog_ci_boot) if fit_ctx.ok else (float("nan"), (float("nan"),) * 2)


def same_seeds(seeds: dict) -> bool:
    """Whether every N of ``{N: (E,) seeds}`` has the same seeds in the same order (the runs pair across N)."""
    return len({tuple(np.asarray(v).tolist()) for v in seeds.values()}) == 1


def common_seeds(times: dict, seeds: dict) -> dict:
    """``times`` restricted to the seeds run at every N, in the same order at every N (they then pair)."""
    if not seeds:
        return {}
    common = sorted(set.intersection(*(set(np.asarray(v).tolist()) for v in seeds.values())))
    return {n: np.asarray(t)[[list(np.asarray(seeds[n]).tolist()).index(s) for s in common]]
            for n, t in times.items()}


def linear_choices(times: dict, seeds: dict, n_boot: int = 2000) -> dict:
    """{analysis choice: rules.Choice of the linear-law rule's statistics (slope, ci)}: the log-log slope of median
    t_ICL against the number of context items N - 1 with the seed bootstrap (paired when every N has the same
    seeds; the chapter's), against N with the target counted (the authors' convention), with an unpaired bootstrap,
    the mean of the seeds' own slopes with a t interval (on the seeds run at every N when the N differ in seeds,
    with the paired bootstrap on those seeds beside it), and (descriptive only) the least-squares interval of the
    line through the medians."""
    paired = same_seeds(seeds)
    ctx = median_vs_n_fit({n_context(n): t for n, t in times.items()}, n_boot=n_boot, seed=0, paired=paired)
    with_target = median_vs_n_fit(times, n_boot=n_boot, seed=0, paired=paired)

    def stats(fit, ci):
        return dict(slope=fit.loglog.slope, ci=ci) if fit.ok else dict(slope=float("nan"), ci=(float("nan"),) * 2)
    out = {"N - 1, seed bootstrap (the chapter's)": Choice(
               stats(ctx, ctx.loglog_ci_boot),
               "eq 11's N counts the context items; resamples the seed, the experimental unit, "
               + ("the same seeds at every N (paired)" if paired else "within each N")),
           "N counts the target": Choice(
               stats(with_target, with_target.loglog_ci_boot),
               "the authors' convention for N; the same seed bootstrap")}
    both = times if paired else common_seeds(times, seeds)
    n_common = len(next(iter(both.values()))) if both else 0
    if paired:
        unp = median_vs_n_fit({n_context(n): t for n, t in times.items()}, n_boot=n_boot, seed=0, paired=False)
        out["N - 1, seeds resampled independently at each N"] = Choice(
            stats(unp, unp.loglog_ci_boot), "ignores the pairing of seeds across N: a wider, conservative interval")
    elif n_common >= 5:  # the seeds run at every N pair across N: the paired analyses on them
        sub = median_vs_n_fit({n_context(n): t for n, t in both.items()}, n_boot=n_boot, seed=0, paired=True)
        out[f"N - 1, paired seed bootstrap on the {n_common} seeds run at every N"] = Choice(
            stats(sub, sub.loglog_ci_boot), "keeps the pairing of seeds across N (a slow seed is slow at every N) "
            "on the seeds every N has, leaving out the others")
    if paired or n_common >= 5:
        slopes = per_seed_slopes(both)
        m, ci = mean_slope_t(slopes)
        out[f"mean of the seeds' own slopes, t interval ({int(np.isfinite(slopes).sum())} uncensored seeds"
            + ("" if paired else " run at every N") + ")"] = \
            Choice(dict(slope=m, ci=ci), "the seed is the unit and each seed gives one slope; the t interval is "
                   "exact for normal slopes at any number of seeds")
    out["N - 1, least-squares interval through the medians"] = Choice(
        stats(ctx, tuple(ctx.loglog.slope_ci) if ctx.ok else None),
        f"shown for comparison only: {count(len(times) - 2, 'residual degree of freedom', 'residual degrees of freedom')} through {len(times)} medians "
        "and the seeds behind each median ignored, so it cannot decide at this design", decides=False)
    return out


@dataclass(frozen=True)
class LinearEvidence(Section):
    """What the fig6b_linear verdict reads: the log-log slope of median t_ICL against N - 1 with its interval,
    and the rule's statistics under each analysis choice (:func:`linear_choices`)."""
    slope: float = kept()
    slope_lo: float = kept()
    slope_hi: float = kept()
    choices: dict = kept()


def linear_evidence(tn: TiclVsN) -> LinearEvidence:
    return linear_evidence_of(tn.times, tn.seeds)


def linear_evidence_of(times: dict, seeds: dict) -> LinearEvidence:
    """:class:`LinearEvidence` from ``times = {N: (E,) t_ICL, censored = inf}`` and ``seeds = {N: (E,) seed}``
    (paired when every N has the same seeds in the same order)."""
    s, ci = slope_against_context(times, same_seeds(seeds))
    return LinearEvidence(slope=s, slope_lo=ci[0], slope_hi=ci[1], choices=linear_choices(times, seeds))
