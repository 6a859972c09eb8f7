"""Eq 16, the relation between the ICL and IWL losses (section 3.7, Fig 6d; chapters 6 and 11): its two
branches fitted on the runs that show transience, how a slope compares with the predicted -1/2, the choice of the
loss cut, and what the eq 16 verdicts read. Curves are (E, T) arrays sampled at run["steps"]; which evaluations
lie on which branch is decided in :mod:`.transience`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import EQ16_MIN_RUNS, Choice
from .. import fits
from .. import stats as st
from ..config import RunConfig
from .section import Section, glued, kept, plotted
from .transience import branch_mask, classify_transience


def loss_relation_fit(icl_loss, iwl_loss, mask, max_loss: float = 0.1, n_boot: int = 2000, seed: int = 0,
                      swap: bool = False) -> dict:
    """Fit eq 16 on the selected evaluations: L_IWL = slope * log(L_ICL) + intercept (prediction: slope -1/2,
    intercept 0), using the points of `mask` (E, T) with L_ICL < `max_loss` (the L_ICL << 1 condition).
    ``swap=True`` fits the second relation instead, L_ICL = slope * log(L_IWL) + intercept with L_IWL < max_loss.

    Points of one member are serially correlated, so the 95% interval ``slope_ci`` is a cluster bootstrap that
    resamples whole members; ``slope_ci_ols`` is the naive least-squares interval treating points as
    independent. With fewer than 2 members or 3 points the result holds NaNs and ``note`` says why.
    Returns dict(slope, intercept, slope_ci, slope_ci_ols, intercept_ci, n_points, n_members, note, x, y, member).
    """
    a, b = (np.asarray(iwl_loss, float), np.asarray(icl_loss, float)) if swap else \
        (np.asarray(icl_loss, float), np.asarray(iwl_loss, float))
    sel = np.asarray(mask, bool) & np.isfinite(a) & np.isfinite(b) & (a > 0) & (a < max_loss)
    member = np.nonzero(sel)[0]
    x, y = np.log(a[sel]), b[sel]
    out = dict(slope=np.nan, intercept=np.nan, slope_ci=(np.nan, np.nan), slope_ci_ols=(np.nan, np.nan),
               intercept_ci=(np.nan, np.nan), n_points=int(sel.sum()), n_members=int(len(np.unique(member))),
               note="ok", x=x, y=y, member=member)
    if out["n_points"] < 3 or np.ptp(x) == 0:
        out["note"] = f"only {out['n_points']} usable points: no fit"
        return out
    lf = fits.linear_fit(x, y)
    out.update(slope=float(lf.slope), intercept=float(lf.intercept), slope_ci_ols=tuple(lf.slope_ci))
    ids = np.unique(member)
    if len(ids) < 2:
        out["note"] = "a single member: only the naive least-squares interval"
        return out
    clusters = [np.flatnonzero(member == i) for i in ids]
    boot = st.replicates(lambda idx: np.polyfit(x[idx], y[idx], 1) if np.ptp(x[idx]) > 0 else None,
                         n_boot=n_boot, seed=seed, clusters=clusters)
    if boot:
        boot = np.asarray(boot)
        out["slope_ci"], out["intercept_ci"] = st.interval(boot[:, 0]), st.interval(boot[:, 1])
    return out


def eq16_fits(run: dict, max_loss: float = 0.1, n_boot: int = 2000, seed: int = 0) -> dict:
    """Both relations of eq 16 fitted on the runs that show transience (chapter 6's selection: the paper uses
    transient runs; if there are none, every run that reached 99% ICL accuracy).

    ``icl``: :func:`loss_relation_fit` of L_IWL against log L_ICL on the ICL branch (after acquisition, before
    fading; L_ICL < max_loss). ``faded``: L_ICL against log L_IWL after ICL faded (L_IWL < max_loss). Both slopes
    are predicted to be -1/2. Also returns ``classes`` (:func:`classify_transience`), ``selected`` (E,) bool,
    ``which`` (a description of the selection) and the two (E, T) branch masks.
    """
    acc = np.asarray(run["icl_acc"], float)
    classes = classify_transience(acc)
    sel, which = _runs_for_fit(classes)
    icl_m, fad_m = branch_mask(acc, "icl"), branch_mask(acc, "faded")
    f1 = loss_relation_fit(run["icl_loss"], run["iwl_loss"], icl_m & sel[:, None], max_loss=max_loss,
                           n_boot=n_boot, seed=seed)
    f2 = loss_relation_fit(run["icl_loss"], run["iwl_loss"], fad_m & sel[:, None], max_loss=max_loss,
                           n_boot=n_boot, seed=seed, swap=True)
    return dict(icl=f1, faded=f2, classes=classes, selected=sel, which=which, icl_mask=icl_m, faded_mask=fad_m)


def slope_status(slope: float, ci: tuple, predicted: float = -0.5) -> str:
    """How a fitted slope with 95% interval `ci` compares with a negative prediction: "consistent" (the
    prediction lies inside the interval), "right sign" (interval entirely below 0 but excluding the prediction),
    "inconsistent" (interval touches 0 or is positive), "untestable" (NaN)."""
    if not (np.isfinite(slope) and np.all(np.isfinite(ci))):
        return "untestable"
    if ci[0] <= predicted <= ci[1]:
        return "consistent"
    if ci[1] < 0:
        return "right sign"
    return "inconsistent"


# each status as the page says it: about the slope alone (eq 16 also fixes the intercept; the verdict tests both)
STATUS_WORDS = {"consistent": "the slope alone is consistent with \u22121/2",
                "right sign": "the slope is negative but excludes \u22121/2",
                "inconsistent": "the slope is not negative: inconsistent with eq 16",
                "untestable": "too few points to fit"}


def _runs_for_fit(classes):
    """The paper fits eq 16 on runs that show transience; if there is none, every run that reached 99% ICL
    accuracy."""
    sel = classes == "transient"
    return (sel, "transient runs") if sel.any() else (classes != "never",
                                                      "runs that reached 99% ICL accuracy (none transient)")


def _branches(run: dict, sel):
    """(L_ICL, L_IWL) of the selected runs on the ICL branch and after fading, and the two branch masks."""
    icl_m, fad_m = branch_mask(run["icl_acc"], "icl"), branch_mask(run["icl_acc"], "faded")
    b = dict(icl=[], faded=[])
    for e in np.flatnonzero(sel):
        b["icl"].append((run["icl_loss"][e, icl_m[e]], run["iwl_loss"][e, icl_m[e]]))
        b["faded"].append((run["icl_loss"][e, fad_m[e]], run["iwl_loss"][e, fad_m[e]]))
    return b, icl_m, fad_m


@dataclass(frozen=True)
class LossRelations(Section):
    max_loss: float = glued()
    slope_t: float = glued()
    slope_t_lo: float = glued()
    slope_t_hi: float = glued()
    slope_t_olslo: float = glued()
    slope_t_olshi: float = glued()
    icpt_t: float = glued()
    npts_t: int = glued()
    nmem_t: int = glued()
    slope_m: float = glued()
    slope_m_lo: float = glued()
    slope_m_hi: float = glued()
    slope_m_olslo: float = glued()
    slope_m_olshi: float = glued()
    icpt_m: float = glued()
    npts_m: int = glued()
    nmem_m: int = glued()
    slope_t2: float = glued()
    slope_t2_lo: float = glued()
    slope_t2_hi: float = glued()
    slope_t2_olslo: float = glued()
    slope_t2_olshi: float = glued()
    icpt_t2: float = glued()
    npts_t2: int = glued()
    nmem_t2: int = glued()
    panels: dict = plotted()
    fit: dict = plotted()
    t: dict = kept()
    m: dict = kept()
    t2: dict = kept()


def loss_relations(run: dict, classes, mrun: dict, mclasses, max_loss: float = 0.1) -> LossRelations:
    """Fig 6d: eq 16's first relation fitted on the ICL branch of the transformer (``t``) and of the minimal model
    (``m``), and the second relation after fading in the transformer (``t2``) (:func:`loss_relation_fit`)."""
    sel_t, which_t = _runs_for_fit(classes)
    sel_m, which_m = _runs_for_fit(mclasses)
    b_t, icl_t, fad_t = _branches(run, sel_t)
    b_m, icl_mm, _ = _branches(mrun, sel_m)
    fits_ = dict(t=loss_relation_fit(run["icl_loss"], run["iwl_loss"], icl_t & sel_t[:, None], max_loss=max_loss),
                 m=loss_relation_fit(mrun["icl_loss"], mrun["iwl_loss"], icl_mm & sel_m[:, None], max_loss=max_loss),
                 t2=loss_relation_fit(run["icl_loss"], run["iwl_loss"], fad_t & sel_t[:, None], max_loss=max_loss,
                                      swap=True))
    numbers = dict(max_loss=max_loss)
    for name, f in fits_.items():
        numbers.update({f"slope_{name}": f["slope"], f"slope_{name}_lo": f["slope_ci"][0],
                        f"slope_{name}_hi": f["slope_ci"][1], f"slope_{name}_olslo": f["slope_ci_ols"][0],
                        f"slope_{name}_olshi": f["slope_ci_ols"][1], f"icpt_{name}": f["intercept"],
                        f"npts_{name}": f["n_points"], f"nmem_{name}": f["n_members"]})
    panels = {f"one-layer transformer ({which_t})": b_t, f"minimal model ({which_m})": b_m}
    return LossRelations.of(numbers, dict(panels=panels, fit=fits_["t"]), fits_)


@dataclass(frozen=True)
class Eq16Transformer(Section):
    slope: float = glued()
    slope_lo: float = glued()
    slope_hi: float = glued()
    intercept: float = glued()
    npts: int = glued()
    nruns: int = glued()
    slope2: float = glued()
    slope2_lo: float = glued()
    slope2_hi: float = glued()
    intercept2: float = glued()
    npts2: int = glued()
    nruns2: int = glued()
    status: str = glued()
    status2: str = glued()
    which: str = glued()
    n_transient: int = glued()
    n_runs: int = glued()
    max_loss: float = glued()
    panel: dict = plotted()
    fit_icl: dict = plotted()
    fit_faded: dict = plotted()
    icl: dict = kept()
    faded: dict = kept()
    classes: np.ndarray = kept()
    selected: np.ndarray = kept()
    icl_mask: np.ndarray = kept()
    faded_mask: np.ndarray = kept()


def eq16_transformer(run: dict, cfg: RunConfig, max_loss: float = 0.1) -> Eq16Transformer:
    """Chapter 11, Fig 6d: both relations of eq 16 in the one-layer transformer (:func:`eq16_fits`), how each
    slope compares with -1/2 (:func:`slope_status`), and the two branches of the selected runs for the figure."""
    f = eq16_fits(run, max_loss=max_loss)
    sel = np.flatnonzero(f["selected"])
    panel = {b: [(run["icl_loss"][e, f[f"{m}_mask"][e]], run["iwl_loss"][e, f[f"{m}_mask"][e]]) for e in sel]
             for b, m in (("icl", "icl"), ("faded", "faded"))}
    numbers = {}
    for name, g in (("", f["icl"]), ("2", f["faded"])):
        numbers.update({f"slope{name}": g["slope"], f"slope{name}_lo": g["slope_ci"][0],
                        f"slope{name}_hi": g["slope_ci"][1], f"intercept{name}": g["intercept"],
                        f"npts{name}": g["n_points"], f"nruns{name}": g["n_members"]})
    numbers.update(status=STATUS_WORDS[slope_status(f["icl"]["slope"], f["icl"]["slope_ci"])],
                   status2=STATUS_WORDS[slope_status(f["faded"]["slope"], f["faded"]["slope_ci"])], which=f["which"],
                   n_transient=int((f["classes"] == "transient").sum()), n_runs=cfg.E, max_loss=max_loss)
    return Eq16Transformer.of(numbers, dict(panel=panel, fit_icl=f["icl"], fit_faded=f["faded"]), f)


def eq16_cut_sensitivity(run: dict, cuts=(0.03, 0.1, 0.3), n_boot: int = 1000) -> list:
    """Rows (cut, slope of each branch with its interval and number of points) of eq 16 fitted with the loss cuts."""
    rows = []
    for cut in cuts:
        g = eq16_fits(run, max_loss=cut, n_boot=n_boot)
        rows.append([f"{cut:g}"] + [f"{h['slope']:.2f} ({h['slope_ci'][0]:.2f} to {h['slope_ci'][1]:.2f}, "
                                    f"{h['n_points']})" for h in (g["icl"], g["faded"])])
    return rows


EQ16_CUTS = (0.1, 0.03, 0.3)  # the loss cut of the L << 1 branch: the chapters' 0.1 first, then the alternatives


CUT_WHY = ("eq 16 holds where the ICL loss is small; the cut says how small, and the run bootstrap resamples the "
           "runs on the branch")


def eq16_rule_stats(fit: dict) -> dict:
    """The statistics the eq 16 rule reads (`verdicts.rule_eq16`) from a :func:`loss_relation_fit`."""
    return dict(slope=fit["slope"], ci=fit["slope_ci"], intercept=fit["intercept"], intercept_ci=fit["intercept_ci"],
                n_runs=fit["n_members"])


def _cut_choice(fit: dict, chapters: bool) -> Choice:
    """One loss cut as an analysis choice. Another cut on which fewer runs than the rule's minimum reach the
    branch cannot decide by the rule's own terms on these runs: it is kept as a description, never a veto."""
    stats = eq16_rule_stats(fit)
    if chapters or stats["n_runs"] >= EQ16_MIN_RUNS:
        return Choice(stats, CUT_WHY)
    return Choice(stats, f"{CUT_WHY}; at this cut fewer than {EQ16_MIN_RUNS} runs reach the branch, the rule's "
                  "minimum, so it describes and cannot decide", decides=False)


