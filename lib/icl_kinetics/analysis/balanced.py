"""Chapter 12, balanced contexts (Fig 6e, A.8; eq 9): the probability of acquiring ICL against K with standard and
with balanced contexts, the sigmoid K* and the model-free K_1/2 of each, a stratified permutation test (fewer
acquirers with balanced contexts at the same K?), sub-optimal plateaus, and collapses of ICL accuracy."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import Choice
from .. import stats as st
from ..prose import join_and
from .outcomes import acquisition_vs_k, k_half, stratified_permutation_test, suboptimal_plateaus
from .runs import members, safe_sweep_threshold
from .section import Section, glued, kept, plotted
from .transience import collapses

ARMS = ("standard", "balanced")


def _fewer_with_balanced(K, standard, balanced, n_perm: int = 10000) -> dict:
    """Stratified (by K) permutation test that balanced runs succeed less often than standard ones."""
    return stratified_permutation_test(np.concatenate([K, K]), np.r_[np.zeros(len(standard), bool),
                                                                     np.ones(len(balanced), bool)],
                                       np.r_[standard, balanced], n_perm=n_perm)


@dataclass(frozen=True)
class Acquisition(Section):
    n_runs: int = glued()
    maxK: float = glued()
    perm_p: float = glued()
    perm_diff: float = glued()
    p_standard: float = glued()
    p_standard_lo: float = glued()
    p_standard_hi: float = glued()
    n_acq_standard: int = glued()
    kstar_standard: float = glued()
    kstar_standard_lo: float = glued()
    kstar_standard_hi: float = glued()
    kstar_note_standard: str = glued()
    khalf_standard: float = glued()
    p_standard_maxK: float = glued()
    p_standard_maxK_lo: float = glued()
    p_standard_maxK_hi: float = glued()
    p_balanced: float = glued()
    p_balanced_lo: float = glued()
    p_balanced_hi: float = glued()
    n_acq_balanced: int = glued()
    kstar_balanced: float = glued()
    kstar_balanced_lo: float = glued()
    kstar_balanced_hi: float = glued()
    kstar_note_balanced: str = glued()
    khalf_balanced: float = glued()
    p_balanced_maxK: float = glued()
    p_balanced_maxK_lo: float = glued()
    p_balanced_maxK_hi: float = glued()
    tables: dict = plotted()
    sweeps: dict = plotted()
    thresholds: dict = plotted()
    rows: list = kept()
    acq: dict = kept()
    K: np.ndarray = kept()


def acquisition(res) -> Acquisition:
    """Fig 6e: per arm the acquisition table against K (final ICL accuracy > 0.75), the sigmoid K* (200 bootstrap
    fits) and K_1/2, the overall and largest-K acquisition probabilities with Wilson intervals, and the permutation
    test. ``data["rows"]``: per K the acquirers of both arms."""
    cfgs = res.configs()
    tables, sweeps, thr, notes, khalf = {}, {}, {}, {}, {}
    for name in ARMS:
        c, r = cfgs[name], res[name]
        K = members(c)["K"]
        tables[name] = acquisition_vs_k(K, r["final_icl_acc"], threshold=0.75)
        sweeps[name] = (K, r["final_icl_acc"])
        thr[name], notes[name] = safe_sweep_threshold(r, c, n_boot=200)
        khalf[name] = k_half(tables[name])
    Ks_all = members(cfgs["standard"])["K"]
    if not np.array_equal(Ks_all, members(cfgs["balanced"])["K"]):
        raise ValueError("standard and balanced runs must share their K values run by run")
    acq = {name: tables[name]["acquired"] for name in ARMS}
    perm = _fewer_with_balanced(Ks_all, acq["standard"], acq["balanced"])
    numbers = dict(n_runs=len(acq["standard"]), maxK=float(Ks_all.max()), perm_p=perm["p_less"], perm_diff=perm["diff"])
    for name in ARMS:
        p, lo, hi = st.proportion_ci(acq[name].sum(), len(acq[name]))
        t = tables[name]
        numbers.update({f"p_{name}": p, f"p_{name}_lo": lo, f"p_{name}_hi": hi, f"n_acq_{name}": int(acq[name].sum()),
                        f"kstar_{name}": thr[name].k_star, f"kstar_{name}_lo": thr[name].ci[0],
                        f"kstar_{name}_hi": thr[name].ci[1],
                        f"kstar_note_{name}": "" if notes[name] == "ok" else f"; {notes[name]}",
                        f"khalf_{name}": khalf[name], f"p_{name}_maxK": t["p"][-1], f"p_{name}_maxK_lo": t["lo"][-1],
                        f"p_{name}_maxK_hi": t["hi"][-1]})
    rows = [[f"{k:.0f}"] + [f"{t['k'][i]} / {t['n'][i]} ({t['p'][i]:.2f}, {t['lo'][i]:.2f} to {t['hi'][i]:.2f})"
                            for t in (tables["standard"], tables["balanced"])]
            for i, k in enumerate(tables["standard"]["K"])]
    return Acquisition.of(numbers, dict(tables=tables, sweeps=sweeps, thresholds=thr), dict(rows=rows, acq=acq, K=Ks_all))


@dataclass(frozen=True)
class Plateaus(Section):
    n_plateau_balanced: int = glued()
    n_plateau_standard: int = glued()
    plateau_levels: str = glued()
    steps: np.ndarray = plotted()
    icl_acc: np.ndarray = plotted()
    K: np.ndarray = plotted()
    plateau: np.ndarray = plotted()


def plateaus(res) -> Plateaus:
    """Fig A.8: runs stuck on a sub-optimal ICL plateau per arm (:func:`suboptimal_plateaus`) and their levels with
    balanced contexts."""
    cfgs = res.configs()
    plat = {name: suboptimal_plateaus(res[name]["steps"], res[name]["icl_acc"]) for name in cfgs}
    numbers = {f"n_plateau_{name}": int(plat[name]["mask"].sum()) for name in cfgs}
    lv = plat["balanced"]["level"][plat["balanced"]["mask"]]
    numbers["plateau_levels"] = ", ".join(f"{v:.2f}" for v in np.sort(lv)) if len(lv) else "none"
    figure = dict(steps=res["balanced"]["steps"], icl_acc=res["balanced"]["icl_acc"],
                  K=members(cfgs["balanced"])["K"], plateau=plat["balanced"]["mask"])
    return Plateaus.of(numbers, figure)


@dataclass(frozen=True)
class CollapseCounts(Section):
    n_osc: int = glued()
    n_top2: int = glued()
    coll_std: int = glued()
    perm_ever_p: float = glued()
    rows: list = kept()
    ever: dict = kept()
    perm_ever: dict = kept()
    n_per_k: int = kept()


def collapse_counts(res, K) -> CollapseCounts:
    """Runs that ever exceeded 0.95 ICL accuracy and collapses of ICL accuracy (:func:`collapses`) per arm and K
    (``data["rows"]``), oscillating balanced runs (two or more collapses) at the two largest K, and the
    permutation test on "ever above 0.95"."""
    n_coll = {name: collapses(res[name]["icl_acc"]) for name in ARMS}
    ever = {name: np.nanmax(res[name]["icl_acc"], axis=1) > 0.95 for name in ARMS}
    top2 = K >= np.unique(K)[-2]
    rows = [[f"{k:.0f}", f"{ever['standard'][m].sum()} / {m.sum()}", f"{ever['balanced'][m].sum()} / {m.sum()}",
             n_coll["standard"][m].sum(), n_coll["balanced"][m].sum()] for k in np.unique(K) for m in [K == k]]
    perm_ever = _fewer_with_balanced(K, ever["standard"], ever["balanced"])
    numbers = dict(n_osc=int((n_coll["balanced"][top2] >= 2).sum()), n_top2=int(top2.sum()),
                   coll_std=int(n_coll["standard"].sum()), perm_ever_p=perm_ever["p_less"])
    return CollapseCounts.of(numbers, dict(rows=rows, ever=ever, perm_ever=perm_ever,
                                      n_per_k=int(min(np.sum(K == k) for k in np.unique(K)))))


@dataclass(frozen=True)
class BalancedEvidence(Section):
    """What the fig6e_balanced verdict reads: the permutation p that balanced contexts ever reach 0.95 ICL accuracy
    less often, the seeds per K, and the fractions per context kind."""
    p_fewer: float = kept()
    n_per_k: int = kept()
    ever_standard: float = kept()
    ever_balanced: float = kept()
    p_standard: float = kept()
    p_balanced: float = kept()
    choices: dict = kept()  # {analysis choice: balanced-rule statistics}: what counts as acquiring ICL


def _paper_lr_choice(K, final_acc) -> Choice:
    """Fig 6e's measure at the paper's learning rate, on the lr 0.01 control (balanced-trained runs only, no
    standard-trained arm at lr 0.01). When every balanced run ends above 0.75, the one-sided permutation p of
    'fewer balanced runs' is 1 whatever the standard runs would do (the balanced count is already the largest
    possible); otherwise it cannot be computed without the standard arm, and the row only describes."""
    n_per_k = int(min(np.sum(K == k) for k in np.unique(K)))
    passed = np.asarray(final_acc) > ACQUIRED
    why = ("the paper's learning rate and measure on the same clock; every balanced run passes, so balanced runs "
           "cannot be fewer whatever the standard ones do")
    if passed.all():
        return Choice(dict(p_fewer=1.0, n_per_k=n_per_k), why)
    return Choice(dict(p_fewer=float("nan"), n_per_k=n_per_k), "the paper's learning rate and measure; without "
                  "standard-trained runs at lr 0.01 the comparison cannot be made", decides=False)


def balanced_evidence(coll: CollapseCounts, acq: Acquisition, solution=None) -> BalancedEvidence:
    """``solution``: the `balanced_solution` result, when stored, adds the choice that scores the balanced-trained
    networks on standard contexts, as the authors' evaluation in effect does (departures page, item 4)."""
    ever, a = coll.ever, acq.acq
    choices = {"ever above 0.95 ICL accuracy (the chapter's)": Choice(
                   dict(p_fewer=coll.perm_ever["p_less"], n_per_k=coll.n_per_k),
                   "whether a seed ever acquired ICL, a permutation test of the seeds within each K (exact at any n)"),
               "final ICL accuracy above 0.75 (the paper's Fig 6e measure)": Choice(
                   dict(p_fewer=acq.perm_p, n_per_k=coll.n_per_k), "the paper's own measure, the same permutation "
                   "test")}
    if solution is not None:
        K = members(solution.configs()["balanced"])["K"]
        perm = _fewer_with_balanced(K, solution["standard"]["final_icl_acc"] > ACQUIRED,
                                    solution["balanced"]["final_icl_standard_acc"] > ACQUIRED)
        choices["final accuracy above 0.75, balanced-trained runs scored on standard contexts"] = Choice(dict(
            p_fewer=perm["p_less"], n_per_k=int(min(np.sum(K == k) for k in np.unique(K)))),
            "scores every network on the same contexts, so a shortcut of the balanced construction cannot count")
        if "balanced_lr0.01" in solution.runs:
            choices["final accuracy above 0.75 at the paper's learning rate (the lr 0.01 control)"] = _paper_lr_choice(
                members(solution.configs()["balanced_lr0.01"])["K"], solution["balanced_lr0.01"]["final_icl_acc"])
    return BalancedEvidence(p_fewer=coll.perm_ever["p_less"], n_per_k=coll.n_per_k,
                            ever_standard=float(ever["standard"].mean()), ever_balanced=float(ever["balanced"].mean()),
                            p_standard=float(a["standard"].mean()), p_balanced=float(a["balanced"].mean()),
                            choices=choices)


