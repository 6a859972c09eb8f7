"""What the measured learning-rate clock means for a rung's budgets (chapter 16).

A rung on the cpu clock trains at five times the paper's learning rate for a fifth of its iterations. That gives
the paper's budget in gradient-flow time only if t_ICL in iterations scales as 1/lr. With the measured clock ratio
r (`ladder.clock_rung`: per seed, t_ICL in iterations at lr 0.01 over t_ICL at lr 0.05, geometric mean; at
K = infinity and one N), the rung's budget is worth r / 5 of the paper's for acquiring ICL there. The stored curves
cannot show a longer budget. They can show how much a budget change of that size moves a statistic: each
budget-dependent statistic (K*, the K* exponent, the Fig 6c never bar) is recomputed on the runs cut to r / 5 of
their budget, and to the interval's low end of r / 5, and the members that acquire ICL only after the harsher cut
are counted. A cut shortens everything a member does (memorisation too), so it measures sensitivity to the
budget, not the paper's own budget.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import experiments
from .. import stats as st
from ..config import RunConfig
from .ladder import RungData, Rung, chance_rung, clock_rung, kstar_exponent_rung, kstar_rung, rung_data
from .section import Section, glued, kept

# statistic -> (experiment, rung function): the ladder's statistics that a finite budget can change
BUDGET_STATISTICS = {"K*": ("phenomenology", kstar_rung), "K* exponent": ("kstar_vs_n", kstar_exponent_rung),
                     "never bar at chance": ("bimodality_khalf", chance_rung)}
PER_MEMBER = ("t_icl", "stopped_at", "nonfinite")  # train's per-member arrays that are not a curve's final value


def cut_run(run: dict, cfg: RunConfig, fraction: float) -> tuple[dict, RunConfig]:
    """The run as if its budget had ended at the last evaluation at or before ``fraction`` x ``cfg.steps``: every
    curve ``<x>`` (those with a ``final_<x>``; (E, T)) up to that evaluation, ``final_<x>`` its last non-NaN
    value there (a member stopped early keeps its stopping value), ``t_icl`` NaN past the cut, ``stopped_at``
    at most the cut, ``nonfinite`` only where that happened by the cut, and the config's ``steps`` the cut.
    ValueError for a fraction outside (0, 1], a cut before the second evaluation, or an array it cannot cut."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget fraction {fraction}: it must lie in (0, 1]")
    steps = np.asarray(run["steps"])  # (T,) evaluation steps
    keep = steps <= fraction * cfg.steps  # (T,)
    if keep.sum() < 2:
        raise ValueError(f"budget fraction {fraction} of {cfg.steps} iterations keeps {keep.sum()} evaluation(s)")
    curves = [k for k in run if f"final_{k}" in run]
    unknown = set(run) - {"steps", *curves, *(f"final_{k}" for k in curves), *PER_MEMBER}
    if unknown:
        raise ValueError(f"cannot cut {', '.join(sorted(unknown))}: neither a curve with a final value nor one of "
                         f"{', '.join(PER_MEMBER)}")
    odd = [f"{k} {np.shape(run[k])}" for k in curves if np.ndim(run[k]) != 2 or np.shape(run[k])[1] != len(steps)]
    if odd:
        raise ValueError(f"cannot cut {', '.join(odd)}: a curve must be (members, {len(steps)} evaluations), one "
                         "column per entry of steps")
    budget = int(steps[keep][-1])
    out = {"steps": steps[keep]}
    for k in curves:
        out[k] = np.asarray(run[k])[:, keep]  # (E, T')
        out[f"final_{k}"] = st.last_finite(out[k])  # (E,)
    if "t_icl" in run:
        t = np.asarray(run["t_icl"], float)
        out["t_icl"] = np.where(t <= budget, t, np.nan)
    if "stopped_at" in run:
        stopped = np.asarray(run["stopped_at"])
        out["stopped_at"] = np.minimum(stopped, budget)
        if "nonfinite" in run:
            out["nonfinite"] = np.asarray(run["nonfinite"]) & (stopped <= budget)
    return out, dataclasses.replace(cfg, steps=budget)


