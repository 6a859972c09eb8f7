"""What the measured learning-rate clock means for a rung's budgets (chapter 13).

A rung on the cpu clock trains at five times the paper's learning rate for a fifth of its iterations. That gives
the paper's budget in gradient-flow time only if t_ICL in iterations scales as 1/lr. With the measured clock ratio
r (`ladder.clock_rung`: per seed, t_ICL in iterations at lr 0.01 over t_ICL at lr 0.05, median), the rung's
budget is worth r / 5 of the paper's for acquiring ICL. The stored curves cannot show a longer budget. They can
show how much a budget change of that size moves a statistic: here each budget-dependent statistic (K*, the K*
exponent, the Fig 6c never bar) is recomputed on the runs cut to r / 5 of their budget, and to the interval's
low end of r / 5, and the members that acquire ICL only after the cut are counted.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import stats as st
from ..config import RunConfig
from .ladder import RungData, Rung, chance_rung, clock_rung, kstar_exponent_rung, kstar_rung, rung_data
from .section import Section, glued, kept

ACQUIRED = 0.95  # t_ICL: the first evaluation with ICL accuracy above this (as every chapter)

# statistic -> (experiment, rung function): the ladder's statistics that a finite budget can change
BUDGET_STATISTICS = {"K*": ("phenomenology", kstar_rung), "K* exponent": ("kstar_vs_n", kstar_exponent_rung),
                     "never bar at chance": ("bimodality_khalf", chance_rung)}


def cut_run(run: dict, cfg: RunConfig, fraction: float) -> tuple[dict, RunConfig]:
    """The run as if its budget had been ``fraction`` of ``cfg.steps``: the curves (E, T) up to that step, each
    ``final_<x>`` the last finite value of curve ``<x>`` there (a member stopped early keeps its stopping value),
    ``t_icl`` NaN where it lies past the cut, and the config's ``steps`` the cut budget."""
    if not 0 < fraction <= 1:
        raise ValueError(f"budget fraction {fraction}: it must lie in (0, 1]")
    budget = int(fraction * cfg.steps)
    keep = np.asarray(run["steps"]) <= budget  # (T,)
    out = {"steps": np.asarray(run["steps"])[keep]}
    for key, value in run.items():
        v = np.asarray(value)
        if key != "steps" and v.ndim == 2 and v.shape[1] == keep.size:
            out[key] = v[:, keep]
    for key in run:
        curve = out.get(key[len("final_"):]) if key.startswith("final_") else None
        if curve is not None:
            ok = np.isfinite(curve)  # (E, T')
            last = np.where(ok.any(axis=1), ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
            out[key] = np.where(last >= 0, curve[np.arange(len(curve)), np.clip(last, 0, None)], np.nan)
        elif key not in out:
            out[key] = np.asarray(run[key])
    if "t_icl" in out:
        out["t_icl"] = np.where(np.asarray(out["t_icl"], float) <= budget, out["t_icl"], np.nan)
    return out, dataclasses.replace(cfg, steps=budget)


def cut_rung(d: RungData, fraction: float) -> RungData:
    """``d`` with every sub-run cut to ``fraction`` of its own budget (:func:`cut_run`)."""
    cut = {name: cut_run(d.runs[name], d.configs[name], fraction) for name in d.runs}
    return dataclasses.replace(d, runs={k: v[0] for k, v in cut.items()}, configs={k: v[1] for k, v in cut.items()})


def acquired_after(d: RungData, fraction: float) -> tuple[int, int]:
    """(members that acquire ICL only after ``fraction`` of their budget, members that acquire within it)."""
    late = total = 0
    for name, run in d.runs.items():
        t = st.first_crossing(run["steps"], run["icl_acc"], ACQUIRED, strict=True)  # (E,), NaN = never
        late += int(np.sum(t > fraction * d.configs[name].steps))
        total += int(np.sum(np.isfinite(t)))
    return late, total


@dataclass(frozen=True)
class BudgetSensitivity(Section):
    """The rung's clock ratio r with its interval, the budget fractions r / 5 it implies (point and low end,
    capped at 1), and per budget-dependent statistic a table row: the value on the full budget and on each cut
    budget, and how many acquirers acquire only after the harsher cut."""
    profile: str = glued()
    ratio: float = glued()
    ratio_lo: float = glued()
    ratio_hi: float = glued()
    fraction: float = glued()
    fraction_lo: float = glued()
    expected: float = glued()
    summary: str = glued()  # what the cuts did, one sentence computed from the rows
    rows: list = kept()
    rungs: dict = kept()  # statistic -> (full, at fraction, at fraction_lo): ladder.Rung each


def _cell(r: Rung) -> str:
    if not np.isfinite(r.value):
        return f"- ({r.note})" if r.note else "-"
    fmt = (lambda x: f"{x:,.0f}") if abs(r.value) >= 100 else (lambda x: f"{x:.2f}")
    partial = "" if r.status == "complete" else f" ({r.status})"
    return f"{fmt(r.value)} [{fmt(r.lo)}, {fmt(r.hi)}]{partial}"


def budget_sensitivity(profile: str, out=None) -> BudgetSensitivity:
    """:class:`BudgetSensitivity` at ``profile`` from its stored clock check (`ticl_clock` against `ticl_vs_n`) and
    the ladder's budget-dependent statistics there. ValueError when the rung has no clock ratio: without one there
    is no budget fraction to cut to."""
    clock_data = rung_data("ticl_clock", profile, out)
    clock = clock_rung(clock_data)
    if not np.isfinite(clock.value):
        raise ValueError(f"no lr clock ratio at {profile} ({clock.note}): run ticl_clock there first")
    slow = next(iter(clock_data.configs.values())).lr
    fast = next(iter(rung_data("ticl_vs_n", profile, out).configs.values())).lr
    expected = fast / slow
    fraction, fraction_lo = (float(min(x / expected, 1.0)) for x in (clock.value, clock.lo))
    rows, rungs = [], {}
    for stat, (experiment, rung_fn) in BUDGET_STATISTICS.items():
        d = rung_data(experiment, profile, out)
        if not d.runs:
            rows.append([stat, experiment, f"- ({d.status})", "-", "-", "-"])
            continue
        full, at, at_lo = (rung_fn(x) for x in (d, cut_rung(d, fraction), cut_rung(d, fraction_lo)))
        late, total = acquired_after(d, fraction_lo)
        rungs[stat] = (full, at, at_lo)
        rows.append([stat, experiment, _cell(full), _cell(at), _cell(at_lo), f"{late} of {total}"])
    return BudgetSensitivity.of(dict(profile=profile, ratio=clock.value, ratio_lo=clock.lo, ratio_hi=clock.hi,
                                     fraction=fraction, fraction_lo=fraction_lo, expected=expected,
                                     summary=summarize(rungs, fraction_lo)),
                                dict(rows=rows, rungs=rungs))


def summarize(rungs: dict, fraction_lo: float) -> str:
    """One sentence: which statistics the harsher cut moves outside their full-budget interval (a statistic with
    no value on either budget is named as such)."""
    moved, same, undefined = [], [], []
    for stat, (full, _, at_lo) in rungs.items():
        if not (np.isfinite(full.value) and np.isfinite(at_lo.value)):
            undefined.append(stat)
        elif full.lo <= at_lo.value <= full.hi:
            same.append(stat)
        else:
            moved.append(stat)
    parts = []
    if same:
        parts.append(f"cut to {fraction_lo:.2f} of its budget, {', '.join(same)} stay{'s' if len(same) == 1 else ''} "
                     "inside the full budget's 95% interval")
    if moved:
        parts.append(f"{', '.join(moved)} move{'s' if len(moved) == 1 else ''} outside it")
    if undefined:
        parts.append(f"{', '.join(undefined)}: no value on one of the budgets")
    return "; ".join(parts) if parts else "no budget-dependent statistic has data at this rung"
