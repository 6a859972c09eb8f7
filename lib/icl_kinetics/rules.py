"""The verdict rules: the three outcomes and one plain function per claim, from measured statistics (numbers and
intervals) to (outcome, reason). Unit tests reach every outcome of every rule with synthetic inputs; the claims
that use them, and the scorecard, are :mod:`icl_kinetics.verdicts`."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
UNDECIDED = "not decided at this scale"
OUTCOMES = (REPRODUCED, NOT_REPRODUCED, UNDECIDED)


@dataclass(frozen=True)
class Verdict:
    claim: str
    outcome: str
    reason: str

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r}; one of {OUTCOMES}")

    def __str__(self):
        return f"{self.outcome} ({self.reason})"


@dataclass(frozen=True)
class Choice:
    """One row of a claim's choice table: the rule's statistics under one analysis of the same runs, and why a
    careful statistician would defend that analysis for this design (it resamples the experimental unit, the
    seed, or otherwise uses the runs behind each point, and is honest at this sample size). ``decides=False``
    keeps a row that could never decide here (say, a least-squares interval through three medians: one residual
    degree of freedom, the seeds behind each median ignored) on the page as a description; it is never a veto."""
    stats: dict
    why: str
    decides: bool = True

    def __post_init__(self):
        if not self.why.strip():
            raise ValueError("an analysis choice needs its one-line justification (Choice.why)")


def _finite(*xs) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def _iv(ci) -> str:
    """A 95% interval at two decimals; one whose ends coincide there says so instead of printing '[x, x]'."""
    lo, hi = (f"{c:.2f}" for c in ci)
    return f"[{lo}, {hi}]" if lo != hi else "(95% interval narrower than 0.01)"


# ----------------------------------------------------------------------------- rule shapes
def interval_vs_band(est: float, ci: tuple, target: float, tol: float, max_width: float, what: str) -> tuple:
    """The 95% interval `ci` of a measured `what` against the paper's value `target` +- `tol`.

    Reproduced if the interval meets the band; not reproduced if it misses it; not decided if the interval is
    undefined or wider than `max_width` (it could not tell the paper's value from a clearly different one).
    """
    if not _finite(est, *ci):
        return UNDECIDED, f"{what} could not be measured"
    lo, hi = float(ci[0]), float(ci[1])
    if hi - lo > max_width:
        return UNDECIDED, (f"{what} {est:.2f} {_iv(ci)}: the interval is wider than {max_width:g}, too wide to "
                           f"decide")
    band = (target - tol, target + tol)
    if hi >= band[0] and lo <= band[1]:
        return REPRODUCED, f"{what} {est:.2f} {_iv(ci)} meets {target:g} +- {tol:g}"
    return NOT_REPRODUCED, f"{what} {est:.2f} {_iv(ci)} lies outside {target:g} +- {tol:g}"


# ----------------------------------------------------------------------------- the rules, one per claim
def rule_transition(K, final_acc, kstar: float, kstar_ci: tuple, factor: float = 2.5, stat: str = "median") -> tuple:
    """Sharp transition: median final ICL accuracy at chance (< 0.6) for K < K*/2.5 and near perfect (> 0.95)
    for K > 2.5 K*, with a finite interval for K* (the whole rise within a decade of K). Not decided when the K
    grid has no run on one side. (The factor 2.5, and the median rather than the mean, are analysis choices.)"""
    K, acc = np.asarray(K, float), np.asarray(final_acc, float)
    if not _finite(kstar, *kstar_ci):
        return UNDECIDED, "K* has no finite interval"
    low, high = K < kstar / factor, K > kstar * factor
    if not low.any() or not high.any():
        return UNDECIDED, f"the K grid does not reach K*/{factor:g} and {factor:g} K* on both sides"
    f = np.median if stat == "median" else np.mean
    lo_acc, hi_acc = float(f(acc[low])), float(f(acc[high]))
    ok = lo_acc < 0.6 and hi_acc > 0.95
    return (REPRODUCED if ok else NOT_REPRODUCED,
            f"{stat} final ICL accuracy {lo_acc:.2f} below K*/{factor:g} and {hi_acc:.2f} above {factor:g} K*; "
            f"K* = {kstar:,.0f} [{kstar_ci[0]:,.0f}, {kstar_ci[1]:,.0f}]")


def rule_opposite(rho: float, rho_ci: tuple) -> tuple:
    """Opposite trends: the 95% interval of the correlation of final ICL and IWL accuracy across runs lies
    below -0.5 (reproduced) or above 0 (not reproduced)."""
    if not _finite(rho, *rho_ci):
        return UNDECIDED, "no correlation could be measured"
    if rho_ci[1] < -0.5:
        return REPRODUCED, f"correlation {rho:.2f} {_iv(rho_ci)} below -0.5"
    if rho_ci[0] > 0:
        return NOT_REPRODUCED, f"correlation {rho:.2f} {_iv(rho_ci)} above 0"
    return UNDECIDED, f"correlation {rho:.2f} {_iv(rho_ci)} neither below -0.5 nor above 0"


def rule_abrupt(ratio: float, n: int, start: float = 0.6, min_runs: int = 5, end: float = 0.95) -> tuple:
    """Abrupt acquisition: over >= 5 acquiring runs, the median of (rise time from the end of the plateau to
    0.95 ICL accuracy) / (iterations before the end of the plateau) is below 0.5. The plateau ends at ICL accuracy
    0.6 for the transformer (plateau at chance) and 0.7 for the minimal model, whose plateau is a majority vote at
    about 0.59 (chapter 2)."""
    if n < min_runs or not _finite(ratio):
        return UNDECIDED, f"{n} acquiring runs; deciding needs >= {min_runs}"
    return (REPRODUCED if ratio < 0.5 else NOT_REPRODUCED,
            f"median rise ({start:g} to {end:g}) / plateau {ratio:.2f} over {n} runs")


def rule_transience(n_transient: int, n_acquired: int, min_runs: int = 3) -> tuple:
    """Transience exists: at least 3 runs that reached 99% ICL accuracy fall back below 90% later (the paper's
    definition). Not reproduced if >= 3 runs acquired ICL and none fades."""
    if n_transient >= min_runs:
        return REPRODUCED, f"{n_transient} of {n_acquired} runs that acquired ICL fade"
    if n_acquired >= min_runs and n_transient == 0:
        return NOT_REPRODUCED, f"none of {n_acquired} runs that acquired ICL fades"
    return UNDECIDED, f"{n_transient} of {n_acquired} runs that acquired ICL fade; deciding needs >= {min_runs}"


def rule_ode_ratio(ratio: float, ci: tuple, factor: float = 1.5) -> tuple:
    """The ODE of eqs 7-8, fed the run's own c1(t), c2(t), describes the trained minimal model: the interval
    of (run time / ODE time to beta = log N) lies within a factor 1.5 of 1 (reproduced; eq 6 is an O(1/N)
    expansion and our contexts are short) or entirely outside it (not reproduced); not decided if it straddles
    a bound or no run acquired."""
    if not _finite(ratio, *ci):
        return UNDECIDED, "no acquiring run to compare"
    lo, hi = 1 / factor, factor
    if ci[0] >= lo and ci[1] <= hi:
        return REPRODUCED, f"run / ODE {ratio:.2f} {_iv(ci)} within a factor {factor:g} of 1"
    if ci[1] < lo or ci[0] > hi:
        return NOT_REPRODUCED, f"run / ODE {ratio:.2f} {_iv(ci)} beyond a factor {factor:g} of 1"
    return UNDECIDED, f"run / ODE {ratio:.2f} {_iv(ci)} straddles a factor {factor:g}"


def rule_flat(grad_ratio: float) -> tuple:
    """Flat region: the steepest loss gradient on the plotted (w, beta) window is >= 10x the gradient at the
    origin (a computation, no sampling)."""
    if not _finite(grad_ratio):
        return UNDECIDED, "not computed"
    return (REPRODUCED if grad_ratio >= 10 else NOT_REPRODUCED, f"steepest / origin gradient {grad_ratio:.0f}")


def rule_saddle(eig_neg: float, eig_pos: float, frac_balanced: float, frac_standard: float) -> tuple:
    """Eq 9 saddle: the Hessian at the origin has eigenvalues of both signs and fewer random starts reach ICL
    under eq 9 than under eq 6."""
    if not _finite(eig_neg, eig_pos, frac_balanced, frac_standard):
        return UNDECIDED, "not computed"
    ok = eig_neg < 0 < eig_pos and frac_balanced < frac_standard
    return (REPRODUCED if ok else NOT_REPRODUCED,
            f"eigenvalues {eig_neg:.2f}/N and {eig_pos:.2f}/N; {100 * frac_balanced:.0f}% vs "
            f"{100 * frac_standard:.0f}% of starts reach ICL")


def rule_slope(slope: float, target: float, tol: float = 0.2) -> tuple:
    """A slope computed from the ODE (no sampling error) within +-0.2 of the paper's value."""
    return interval_vs_band(slope, (slope, slope), target, tol, np.inf, "slope")


def rule_ode_tail(skew: float) -> tuple:
    """Long-tailed t_ICL under normally distributed beta_0 (ODE): sample skewness above 1."""
    if not _finite(skew):
        return UNDECIDED, "not computed"
    return (REPRODUCED if skew > 1 else NOT_REPRODUCED, f"skewness {skew:.2f}")


def rule_nu(nu: float, ci: tuple, low_ci: tuple, high_ci: tuple) -> tuple:
    """Memorisation scaling law: one power law with nu = 0.7 to the paper's one digit. Not reproduced if the
    exponents fitted on the lower and upper halves of the K range have disjoint 95% intervals (no single power
    law) or if the 95% seed-bootstrap interval of nu misses 0.7 +- 0.05; reproduced otherwise; not decided if
    an interval is undefined or wider than 0.3."""
    if not _finite(nu, *ci, *low_ci, *high_ci):
        return UNDECIDED, "nu or the half-range fits could not be measured"
    halves = f"halves of the K range give {_iv(low_ci)} and {_iv(high_ci)}"
    if low_ci[1] < high_ci[0] or high_ci[1] < low_ci[0]:
        return NOT_REPRODUCED, f"nu {nu:.2f} {_iv(ci)}, but {halves}: not a single power law"
    outcome, reason = interval_vs_band(nu, ci, 0.7, 0.05, 0.3, "nu")
    return outcome, f"{reason}; {halves}"


STALL_EXPONENT = 0.1  # c1 ~ t^-p with p below this over the second half of a run: memorisation has stalled


def rule_finite_ik(converged, stalled=None) -> tuple:
    """I_K(infinity) finite: I_K(t) converged within the budget for every K of the grid except at most the
    largest: reproduced. Not reproduced when memorisation has stalled at some K of the grid (every seed's c1
    decaying as t^-p with p below 0.1 over the second half of its run): c1 then sits on a plateau and I_K(t) grows linearly, the
    capacity-constrained case of section 3.6. Otherwise not decided: a K that has not converged, but still
    decays, cannot be told apart from a slowly convergent one; longer runs would decide it."""
    c = [bool(x) for x in converged]
    st = [bool(x) for x in stalled] if stalled is not None else [False] * len(c)
    if not c:
        return UNDECIDED, "no memorisation runs"
    if any(st):
        return NOT_REPRODUCED, (f"memorisation stalled (c1 plateau, p < {STALL_EXPONENT:g}) at {sum(st)} of "
                                f"{len(c)} values of K")
    if all(c[:-1]):
        return REPRODUCED, f"converged for {sum(c)} of {len(c)} values of K" + ("" if c[-1] else " (not the largest)")
    return UNDECIDED, (f"converged for {sum(c)} of {len(c)} values of K, not only the largest failing; none "
                       "stalled")


WD_TREND_MIN_RUNS, WD_TREND_MIN_LEVELS = 6, 3  # transient runs and weight decays Fig A.6's trend needs


def rule_wd_trend(rho: float, p: float, n_transient: int, n_levels: int) -> tuple:
    """Fig A.6: with >= 6 transient runs at >= 3 weight decays, the Spearman correlation of transience time
    with weight decay is negative with p < 0.05 (reproduced) or non-negative (not reproduced); not decided with
    fewer runs or a negative but non-significant correlation."""
    if n_transient < WD_TREND_MIN_RUNS or n_levels < WD_TREND_MIN_LEVELS or not _finite(rho, p):
        return UNDECIDED, (f"{n_transient} transient runs at {n_levels} weight decays; deciding needs >= 6 runs "
                           f"at >= 3 decays")
    if rho < 0 and p < 0.05:
        return REPRODUCED, f"Spearman rho {rho:.2f} (p = {p:.2g})"
    if rho >= 0:
        return NOT_REPRODUCED, f"Spearman rho {rho:.2f} (p = {p:.2g}) is not negative"
    return UNDECIDED, f"Spearman rho {rho:.2f} (p = {p:.2g}) not significant"


EQ16_MIN_RUNS = 3  # runs on the branch the eq 16 rule needs (chapters 6 and 11 quote it)


def rule_eq16(slope: float, ci: tuple, n_runs: int, intercept: float = float("nan"),
              intercept_ci: tuple = (float("nan"), float("nan")), min_runs: int = EQ16_MIN_RUNS) -> tuple:
    """Eq 16 predicts both the slope and the intercept of L_IWL against ln L_ICL: -1/2 and 0. On >= 3 runs
    of the branch, reproduced when the 95% run-bootstrap intervals of both meet -1/2 +- 0.15 and
    0 +- 0.15; not reproduced when either misses its band; not decided with fewer runs, an interval wider than
    0.5, or an intercept that could not be measured."""
    if n_runs < min_runs:
        return UNDECIDED, f"{n_runs} runs on the branch; deciding needs >= {min_runs}"
    s_out, s_reason = interval_vs_band(slope, ci, -0.5, 0.15, 0.5, "slope")
    b_out, b_reason = interval_vs_band(intercept, intercept_ci, 0.0, 0.15, 0.5, "intercept")
    if NOT_REPRODUCED in (s_out, b_out):
        outcome = NOT_REPRODUCED
    elif s_out == b_out == REPRODUCED:
        outcome = REPRODUCED
    else:
        outcome = UNDECIDED
    return outcome, f"{s_reason}; {b_reason} ({n_runs} runs)"


def rule_kstar_exponent(exponent: float, ci: tuple, inv_nu: float, inv_nu_range: tuple,
                        on_threshold: str = "") -> tuple:
    """Eq 13 at our scale: the 95% interval of the exponent of K* against the number of context items excludes
    1 (K* grows faster than linearly) and overlaps the range of 1/nu measured at the same scale (from the fits on
    the two halves of the memorisation K range, which brackets the curvature of I_K). Not
    reproduced if it excludes 1/nu's range, or lies at or below 1; not decided if it is wider than 0.5 or
    contains 1 while meeting 1/nu's range."""
    if not _finite(exponent, *ci, inv_nu, *inv_nu_range):
        return UNDECIDED, "exponent or 1/nu could not be measured"
    lo, hi = min(inv_nu_range), max(inv_nu_range)
    facts = f"exponent {exponent:.2f} {_iv(ci)}; 1/nu = {inv_nu:.2f}, range [{lo:.2f}, {hi:.2f}]"
    if ci[1] - ci[0] > 0.5:
        return UNDECIDED, facts + ": interval wider than 0.5"
    meets = ci[1] >= lo and ci[0] <= hi
    if not meets or ci[1] <= 1:
        return NOT_REPRODUCED, facts
    if ci[0] > 1:
        if on_threshold:
            return UNDECIDED, facts + f": {on_threshold}"
        return REPRODUCED, facts
    return UNDECIDED, facts + ": the interval also contains 1 (linear)"


def rule_linear(slope: float, ci: tuple) -> tuple:
    """Median t_ICL linear in N: the 95% interval of the log-log slope meets 1 +- 0.1; not decided if wider
    than 0.5."""
    return interval_vs_band(slope, ci, 1.0, 0.1, 0.5, "log-log slope")


def rule_early_or_never(n: int, n_acq: int, n_never: int, late_ci: tuple, chance_ci: tuple,
                        min_runs: int = 96, min_each: int = 10, max_late: float = 0.25) -> tuple:
    """Fig 6c decided on the paper's own quantity, the t_ICL histogram with its "never" bar (this rule was
    written before the run at the K where half the seeds should acquire). With >= 96 seeds at a K where both outcomes occur (at
    least 10 seeds acquire ICL and at least 10 do not within the budget; a run with fewer seeds whose rarer outcome
    would not reach 10 at 96 seeds is at the wrong K, whatever its size): reproduced when the acquirers acquire
    early (the Wilson 95% interval of the fraction of acquirers whose t_ICL lies in the second half of the
    budget is below 0.25) and the others never do, i.e. stay at chance (the interval of the fraction of the
    non-acquirers whose final ICL accuracy is at most 0.6 lies above 1/2); not reproduced when either interval
    lies on the wrong side; otherwise not decided. t_ICL is a first-crossing time of the ICL accuracy curve, so
    neither the early-stop ceiling (acquirers stop above 0.99) nor ties among final accuracies enter."""
    facts = f"{n} seeds, {n_acq} acquire ICL, {n_never} do not"
    projected = min(n_acq, n_never) * max(min_runs, n) / n if n else 0.0  # the rarer outcome at >= 96 seeds
    if projected < min_each:
        more = f"; {min_runs} seeds would bring about {projected:.0f}" if n < min_runs else ""
        return UNDECIDED, facts + (f": not both outcomes (each needs >= {min_each} seeds{more}); at this K one "
                                   "outcome is too rare to test")
    if n < min_runs:
        return UNDECIDED, facts + f"; deciding needs >= {min_runs} seeds"
    if not _finite(*late_ci, *chance_ci):
        return UNDECIDED, facts + "; statistics undefined"
    facts += (f"; fraction of acquirers that acquire late {_iv(late_ci)}; of non-acquirers at chance "
              f"{_iv(chance_ci)}")
    if late_ci[0] > max_late or chance_ci[1] < 0.5:
        return NOT_REPRODUCED, facts
    if late_ci[1] < max_late and chance_ci[0] > 0.5:
        return REPRODUCED, facts
    return UNDECIDED, facts + f": an interval holds its bound ({max_late:g} late, 1/2 at chance)"


def rule_long_tail(n_acquired: int, frac_censored: float, skew: float, skew_ci: tuple,
                   min_runs: int = 96) -> tuple:
    """Long-tailed t_ICL, tested as right skew only: with >= 96 acquiring runs and < 5% censored, the 95%
    interval of the skewness of t_ICL / median lies above 0 (reproduced) or does not (not reproduced). Any
    positive time with multiplicative noise passes this; it does not test the tail eq 37 predicts (chapter 10
    compares the tail with the log-normal that normally distributed beta_0 gives, descriptively)."""
    if n_acquired < min_runs:
        return UNDECIDED, f"{n_acquired} acquiring runs; deciding needs >= {min_runs}"
    if not (frac_censored < 0.05) or not _finite(skew, *skew_ci):
        return UNDECIDED, f"{100 * frac_censored:.0f}% of runs censored by the step budget"
    if skew_ci[0] > 0:
        return REPRODUCED, f"skewness {skew:.2f} {_iv(skew_ci)} > 0 over {n_acquired} runs"
    return NOT_REPRODUCED, f"skewness {skew:.2f} {_iv(skew_ci)} does not exclude 0 over {n_acquired} runs"


def rule_balanced(p_fewer: float, n_per_k: int, min_per_k: int = 5) -> tuple:
    """Balanced contexts: with >= 5 seeds per K and condition, fewer balanced than standard runs ever reach 95%
    ICL accuracy at the same K (stratified permutation test, one-sided p < 0.05: reproduced; otherwise not
    reproduced). 'Ever' rather than the paper's final accuracy because balanced runs collapse again and again
    after acquiring at this profile (chapter 12). The balanced evaluation admits a label-counting shortcut (the
    target's label is the context's minority label), so a run counted here as acquiring may have found the
    shortcut instead of copying; which one the runs that end above 0.75 (the paper's measure) found is the
    next claim's question."""
    if n_per_k < min_per_k or not _finite(p_fewer):
        return UNDECIDED, f"{n_per_k} seeds per K; deciding needs >= {min_per_k}"
    if p_fewer < 0.05:
        return REPRODUCED, f"fewer balanced runs acquire ICL: permutation p = {p_fewer:.2g}"
    return NOT_REPRODUCED, f"permutation p = {p_fewer:.2g}"


def rule_copying(copy_ci: tuple, n_acquired: int, min_acquired: int = 5) -> tuple:
    """Which solution the balanced-trained networks found (fixed before the run that answers it). Of
    the balanced-trained runs the paper's Fig 6e measure counts as acquiring ICL (final accuracy above 0.75 on
    balanced contexts), the fraction that copy: accuracy above 0.75 on conflict contexts, where the target's
    label is the context's majority and the minority-label shortcut answers the other label. With its Wilson 95%
    interval: reproduced (what the measure counts is ICL) when the interval lies above 1/2; not
    reproduced (most of them do not copy: they count labels or mix both) when it lies below 1/2; not decided when
    it contains 1/2 or fewer than 5 runs acquired. The chapter applies it to the lr 0.05 runs and to the lr 0.01
    control as rows of one choice table: the claim is about the experiment's networks, so a verdict that
    depends on the learning rate (or a control too small to decide) leaves it not decided."""
    if n_acquired < min_acquired or not _finite(*copy_ci):
        return UNDECIDED, f"{n_acquired} balanced-trained runs acquired; deciding needs >= {min_acquired}"
    if copy_ci[0] > 0.5:
        return REPRODUCED, f"the runs that acquire copy: fraction {_iv(copy_ci)} of {n_acquired} runs"
    if copy_ci[1] < 0.5:
        return NOT_REPRODUCED, (f"most runs that acquire do not copy: copying fraction {_iv(copy_ci)} of "
                                f"{n_acquired} runs")
    return UNDECIDED, f"copying fraction {_iv(copy_ci)} of {n_acquired} runs contains 1/2"


# ----------------------------------------------------------------------------- checks of the profiles' assumptions
def rule_clock(ratio: float, ci: tuple, expected: float = 5.0, tol: float = 0.1) -> str:
    """The lr x iterations clock that the cpu and paper_net profiles rest on (chapter 13; written before the MLP's
    clock run, `memorization_clock`): a time in iterations at lr 0.01 over the same time at lr 0.05 is `expected`
    if the theory's time is lr x iterations. 'holds' when the 95% interval lies within expected x (1 +- tol);
    'does not hold' when it misses that band; else 'not decided'. Not a claim of the paper: a sentence."""
    if not _finite(ratio, *ci):
        return "not decided: the ratio could not be measured"
    lo, hi = expected * (1 - tol), expected * (1 + tol)
    facts = f"ratio {ratio:.2f} {_iv(ci)} against [{lo:g}, {hi:g}]"
    if lo <= ci[0] and ci[1] <= hi:
        return f"holds: {facts}"
    if ci[1] < lo or ci[0] > hi:
        return f"does not hold: {facts}"
    return f"not decided: {facts} (the interval straddles a bound)"