# ----------------------------------------------------------------------------- which solution (balanced_solution)
SOLUTION_ARMS = {"standard": "standard-trained, lr 0.05", "balanced": "balanced-trained, lr 0.05",
                 "balanced_lr0.01": "balanced-trained, lr 0.01 control"}
COPY_WHY = {"balanced": "the runs the paper's measure counts, per seed, Wilson interval",
            "balanced_lr0.01": "the same at the paper's learning rate on the same clock: lr 0.05 is ours, not theirs"}
ACQUIRED = 0.75  # the paper's Fig 6e measure: final ICL accuracy above 75% (on the training contexts)


@dataclass(frozen=True)
class Solutions(Section):
    """Which solution each run of `balanced_solution` found, from its final accuracies on balanced, standard and
    conflict contexts. A run *copies* when its conflict-context accuracy exceeds 0.75 (it answers the target's
    label where the minority-label shortcut answers the other one), *counts* when it is below 0.25, else *mixed*.
    The verdict's fraction is over the balanced-trained runs the paper's measure counts as acquiring ICL."""
    n_acquired: int = glued()
    n_copy: int = glued()
    n_count: int = glued()
    copy_frac: float = glued()
    copy_lo: float = glued()
    copy_hi: float = glued()
    n_acquired_slow: int = glued()
    n_copy_slow: int = glued()
    n_count_slow: int = glued()
    n_copy_standard: int = glued()
    n_acquired_standard: int = glued()
    same_as_balanced: str = glued()  # whether the lr 0.05 arms reproduce the stored `balanced` curves
    control_K: str = glued()  # the K of the lr 0.01 control, e.g. "1600, 3200 and 6400"
    coll_fast: int = glued()  # collapses (above 0.95, then below 0.75) of the lr 0.05 balanced runs at those K
    coll_slow: int = glued()  # the same for the lr 0.01 control (evaluated on the same lr x steps clock)
    osc_fast: int = glued()  # runs with two or more collapses, lr 0.05, at those K
    osc_slow: int = glued()
    n_control: int = glued()  # runs per arm in that comparison
    points: dict = plotted()  # {arm label: (final acc on training contexts, on standard, on conflict contexts)}
    rows: list = kept()
    copy_ci: tuple = kept()
    choices: dict = kept()  # {analysis choice: rule_copying statistics}


