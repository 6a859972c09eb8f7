"""Chapter 9, bimodal outcomes near K* (Fig 6c): which seeds acquire ICL at one K near the threshold and when,
against the K = infinity acquisition times; how their final accuracies split; the split the memorisation curve
I_K(t) implies through eq 12 (an illustration); and the Fig 6c rule's statistics for the transformer at two K and
for the minimal model. Times are training iterations unless a name says otherwise."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import Choice
from .. import catalog, experiments
from .. import stats as st
from ..config import ICL_THRESHOLD, RunConfig
from ..theory import i_k, t_icl_eq11
from .memorization import invert_ik
from .outcomes import bimodality_stats, compare_acquisition_times
from .runs import acquired, censored_t_icl, members, n_context, safe_sweep_threshold
from .section import Section, glued, kept, plotted


@dataclass(frozen=True)
class ChoiceOfK(Section):
    K: float = glued()
    K_below: float = glued()
    n_acq_below: int = glued()
    n_below: int = glued()
    K_above: float = glued()
    n_acq_above: int = glued()
    n_above: int = glued()
    kstar_sweep: float = glued()
    kstar_K: float = glued()
    n_acq_kstar: int = glued()
    n_kstar: int = glued()
    K_minimal: float = glued()
    n_acq_minimal: int = glued()
    n_minimal: int = glued()


def choice_of_k(K: float, sweep=None, at_kstar=None, minimal=None, K_minimal: float = np.nan) -> ChoiceOfK:
    """How the chapter's K were chosen, from the stored runs: the neighbours of `K` on the sweep's K grid
    (chapter 1, ``sweep = (run, cfg)``) with how many of their seeds acquired ICL (ICL accuracy > 0.95 at some
    evaluation), the sweep's sigmoid K*, the first run at that K* (``at_kstar``) and the minimal model's sweep
    at `K_minimal` (chapter 2). NaN where a run is not stored."""
    nan = float("nan")
    numbers = dict(K=float(K), K_below=nan, n_acq_below=nan, n_below=nan, K_above=nan, n_acq_above=nan,
                   n_above=nan, kstar_sweep=nan, kstar_K=nan, n_acq_kstar=nan, n_kstar=nan,
                   K_minimal=float(K_minimal), n_acq_minimal=nan, n_minimal=nan)

    def count(run, Ks, k):
        sel = Ks == k
        return int(acquired(run)[sel].sum()), int(sel.sum())

    if sweep is not None:
        run, cfg = sweep
        Ks = members(cfg)["K"]
        below, above = Ks[Ks < K], Ks[Ks > K]
        if len(below):
            k = below.max()
            numbers.update(K_below=float(k), **dict(zip(("n_acq_below", "n_below"), count(run, Ks, k))))
        if len(above):
            k = above.min()
            numbers.update(K_above=float(k), **dict(zip(("n_acq_above", "n_above"), count(run, Ks, k))))
        numbers["kstar_sweep"] = float(safe_sweep_threshold(run, cfg, n_boot=200)[0].k_star)
    if at_kstar is not None:
        run, cfg = at_kstar
        numbers.update(kstar_K=float(cfg.Ks[0]), n_acq_kstar=int(acquired(run).sum()), n_kstar=cfg.E)
    if minimal is not None:
        run, cfg = minimal
        Ks = members(cfg)["K"]
        numbers.update(**dict(zip(("n_acq_minimal", "n_minimal"), count(run, Ks, K_minimal))))
    return ChoiceOfK.of(numbers)


def reference_times(ref, N: int, profile: str):
    """K = infinity t_ICL at context length N from a stored result with one K = infinity sub-run per N
    (``long_tail``; at the paper_net rung ``ticl_vs_n``), None if not stored: (times or None, a sentence saying
    where they come from)."""
    if ref is None:
        return None, f"no K = infinity reference at profile {profile} (ResultsError)"
    runs_n = {c.N: r for r, c in ref.configs().items() if c.Ks[0] is None}
    if N not in runs_n:
        return None, f"`{ref.experiment}` at profile {profile} has no K = infinity run at N = {N}"
    c = ref.configs()[runs_n[N]]
    t_inf = censored_t_icl(ref[runs_n[N]])
    return t_inf, (f"K = infinity: {len(t_inf)} seeds of `{ref.experiment}` run {runs_n[N]} (budget {c.steps} "
                   f"iterations, evaluated every {c.eval_every})")


@dataclass(frozen=True)
class TiclOutcomes(Section):
    K: float = glued()
    N: int = glued()
    n_seeds: int = glued()
    n_acquire: int = glued()
    frac_acquire: float = glued()
    frac_acquire_lo: float = glued()
    frac_acquire_hi: float = glued()
    budget: int = glued(plotted=True)
    mw_p: float = glued()
    late_frac: float = glued()
    ref_note: str = glued()
    median_k: float = glued()
    median_k_lo: float = glued()
    median_k_hi: float = glued()
    median_inf: float = glued()
    median_inf_lo: float = glued()
    median_inf_hi: float = glued()
    ratio: float = glued()
    ratio_lo: float = glued()
    ratio_hi: float = glued()
    ratio_note: str = glued()  # what the ratio's interval says, in words
    t_icl: np.ndarray = plotted()
    t_ref: np.ndarray = plotted()
    label: str = plotted()
    acq: np.ndarray = kept()
    p_acq: float = kept()


def ticl_outcomes(run: dict, cfg, t_inf, ref_note: str) -> TiclOutcomes:
    """Fig 6c (bottom): the fraction of seeds that acquire ICL (Wilson interval) and their t_ICL against the
    K = infinity times (:func:`compare_acquisition_times`)."""
    K = float(members(cfg)["K"][0])
    t_icl = censored_t_icl(run)           # +inf = never acquired within the budget
    acq = np.isfinite(t_icl)
    p_acq, p_lo, p_hi = st.proportion_ci(acq.sum(), cfg.E)
    cmp = compare_acquisition_times(t_icl, t_inf if t_inf is not None else [np.nan])
    numbers = dict(K=K, N=cfg.N, n_seeds=cfg.E, n_acquire=int(acq.sum()), frac_acquire=p_acq, frac_acquire_lo=p_lo,
                   frac_acquire_hi=p_hi, budget=cfg.steps, mw_p=cmp["mannwhitney_p"],
                   late_frac=cmp["frac_beyond_inf_q90"], ref_note=ref_note)
    for k in ("median_k", "median_inf", "ratio"):
        numbers.update({k: cmp[k], f"{k}_lo": cmp[f"{k}_ci"][0], f"{k}_hi": cmp[f"{k}_ci"][1]})
    numbers["ratio_note"] = ratio_note(cmp["ratio_ci"])
    figure = dict(t_icl=t_icl, budget=cfg.steps, t_ref=t_inf, label=f"K = {K:.0f}")
    return TiclOutcomes.of(numbers, figure, dict(t_icl=t_icl, acq=acq, p_acq=p_acq, K=K))


def ratio_note(ci) -> str:
    """What the 95% interval of (median t_ICL of the acquirers at K) / (median at K = infinity) says, in words."""
    lo, hi = ci
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "the ratio could not be computed"
    if lo > 1:
        return "the acquirers are slower than at K = ∞, the delay that I_K(t) < t predicts"
    if hi < 1:
        return ("the acquirers are faster than the median seed at K = ∞, as selection would make them: at finite K "
                "only the seeds fast enough to beat the MLP's memorisation acquire at all (the fast part of the "
                "K = ∞ distribution); the delay that I_K(t) < t predicts is not visible against it")
    return "the interval contains 1: no delay or selection is detectable"


@dataclass(frozen=True)
class FinalAccuracySplit(Section):
    bc: float = glued()
    bc_lo: float = glued()
    bc_hi: float = glued()
    frac_mid: float = glued()
    frac_mid_lo: float = glued()
    frac_mid_hi: float = glued()
    n_mid: int = glued()
    n_low: int = glued()
    n_high: int = glued()
    mid_drift_max: float = glued()
    steps: np.ndarray = plotted()
    icl_acc: np.ndarray = plotted()
    outcome: np.ndarray = plotted()


def final_accuracy_split(run: dict, acq, mid=(0.6, 0.9)) -> FinalAccuracySplit:
    """Fig 6c (curves): Sarle's bimodality coefficient and the intermediate fraction of final ICL accuracy
    (:func:`bimodality_stats`), and each seed's outcome (acquired, intermediate, never). ``mid_drift_max``: the
    largest change of ICL accuracy over the second half of training among the seeds that end intermediate
    (small: they sit on plateaus, they are not caught mid-rise)."""
    final = run["final_icl_acc"]
    bm = bimodality_stats(final, mid=mid)
    is_mid = (final > mid[0]) & (final < mid[1])
    outcome = np.where(acq, "acquired", np.where(is_mid, "intermediate", "never"))
    drift = [abs(r[np.isfinite(r)][-1] - r[np.isfinite(r)][np.isfinite(r).sum() // 2])
             for r in np.asarray(run["icl_acc"], float)[is_mid & ~np.asarray(acq, bool)]]
    numbers = dict(bc=bm["bc"], bc_lo=bm["bc_ci"][0], bc_hi=bm["bc_ci"][1], frac_mid=bm["frac_mid"],
                   frac_mid_lo=bm["frac_mid_ci"][0], frac_mid_hi=bm["frac_mid_ci"][1], n_mid=bm["n_mid"],
                   n_low=bm["n_low"], n_high=bm["n_high"],
                   mid_drift_max=float(max(drift)) if drift else float("nan"))
    return FinalAccuracySplit.of(numbers, dict(steps=run["steps"].astype(float), icl_acc=run["icl_acc"], outcome=outcome))


@dataclass(frozen=True)
class IkSplit(Section):
    ik_note: str = glued()
    t: np.ndarray | None = plotted(optional=True)
    ik_curves: dict | None = plotted(optional=True)
    t_icl_inf: np.ndarray | None = plotted(optional=True)
    highlight: float | None = plotted(optional=True)
    tau_iters: np.ndarray | None = plotted(optional=True)
    budget: int | None = plotted(optional=True)
    t_max: float | None = plotted(optional=True)


def ik_split(mem, cfg, out: TiclOutcomes, t_inf) -> IkSplit:
    """Fig 6c (top), an illustration of eq 12: I_K(t) of the MLP alone (chapter 5's runs, `mem`; log I_K
    interpolated linearly in log K between the stored K) at the K whose predicted fraction of acquirers is closest
    to the observed one, inverted at the K = infinity acquisition times (or eq 11's time if none is stored), and
    the fraction of acquirers predicted and observed in the second half of the budget. ``numbers["ik_note"]``
    says it in a sentence; an empty ``figure`` when `mem` is None."""
    profile_note = "The memorisation results are not stored at this profile (ResultsError): no illustration."
    if mem is None:
        return IkSplit.of(dict(ik_note=profile_note))
    t_icl, acq, p_acq, K = out.t_icl, out.acq, out.p_acq, out.K
    mcfg, mrun = mem.configs()["mlp"], mem["mlp"]
    mK = members(mcfg)["K"]
    tm = mcfg.lr * mrun["steps"].astype(float)
    ik_curves = {float(k): (tm, i_k(tm, np.nanmean(mrun["c1"][mK == k], axis=0))) for k in np.unique(mK)}
    if t_inf is not None and np.isfinite(t_inf).any():
        t_src, src = cfg.lr * t_inf, "the measured K = infinity acquisition times"  # gradient-flow time
    else:
        t_src = np.array([float(t_icl_eq11(n_context(cfg), 0.0))])
        src = "a single K = infinity time from eq 11 with beta0 = 0 (no stored K = infinity runs)"
    budget_t = cfg.lr * cfg.steps
    gridK = np.array(sorted(ik_curves))
    logI = np.log(np.maximum(np.array([ik_curves[k][1] for k in gridK]), 1e-12))
    fineK = np.geomspace(gridK[0], gridK[-1], 8 * len(gridK))

    def ik_at(k):
        return np.exp([np.interp(np.log(k), np.log(gridK), col) for col in logI.T])

    pred = {k: float(np.mean(invert_ik(tm, ik_at(k), t_src) <= budget_t)) for k in fineK}
    k_ill = float(round(min(pred, key=lambda k: (abs(pred[k] - p_acq), k))))
    ik_curves[k_ill] = (tm, ik_at(k_ill))
    pred[k_ill] = float(np.mean(invert_ik(*ik_curves[k_ill], t_src) <= budget_t))
    tau_it = invert_ik(*ik_curves[k_ill], t_src) / cfg.lr
    tf = tau_it[np.isfinite(tau_it) & (tau_it <= cfg.steps)]
    late_pred = float(np.mean(tf > cfg.steps / 2)) if len(tf) else np.nan
    late_obs = float(np.mean(t_icl[acq] > cfg.steps / 2)) if acq.any() else np.nan

    def pct(v):
        return "n/a" if not np.isfinite(v) else f"{v:.0%}"

    note = (f"With {src}, the memorisation curve at K = {k_ill:g} predicts that {pct(pred[k_ill])} of the runs "
            f"acquire ICL within our budget; of those, {pct(late_pred)} would acquire in the second half of the "
            f"budget (observed at K = {K:.0f}: {pct(late_obs)} of the acquirers; n/a = no acquirers).")
    figure = dict(t=tm, ik_curves=ik_curves, t_icl_inf=t_src, highlight=k_ill, tau_iters=tau_it, budget=cfg.steps,
                  t_max=budget_t)
    return IkSplit.of(dict(ik_note=note), figure)


CEILING = 0.99  # runs stop at the first evaluation above this ICL accuracy: their final values pile up just above it


def _dip_p(x) -> float:
    import diptest  # here, not at the top: `python -m icl_kinetics run` works without it
    return float(diptest.diptest(np.asarray(x, float))[1]) if len(x) >= 4 else float("nan")


def early_or_never(run: dict, cfg, threshold: float = ICL_THRESHOLD, late_at: float = 0.5,
                   chance: float = 0.6) -> dict:
    """The statistics of `verdicts.rule_early_or_never` for one run at one K: seeds that acquire ICL (accuracy above
    `threshold` at some evaluation within the budget, the first such evaluation being t_ICL), those of them that
    acquire late (t_ICL > `late_at` x budget) and the non-acquirers that end at chance (final ICL accuracy <=
    `chance`), with Wilson 95% intervals of the two fractions."""
    t = st.first_crossing(run["steps"], run["icl_acc"], threshold, strict=True)  # (E,), NaN = never
    acq = np.isfinite(t)
    late = acq & (t > late_at * cfg.steps)
    at_chance = ~acq & (np.asarray(run["final_icl_acc"], float) <= chance)
    n_acq, n_never = int(acq.sum()), int((~acq).sum())
    def ci(k, n):  # Wilson 95% interval, clipped to [0, 1] (its rounding can step just outside)
        return tuple(float(np.clip(v, 0, 1)) for v in st.proportion_ci(k, n)[1:]) if n else (np.nan, np.nan)
    return dict(n=cfg.E, n_acq=n_acq, n_never=n_never, n_late=int(late.sum()), n_chance=int(at_chance.sum()),
                late_ci=ci(late.sum(), n_acq), chance_ci=ci(at_chance.sum(), n_never))


RULE_STATS = ("n", "n_acq", "n_never", "late_ci", "chance_ci")
EARLY_OR_NEVER_WHY = (  # each seed is one independent run; counts with Wilson intervals are exact enough at these n
    "the paper's t_ICL histogram and never bar, counted per seed with Wilson intervals",
    "acquisition read earlier: seeds that stall just below 0.95 count as acquiring",
    "late read earlier: more of the acquirers count as late",
    "a looser bar for chance: seeds hovering just above it count as at chance")


def early_or_never_choices(run: dict, cfg) -> dict:
    """{analysis choice: rule statistics}: the chapter's (t_ICL at 0.95, late = second half of the budget, chance =
    final accuracy <= 0.6), then one change each: t_ICL at 0.9, late = after a third of the budget, chance <=
    0.65."""
    out = {}
    for name, kw in (("t_ICL at 0.95; late: second half; at chance: <= 0.6 (the chapter's)", {}),
                     ("t_ICL at 0.9", dict(threshold=0.9)), ("late: after a third of the budget", dict(late_at=1 / 3)),
                     ("at chance: final accuracy <= 0.65", dict(chance=0.65))):
        e = early_or_never(run, cfg, **kw)
        out[name] = Choice({k: e[k] for k in RULE_STATS}, EARLY_OR_NEVER_WHY[len(out)])
    return out


def k_half_between(first, second) -> float:
    """The K at which the fraction of seeds acquiring ICL is 1/2, with logit(fraction) linear in log K between two
    many-seed runs at one K each (``(run, cfg)`` pairs): how `bimodality_khalf`'s K was fixed before it ran."""
    from scipy.special import logit
    (k1, p1), (k2, p2) = ((float(c.Ks[0]), float(acquired(r).mean())) for r, c in (first, second))
    return _zero_in_log_k(k1, logit(p1), k2, logit(p2))