def eq16_choices_transformer(run: dict, cuts=EQ16_CUTS) -> dict:
    """{analysis choice: eq 16 rule statistics} for the transformer's ICL branch (chapter 11) at each loss cut."""
    return {f"loss cut {c:g}" + (" (the chapter's)" if i == 0 else ""): _cut_choice(eq16_fits(run, c)["icl"], i == 0)
            for i, c in enumerate(cuts)}


def eq16_choices_minimal(run: dict, classes, mrun: dict, mclasses, cuts=EQ16_CUTS) -> dict:
    """{analysis choice: eq 16 rule statistics} for the minimal model's ICL branch (chapter 6) at each loss cut."""
    return {f"loss cut {c:g}" + (" (the chapter's)" if i == 0 else ""):
            _cut_choice(loss_relations(run, classes, mrun, mclasses, max_loss=c).m, i == 0)
            for i, c in enumerate(cuts)}


@dataclass(frozen=True)
class Eq16Evidence(Section):
    """What an eq 16 verdict (eq16_minimal, fig6d_eq16) reads: the fit of the chapter's analysis choice (slope and
    intercept of L_IWL against ln L_ICL with their intervals, the number of runs) and the rule's statistics under
    every choice of loss cut."""
    slope: float = kept()
    slope_lo: float = kept()
    slope_hi: float = kept()
    intercept: float = kept()
    intercept_lo: float = kept()
    intercept_hi: float = kept()
    n_runs: int = kept()
    choices: dict = kept()


def eq16_evidence(fit: dict, choices: dict) -> Eq16Evidence:
    """From a :func:`loss_relation_fit` and {analysis choice: eq 16 rule statistics}."""
    return Eq16Evidence(slope=fit["slope"], slope_lo=fit["slope_ci"][0], slope_hi=fit["slope_ci"][1],
                        intercept=fit["intercept"], intercept_lo=fit["intercept_ci"][0],
                        intercept_hi=fit["intercept_ci"][1], n_runs=fit["n_members"], choices=choices)