def _copying(a: dict, m=slice(None), copy_at: float = ACQUIRED) -> dict:
    """Counts for the members `m` of one arm's arrays `a`: runs acquired (final accuracy on the training contexts
    > 0.75), and of those the ones that copy (conflict accuracy > copy_at) or count (conflict accuracy
    < 1 - copy_at); the Wilson 95% interval of the copying fraction."""
    acquired, conflict = a["final_icl_acc"][m] > ACQUIRED, a["final_icl_conflict_acc"][m]
    n_acq, n_copy = int(acquired.sum()), int((acquired & (conflict > copy_at)).sum())
    return dict(n_acquired=n_acq, n_copy=n_copy, n_count=int((acquired & (conflict < 1 - copy_at)).sum()),
                copy_ci=st.wilson_interval(n_copy, n_acq) if n_acq else (float("nan"), float("nan")))


def solutions(res, stored=None) -> Solutions:
    """The chapter's table (per arm and K: acquired, copying, counting; median accuracies on standard and
    conflict contexts), the rule's statistics under each analysis choice, and whether the lr 0.05 arms
    reproduce `stored` (the `balanced` experiment's result) bit for bit."""
    arms, cfgs = [a for a in SOLUTION_ARMS if a in res.runs], res.configs()
    rows, points = [], {}
    for arm in arms:
        a, K = res[arm], members(cfgs[arm])["K"]
        points[SOLUTION_ARMS[arm]] = (a["final_icl_acc"], a["final_icl_standard_acc"], a["final_icl_conflict_acc"])
        for k in np.unique(K):
            c = _copying(a, K == k)
            rows.append([SOLUTION_ARMS[arm], f"{k:.0f}", f"{c['n_acquired']} / {np.sum(K == k)}", c["n_copy"],
                         c["n_count"], f"{np.median(a['final_icl_standard_acc'][K == k]):.2f}",
                         f"{np.median(a['final_icl_conflict_acc'][K == k]):.2f}"])
    fast, std = _copying(res["balanced"]), _copying(res["standard"])
    slow = _copying(res["balanced_lr0.01"]) if "balanced_lr0.01" in arms else dict(n_acquired=0, n_copy=0, n_count=0)
    choices = {}
    for arm in [a for a in ("balanced", "balanced_lr0.01") if a in arms]:
        for copy_at in (ACQUIRED, 0.9):
            c = _copying(res[arm], copy_at=copy_at)
            choices[f"{SOLUTION_ARMS[arm]}; copies: conflict accuracy > {copy_at:g}"] = Choice(dict(
                copy_ci=c["copy_ci"], n_acquired=c["n_acquired"]), COPY_WHY[arm] + (
                "" if copy_at == ACQUIRED else "; a stricter bar for copying"))
    same = "not compared (no stored `balanced` result)" if stored is None else _agreement(res, stored)
    # the collapses of chapter 12 at lr 0.05 against the lr 0.01 control, same K, same seeds, same clock
    coll = dict(control_K="", coll_fast=0, coll_slow=0, osc_fast=0, osc_slow=0, n_control=0)
    if "balanced_lr0.01" in arms:
        Kc = members(cfgs["balanced_lr0.01"])["K"]
        at = np.isin(members(cfgs["balanced"])["K"], np.unique(Kc))
        cf, cs = collapses(res["balanced"]["icl_acc"][at]), collapses(res["balanced_lr0.01"]["icl_acc"])
        ks = [f"{k:.0f}" for k in np.unique(Kc)]
        coll = dict(control_K=join_and(ks),
                    coll_fast=int(cf.sum()), coll_slow=int(cs.sum()), osc_fast=int((cf >= 2).sum()),
                    osc_slow=int((cs >= 2).sum()), n_control=len(cs))
    numbers = dict(**coll, n_acquired=fast["n_acquired"], n_copy=fast["n_copy"], n_count=fast["n_count"],
                   copy_frac=fast["n_copy"] / fast["n_acquired"] if fast["n_acquired"] else float("nan"),
                   copy_lo=fast["copy_ci"][0], copy_hi=fast["copy_ci"][1],
                   n_acquired_slow=slow["n_acquired"], n_copy_slow=slow["n_copy"], n_count_slow=slow["n_count"],
                   n_copy_standard=std["n_copy"], n_acquired_standard=std["n_acquired"], same_as_balanced=same)
    return Solutions.of(numbers, dict(points=points, rows=rows, copy_ci=fast["copy_ci"], choices=choices))