def cut_rung(d: RungData, fraction: float) -> RungData:
    """``d`` with every sub-run cut to ``fraction`` of its own budget (:func:`cut_run`)."""
    cut = {name: cut_run(d.runs[name], d.configs[name], fraction) for name in d.runs}
    return dataclasses.replace(d, runs={k: v[0] for k, v in cut.items()}, configs={k: v[1] for k, v in cut.items()})


def acquired_after(d: RungData, cut: RungData) -> tuple[int, int]:
    """(members that acquire ICL in ``d`` but not in its cut ``cut``, members that acquire in ``d``); t_ICL as
    stored by the trainer (first evaluation with ICL accuracy above ``config.ICL_THRESHOLD``)."""
    full = np.concatenate([np.asarray(d.runs[k]["t_icl"], float) for k in d.runs])  # (E_total,)
    short = np.concatenate([np.asarray(cut.runs[k]["t_icl"], float) for k in d.runs])
    return int(np.sum(np.isfinite(full) & np.isnan(short))), int(np.sum(np.isfinite(full)))


@dataclass(frozen=True)
class BudgetRow:
    """One budget-dependent statistic at one rung: on the full budget, cut to r / 5 and cut to the interval's low
    end of r / 5 (None where that cut is not made: the fraction is 1, or not above 0), and the members that
    acquire only after the harsher cut made."""
    statistic: str
    experiment: str
    status: str                # the rung's data: "complete", "partial: ...", "not run"
    full: Rung | None          # None when the rung has no run of it
    at: Rung | None
    at_lo: Rung | None
    late: int
    acquirers: int

    def cells(self) -> list:
        """The page's table row."""
        if self.full is None:
            return [self.statistic, self.experiment, f"- ({self.status})", "-", "-", "-"]
        return [self.statistic, self.experiment, *(_cell(r) for r in (self.full, self.at, self.at_lo)),
                f"{self.late} of {self.acquirers}"]


def _cell(r: Rung | None) -> str:
    if r is None:
        return "no cut"
    if not np.isfinite(r.value):
        return f"- ({r.note})" if r.note else "-"
    fmt = (lambda x: f"{x:,.0f}") if abs(r.value) >= 100 else (lambda x: f"{x:.2f}")
    partial = "" if r.status == "complete" else f" ({r.status})"
    return f"{fmt(r.value)} [{fmt(r.lo)}, {fmt(r.hi)}]{partial}"


@dataclass(frozen=True)
class BudgetSensitivity(Section):
    """The rung's clock ratio r with its interval (measured at K = infinity, N = ``clock_n``), the budget fractions
    it implies (r / 5, point and low end), what that means in one sentence, the cuts' outcome in another, and a
    :class:`BudgetRow` per budget-dependent statistic."""
    profile: str = glued()
    ratio: float = glued()
    ratio_lo: float = glued()
    ratio_hi: float = glued()
    expected: float = glued()
    clock_n: int = glued()
    fraction: float = glued()
    fraction_lo: float = glued()
    worth: str = glued()    # what the ratio means for the budgets
    summary: str = glued()  # what the cuts did
    rows: tuple = kept()    # BudgetRow per statistic

    def table(self) -> list:
        return [r.cells() for r in self.rows]


