"""Chapter 12, balanced contexts (Fig 6e, A.8; eq 9): the probability of acquiring ICL against K with standard and
with balanced contexts, the sigmoid K* and the model-free K_1/2 of each, a stratified permutation test (fewer
acquirers with balanced contexts at the same K?), sub-optimal plateaus, and collapses of ICL accuracy."""
from __future__ import annotations

import numpy as np

from .. import stats as st
from .outcomes import acquisition_vs_k, k_half, stratified_permutation_test, suboptimal_plateaus
from .runs import members, safe_sweep_threshold
from .section import Section
from .transience import collapses

ARMS = ("standard", "balanced")


def _fewer_with_balanced(K, standard, balanced, n_perm: int = 10000) -> dict:
    """Stratified (by K) permutation test that balanced runs succeed less often than standard ones."""
    return stratified_permutation_test(np.concatenate([K, K]), np.r_[np.zeros(len(standard), bool),
                                                                     np.ones(len(balanced), bool)],
                                       np.r_[standard, balanced], n_perm=n_perm)


def acquisition(res) -> Section:
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
                        f"kstar_{name}_hi": thr[name].ci[1], f"kstar_note_{name}": notes[name],
                        f"khalf_{name}": khalf[name], f"p_{name}_maxK": t["p"][-1], f"p_{name}_maxK_lo": t["lo"][-1],
                        f"p_{name}_maxK_hi": t["hi"][-1]})
    rows = [[f"{k:.0f}"] + [f"{t['k'][i]} / {t['n'][i]} ({t['p'][i]:.2f}, {t['lo'][i]:.2f} to {t['hi'][i]:.2f})"
                            for t in (tables["standard"], tables["balanced"])]
            for i, k in enumerate(tables["standard"]["K"])]
    return Section(numbers, dict(tables=tables, sweeps=sweeps, thresholds=thr), dict(rows=rows, acq=acq, K=Ks_all))


def plateaus(res) -> Section:
    """Fig A.8: runs stuck on a sub-optimal ICL plateau per arm (:func:`suboptimal_plateaus`) and their levels with
    balanced contexts."""
    cfgs = res.configs()
    plat = {name: suboptimal_plateaus(res[name]["steps"], res[name]["icl_acc"]) for name in cfgs}
    numbers = {f"n_plateau_{name}": int(plat[name]["mask"].sum()) for name in cfgs}
    lv = plat["balanced"]["level"][plat["balanced"]["mask"]]
    numbers["plateau_levels"] = ", ".join(f"{v:.2f}" for v in np.sort(lv)) if len(lv) else "none"
    figure = dict(steps=res["balanced"]["steps"], icl_acc=res["balanced"]["icl_acc"],
                  K=members(cfgs["balanced"])["K"], plateau=plat["balanced"]["mask"])
    return Section(numbers, figure)


def collapse_counts(res, K) -> Section:
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
    return Section(numbers, data=dict(rows=rows, ever=ever, perm_ever=perm_ever,
                                      n_per_k=int(min(np.sum(K == k) for k in np.unique(K)))))