def _zero_in_log_k(k1: float, y1: float, k2: float, y2: float) -> float:
    """The K between k1 and k2 where y, linear in log K through (k1, y1) and (k2, y2), is 0."""
    x = np.log(k1) + (0 - y1) / (y2 - y1) * (np.log(k2) - np.log(k1))
    return float(np.exp(x))


def k_half_on_grid(run: dict, cfg: RunConfig) -> float:
    """The K at which the fraction of seeds acquiring ICL (accuracy above 0.95 within the budget) crosses 1/2 in
    a sweep with several seeds per K: between the first K where at least half acquire and the K below it, the
    empirical logit of the fraction, log((a + 1/2) / (n - a + 1/2)) for a of n seeds (finite at 0 and n), linear in
    log K; NaN when no K below half is followed by one at or above it. The rule, written before the run (issue 21
    item 5), that places the paper_net Fig 6c run at N = 50 on kstar_vs_n's paper_net N = 50 sweep."""
    K, acq = np.asarray(cfg.Ks, float), acquired(run)
    Ks = np.unique(K)
    a, n = (np.array([f(acq[K == k]) for k in Ks]) for f in (np.sum, len))
    frac, lg = a / n, np.log((a + 0.5) / (n - a + 0.5))
    up = np.flatnonzero(frac >= 0.5)
    if not len(up) or up[0] == 0:
        return np.nan
    i = up[0]
    if frac[i] == 0.5:
        return float(Ks[i])
    return _zero_in_log_k(Ks[i - 1], lg[i - 1], Ks[i], lg[i])