def _agreement(res, stored) -> str:
    """Whether the standard and balanced arms of `res` equal those of `stored` bit for bit ("yes"), else a
    sentence on how far apart they are: the evaluation before training, the training loss at the first evaluation
    after it, the final ICL accuracies and the runs that change side of 0.75."""
    arms, keys = ("standard", "balanced"), ("icl_acc", "iwl_acc", "train_loss")
    if all(np.array_equal(res[a][k], stored[a][k], equal_nan=True) for a in arms for k in keys):
        return "yes"
    parts = []
    for arm in arms:
        new, old = res[arm]["final_icl_acc"], stored[arm]["final_icl_acc"]
        flips = int(((new > ACQUIRED) != (old > ACQUIRED)).sum())
        parts.append(f"{arm}: final ICL accuracies differ by up to {np.nanmax(np.abs(new - old)):.2f}, "
                     f"{flips} of {len(new)} runs change side of 0.75")
    first = all(np.array_equal(res[a]["icl_acc"][:, 0], stored[a]["icl_acc"][:, 0]) for a in arms)
    col = min(1, res["standard"]["train_loss"].shape[1] - 1)  # the first evaluation after step 0
    drift = max(float(np.nanmax(np.abs(res[a]["train_loss"][:, col] - stored[a]["train_loss"][:, col]))) for a in arms)
    return ("no; " + ("the evaluations before training agree exactly, " if first else "") +
            f"the training losses at the first evaluation differ by up to {drift:.1e}; " + "; ".join(parts))