def budget_sensitivity(profile: str, out=None) -> BudgetSensitivity:
    """:class:`BudgetSensitivity` at ``profile`` from its stored clock check (`ticl_clock` against `ticl_vs_n`) and
    the ladder's budget-dependent statistics there. ValueError when the rung has no clock ratio: without one there
    is no budget fraction to cut to."""
    clock_data = rung_data("ticl_clock", profile, out)
    clock = clock_rung(clock_data)
    if not np.isfinite(clock.value):
        raise ValueError(f"no lr clock ratio at {profile} ({clock.note}): run ticl_clock there first")
    slow = next(iter(clock_data.configs.values()))
    fast = next(iter(experiments.get("ticl_vs_n").runs(profile).values()))  # the catalog's: nothing loaded again
    expected = fast.lr / slow.lr
    fraction, fraction_lo = clock.value / expected, clock.lo / expected
    rows = []
    for stat, (experiment, rung_fn) in BUDGET_STATISTICS.items():
        d = rung_data(experiment, profile, out)
        if not d.runs:
            rows.append(BudgetRow(stat, experiment, d.status, None, None, None, 0, 0))
            continue
        cuts = {f: cut_rung(d, f) for f in (fraction, fraction_lo) if 0 < f < 1}
        at, at_lo = (rung_fn(cuts[f]) if f in cuts else None for f in (fraction, fraction_lo))
        harsher = cuts.get(fraction_lo, cuts.get(fraction, d))
        rows.append(BudgetRow(stat, experiment, d.status, rung_fn(d), at, at_lo, *acquired_after(d, harsher)))
    return BudgetSensitivity.of(dict(profile=profile, ratio=clock.value, ratio_lo=clock.lo, ratio_hi=clock.hi,
                                     expected=expected, clock_n=slow.N, fraction=fraction, fraction_lo=fraction_lo,
                                     worth=worth(fraction, fraction_lo, expected, slow.N),
                                     summary=summarize(rows, fraction_lo if 0 < fraction_lo < 1 else fraction)),
                                dict(rows=tuple(rows)))


def worth(fraction: float, fraction_lo: float, expected: float, n: int) -> str:
    """One sentence: what the measured clock ratio means for the rung's budgets."""
    where = f"for acquiring ICL at K = infinity and N = {n}, where the ratio was measured"
    if fraction >= 1:
        return (f"the ratio is at or above {expected:g}, so the rung's budgets are at least the paper's {where}; "
                "there is no shortfall to cut to")
    low = (f"{fraction_lo:.2f} at the interval's low end" if fraction_lo > 0 else
           "the interval's low end is 0 (a seed censored at the faster rate), so no cut is made there")
    return f"the rung's budgets are worth {fraction:.2f} of the paper's {where} ({low})"


def summarize(rows: list, harsher: float) -> str:
    """One sentence: which complete statistics the harsher cut (to ``harsher`` of the budget) leaves inside or
    moves outside their full-budget 95% interval; partial rungs (which decide nothing), statistics without a
    value or interval and those without a cut are named apart."""
    groups = {"stay": [], "move": [], "partial": [], "undefined": [], "uncut": []}
    for r in rows:
        cut = r.at_lo or r.at
        if r.full is None or r.status != "complete":
            groups["partial"].append(r.statistic)
        elif cut is None:
            groups["uncut"].append(r.statistic)
        elif not all(np.isfinite([r.full.value, r.full.lo, r.full.hi, cut.value])):
            groups["undefined"].append(r.statistic)
        else:
            groups["stay" if r.full.lo <= cut.value <= r.full.hi else "move"].append(r.statistic)
    parts = []
    for group, (one, many) in (("stay", ("stays", "stay")), ("move", ("moves", "move"))):
        if groups[group]:
            side = "inside" if group == "stay" else "outside"
            parts.append(f"{', '.join(groups[group])} {one if len(groups[group]) == 1 else many} {side} the full "
                         "budget's 95% interval")
    if parts:
        parts[0] = f"cut to {harsher:.2f} of its budget, {parts[0]}"
    for group, what in (("partial", "the rung is partial or not run (decides nothing)"),
                        ("undefined", "no value or interval on one of the budgets"), ("uncut", "no cut made")):
        if groups[group]:
            parts.append(f"{', '.join(groups[group])}: {what}")
    return "; ".join(parts) if parts else "no budget-dependent statistic at this rung"