@dataclass(frozen=True)
class BimodalEvidence(Section):
    """What a Fig 6c verdict reads for one run (`verdicts.rule_early_or_never`): seeds, acquirers, late acquirers,
    non-acquirers and those of them at chance, the intervals of the two fractions, the rule's statistics under each
    analysis choice (:func:`early_or_never_choices`), and, descriptive only, the dip test's p on final accuracy."""
    n: int = kept()
    n_acq: int = kept()
    n_never: int = kept()
    n_late: int = kept()
    n_chance: int = kept()
    late_ci: tuple = kept()
    chance_ci: tuple = kept()
    dip_p: float = kept()
    choices: dict = kept()


def bimodal_evidence(run: dict, cfg) -> BimodalEvidence:
    e = early_or_never(run, cfg)
    final = np.asarray(run["final_icl_acc"], float)
    return BimodalEvidence(**e, dip_p=_dip_p(final[np.isfinite(final)]), choices=early_or_never_choices(run, cfg))


@dataclass(frozen=True)
class BimodalityRules(Section):
    tests: dict = kept()  # claim id -> BimodalEvidence
    rows: list = kept()


def bimodality_rules(runs: dict) -> BimodalityRules:
    """The Fig 6c evidence per claim id for ``runs = {claim id: (name, run, cfg)}`` and a
    table row per run (``rows``): seeds, acquirers, late acquirers, non-acquirers at chance, and the dip
    test on final accuracy with its ceiling-merged variant (descriptive: the ties at the early-stop ceiling make
    the raw p unreliable)."""
    bt, rows = {}, []
    for cid, (name, run, cfg) in runs.items():
        ev = bt[cid] = bimodal_evidence(run, cfg)
        x = np.asarray(run["final_icl_acc"], float)
        x = x[np.isfinite(x)]
        rows.append([name, f"{cfg.Ks[0]:.0f}", ev.n, ev.n_acq, f"{ev.n_late} [{ev.late_ci[0]:.2f}, {ev.late_ci[1]:.2f}]",
                     f"{ev.n_chance} of {ev.n_never} [{ev.chance_ci[0]:.2f}, {ev.chance_ci[1]:.2f}]",
                     f"{ev.dip_p:.2g}", f"{_dip_p(np.where(x >= CEILING, 1.0, x)):.2g}"])
    return BimodalityRules.of(dict(tests=bt, rows=rows))


@dataclass(frozen=True)
class KHalfDesign(Section):
    """What chapter 9's section at a rung says of `bimodality_khalf` there: its settings as defined, the K it was
    meant to sit at (``k_half``, recomputed from chapter 7's sweep at the same rung and N; NaN when that sweep is
    not stored) and how far the run is."""
    K: int = glued()
    N: int = glued()
    D: int = glued()
    width: int = glued()
    seeds: int = glued()
    shards: int = glued()
    budget: int = glued()
    k_half: float = glued()
    sweep_budget: float = glued()
    state: str = glued()
    commands: list = kept()  # one `run --only` per shard, one core each


def khalf_design(d) -> KHalfDesign:
    """:class:`KHalfDesign` of `bimodality_khalf` at ``d``'s rung (``d``: ``ladder.RungData``). ValueError when the run's K is not the even K
    nearest to the recomputed K_half, or its budget is not the sweep's: the page's account of how the run was
    placed would then be false."""
    defined = experiments.get(d.experiment).runs(d.profile)
    c = next(iter(defined.values()))
    sweep, sub = experiments.load_optional("kstar_vs_n", d.profile, d.out), f"N{c.N}"
    k_half, sweep_budget = np.nan, np.nan
    if sweep is not None and sub in sweep.runs:
        k_half = k_half_on_grid(sweep[sub], sweep.configs()[sub])
        sweep_budget = sweep.configs()[sub].steps
        if catalog.even(k_half) != c.Ks[0] or sweep_budget != c.steps:
            raise ValueError(f"{d.experiment} at {d.profile}: K = {c.Ks[0]} and {c.steps} iterations, but "
                             f"kstar_vs_n's N = {c.N} sweep puts K_half at {k_half:.1f} with {sweep_budget} "
                             "iterations; place the run again (catalog) before it is read")
    n_done = len(set(d.runs) & set(defined))
    state = ("complete: all shards finished and stored" if d.stored else
             f"partial: {n_done} of {len(defined)} shards finished" if n_done else
             f"not started: none of its {len(defined)} shards has finished")
    commands = [f"python -m icl_kinetics run {d.experiment} --profile {d.profile} --only {name}" for name in defined]
    return KHalfDesign.of(dict(K=c.Ks[0], N=c.N, D=c.D, width=c.width, seeds=sum(x.E for x in defined.values()),
                               shards=len(defined), budget=c.steps, k_half=k_half, sweep_budget=sweep_budget,
                               state=state, commands=commands))
