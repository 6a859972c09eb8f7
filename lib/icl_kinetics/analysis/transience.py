"""Transience (section 3.7, appendix A.4-A.5; chapters 2, 6 and 11): when a run acquires ICL and when it fades
(the paper's Fig A.6 definition), the phases of training, eq 15's Lambert-W prediction, eq 44 with measured c3(t),
and the fits of eq 16. Curves are (E, T) arrays sampled at run["steps"]."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from .. import fits
from ..verdicts import WD_TREND_MIN_LEVELS, WD_TREND_MIN_RUNS
from .. import stats as st
from ..theory import w_transient, integrate_transience
from ..config import RunConfig
from .runs import members, n_context
from .section import Section, glued, kept, plotted


TRANSIENCE_CLASSES = ("never", "persistent", "transient")


ACQUIRE_ACC, FADE_ACC = 0.99, 0.90  # the paper's Fig A.6 definition


def acquisition_index(icl_acc, acquire: float = ACQUIRE_ACC) -> np.ndarray:
    """(E,) index of the first evaluation with ICL accuracy >= `acquire`; -1 if never (NaNs count as not)."""
    return st.first_index(np.nan_to_num(np.asarray(icl_acc, float), nan=-np.inf) >= acquire)


def transience_index(icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) index of the first evaluation *after* the first one with ICL accuracy >= `acquire` at which ICL
    accuracy has fallen below `fade` (the paper's transience time, Fig A.6); -1 if never acquired or never
    fades. NaN evaluations (a member stopped) never count as fallen."""
    acc = np.asarray(icl_acc, float)
    acq = acquisition_index(acc, acquire)
    T = acc.shape[1]
    after = np.arange(T)[None, :] > acq[:, None]
    fell = after & (np.nan_to_num(acc, nan=np.inf) < fade) & (acq[:, None] >= 0)
    return st.first_index(fell)


def transience_time(steps, icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) transience time in iterations (see :func:`transience_index`); NaN where there is none."""
    idx = transience_index(icl_acc, acquire, fade)
    steps = np.asarray(steps, float)
    return np.where(idx >= 0, steps[np.clip(idx, 0, None)], np.nan)


def classify_transience(icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) labels from :data:`TRANSIENCE_CLASSES`: ``never`` (never reached `acquire`; Fig A.6 red plus),
    ``persistent`` (acquired, no fall below `fade` before the end; yellow cross), ``transient`` (blue dot)."""
    acq = acquisition_index(icl_acc, acquire)
    tr = transience_index(icl_acc, acquire, fade)
    return np.where(acq < 0, "never", np.where(tr < 0, "persistent", "transient"))


def transience_choices(icl_acc) -> dict:
    """{analysis choice: transience-rule statistics (n_transient, n_acquired)}: the paper's definition (acquired
    at 0.99, faded below 0.9), acquisition at 0.95, and fading below 0.8."""
    def stats(acquire, fade):
        cls = classify_transience(icl_acc, acquire, fade)
        return dict(n_transient=int((cls == "transient").sum()), n_acquired=int((cls != "never").sum()))
    return {f"acquired at {ACQUIRE_ACC:g}, faded below {FADE_ACC:g} (the paper's)": stats(ACQUIRE_ACC, FADE_ACC),
            f"acquired at 0.95, faded below {FADE_ACC:g}": stats(0.95, FADE_ACC),
            f"acquired at {ACQUIRE_ACC:g}, faded below 0.8": stats(ACQUIRE_ACC, 0.8)}


def branch_mask(icl_acc, branch: str = "icl", acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E, T) bool selecting evaluations of a phase of training.

    ``branch="icl"``: from the first evaluation with ICL accuracy >= `acquire` up to (excluding) the transience
    index -- ICL is in place, the branch where eq 16's first relation (L_ICL << 1) applies.
    ``branch="faded"``: from the transience index on (eq 16's second relation, L_IWL << 1).
    Members that never acquire ICL select nothing; NaN evaluations are never selected.
    """
    acc = np.asarray(icl_acc, float)
    E, T = acc.shape
    acq = acquisition_index(acc, acquire)
    tr = transience_index(acc, acquire, fade)
    j = np.arange(T)[None, :]
    end = np.where(tr >= 0, tr, T)[:, None]
    if branch == "icl":
        m = (acq[:, None] >= 0) & (j >= acq[:, None]) & (j < end)
    elif branch == "faded":
        m = (tr[:, None] >= 0) & (j >= tr[:, None])
    else:
        raise ValueError(f"branch={branch!r}: use 'icl' or 'faded'")
    return m & np.isfinite(acc)


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


def lambert_w_prediction(run: dict, cfg: RunConfig) -> np.ndarray:
    """(E, T) w_tr(t) = W(c3(t) / lambda_w) (eqs 15, 45) per member, with lambda_w = the member's attention weight
    decay: plain SGD with weight decay, p <- p - lr (grad + wd p), is gradient descent on
    L + wd |p|^2 / 2 in time t = lr x iterations, so lambda_w = wd. Members without weight decay get NaN."""
    wd = members(cfg)["wd_attn"][:, None]
    c3 = np.asarray(run["c3"], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(wd > 0, w_transient(c3, np.where(wd > 0, wd, 1.0)), np.nan)


def member_transience_ode(run: dict, cfg: RunConfig, e: int, start: int):
    """Eq 44, dw/dt = c3(t) e^-w - lambda_w w, for member `e` from evaluation index `start` (e.g. its ICL
    acquisition) with the measured w there as initial value and its measured c3(t) (lambda_w = its attention
    weight decay). Returns (steps, w) on the run's evaluation grid from `start` on."""
    steps = np.asarray(run["steps"], float)
    t = cfg.lr * (steps[start:] - steps[start])
    c3 = np.asarray(run["c3"][e, start:], float)
    ok = np.isfinite(c3)
    lam = float(members(cfg)["wd_attn"][e])
    tt, w = integrate_transience(float(run["w"][e, start]), float(t[ok][-1]), c3=(t[ok], c3[ok]), lambda_w=lam,
                                 t_eval=t[ok])
    return steps[start] + tt / cfg.lr, w


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
    sel = classes == "transient"
    which = "transient runs"
    if not sel.any():
        sel, which = classes != "never", "runs that reached 99% ICL accuracy (none transient)"
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


def collapses(icl_acc, high: float = 0.95, low: float = 0.75) -> np.ndarray:
    """Per run (rows of icl_acc (E, T)): how often ICL accuracy fell below `low` after having been above `high`
    (each fall counts once; the run must climb above `high` again before the next one counts)."""
    out = np.zeros(len(icl_acc), dtype=int)
    for e, curve in enumerate(np.asarray(icl_acc, float)):
        up = False
        for v in curve[np.isfinite(curve)]:
            if v > high:
                up = True
            elif v < low and up:
                out[e] += 1
                up = False
    return out


def _median_ci(x, n_boot: int = 1000):
    """Median of the finite values of `x` with a bootstrap interval (a single value gets a NaN interval)."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) >= 2:
        return st.bootstrap(np.median, x, n_boot=n_boot)
    return (float(x[0]) if len(x) else np.nan), (np.nan, np.nan)


@dataclass(frozen=True)
class TransformerTransience(Section):
    n_never: int = glued()
    n_persistent: int = glued()
    n_transient: int = glued()
    n_runs: int = glued()
    iwl_at_acq: float = glued()
    iwl_end: float = glued()
    icl_end: float = glued()
    n_wd: int = glued()
    steps: np.ndarray = plotted()
    icl_acc: np.ndarray = plotted()
    iwl_acc: np.ndarray = plotted()
    wd: np.ndarray = plotted()
    classes: np.ndarray = kept()
    t_tr: np.ndarray = kept()
    rows: list = kept()
    n_acquired: int = kept()
    choices: dict = kept()  # {analysis choice: transience-rule statistics} (:func:`transience_choices`)


def transformer_transience(run: dict, cfg: RunConfig) -> TransformerTransience:
    """Fig 2e: transience classes of the transformer runs, and the median IWL accuracy at ICL acquisition and at the
    end, and final ICL accuracy, of the transient runs. ``data["rows"]``: one row per run for the page."""
    steps = run["steps"].astype(float)
    wd = members(cfg)["wd_attn"]
    cls = classify_transience(run["icl_acc"])
    t_tr = transience_time(steps, run["icl_acc"])
    acq_i = acquisition_index(run["icl_acc"])
    tr = np.flatnonzero(cls == "transient")
    iwl_acq = np.array([run["iwl_acc"][e, acq_i[e]] for e in tr])
    numbers = {f"n_{c}": int((cls == c).sum()) for c in TRANSIENCE_CLASSES}
    numbers.update(n_runs=cfg.E, iwl_at_acq=float(np.median(iwl_acq)) if len(tr) else np.nan,
                   iwl_end=float(np.median(run["final_iwl_acc"][tr])) if len(tr) else np.nan,
                   icl_end=float(np.median(run["final_icl_acc"][tr])) if len(tr) else np.nan,
                   n_wd=int(len(np.unique(wd))))
    rows = [[f"{wd[e]:.2g}", cfg.seeds[e], cls[e], f"{steps[acq_i[e]] if acq_i[e] >= 0 else np.nan:.0f}",
             f"{t_tr[e]:.0f}", f"{np.nanmax(run['icl_acc'][e]):.3f}", f"{run['final_icl_acc'][e]:.3f}",
             f"{run['final_iwl_acc'][e]:.3f}"] for e in range(cfg.E)]
    figure = dict(steps=steps, icl_acc=run["icl_acc"], iwl_acc=run["iwl_acc"], wd=wd)
    return TransformerTransience.of(numbers, figure, dict(classes=cls, t_tr=t_tr, wd=wd, rows=rows,
                                                          n_acquired=numbers["n_runs"] - numbers["n_never"],
                                                          choices=transience_choices(run["icl_acc"])))


@dataclass(frozen=True)
class Eq15Minimal(Section):
    wratio: float = glued()
    wratio_lo: float = glued()
    wratio_hi: float = glued()
    wratio_n: int = glued()
    wratio_ode: float = glued()
    wratio_ode_lo: float = glued()
    wratio_ode_hi: float = glued()
    wratio_ode_n: int = glued()
    weff_ratio: float = glued()
    weff_ratio_lo: float = glued()
    weff_ratio_hi: float = glued()
    weff_ratio_n: int = glued()
    fade_ratio: float = glued()
    fade_ratio_lo: float = glued()
    fade_ratio_hi: float = glued()
    fade_ratio_n: int = glued()
    m_never: int = glued()
    m_persistent: int = glued()
    m_transient: int = glued()
    m_runs: int = glued()
    steps: np.ndarray = plotted()
    c3: np.ndarray = plotted()
    w: np.ndarray = plotted()
    w_tr: np.ndarray = plotted()
    w_ode: list = plotted()
    wd: np.ndarray = plotted()
    labels: list = plotted()
    classes: np.ndarray = kept()
    rows: list = kept()


def eq15_minimal(run: dict, cfg: RunConfig) -> Eq15Minimal:
    """Eq 15 in the minimal model with weight decay on w and beta: per run, the learned w over eq 15's W(c3/lambda_w)
    and over eq 44 integrated with the measured c3 (medians over the late half of the ICL branch), the same with
    the attention on the target's copy a = 1 / (1 + (N - 1) e^-beta), and the transience time over the first time
    c3 <= e lambda_w (where w_tr = 1). Medians over runs with bootstrap intervals; transience classes."""
    steps = run["steps"].astype(float)
    m = members(cfg)
    wd = m["wd_attn"]
    w_tr = lambert_w_prediction(run, cfg)
    acq = acquisition_index(run["icl_acc"])
    cls = classify_transience(run["icl_acc"])
    t_tr = transience_time(steps, run["icl_acc"])
    icl_branch = branch_mask(run["icl_acc"], "icl")
    post = np.arange(len(steps))[None] >= np.where(acq >= 0, acq, len(steps))[:, None]
    w_ode, ratios, ratios_ode, ratios_eff = [], [], [], []
    for e in range(cfg.E):
        if acq[e] < 0 or wd[e] <= 0:
            w_ode.append(None)
            continue
        s_ode, w_e = member_transience_ode(run, cfg, e, int(acq[e]))
        w_ode.append((s_ode, w_e))
        idx = np.flatnonzero(icl_branch[e])
        late = idx[len(idx) // 2:]
        if len(late):
            ratios.append(float(np.median(run["w"][e, late] / w_tr[e, late])))
            a_copy = 1.0 / (1.0 + (n_context(cfg) - 1) * np.exp(-run["beta"][e, late]))
            ratios_eff.append(float(np.median(a_copy * run["w"][e, late] / w_tr[e, late])))
            ratios_ode.append(float(np.median(run["w"][e, late] / np.interp(steps[late], s_ode, w_e))))
    # first time c3 <= e * lambda_w (w_tr = 1), interpolated
    t_c3 = np.array([st.first_crossing(steps, -run["c3"][e][None], -np.e * wd[e], interpolate=True)[0]
                     for e in range(cfg.E)])
    both = (cls == "transient") & np.isfinite(t_c3)
    numbers = {}
    for name, vals in (("wratio", ratios), ("wratio_ode", ratios_ode), ("weff_ratio", ratios_eff),
                       ("fade_ratio", t_tr[both] / t_c3[both])):
        med, ci = _median_ci(vals)
        numbers.update({name: med, f"{name}_lo": ci[0], f"{name}_hi": ci[1],
                        f"{name}_n": int(np.isfinite(np.asarray(vals, float)).sum())})
    numbers.update({f"m_{c}": int((cls == c).sum()) for c in TRANSIENCE_CLASSES})
    numbers["m_runs"] = cfg.E
    rows = [[f"{m['K'][e]:.0f}", f"{wd[e]:g}", cfg.seeds[e], cls[e],
             f"{steps[acq[e]] if acq[e] >= 0 else np.nan:.0f}", f"{t_tr[e]:.0f}", f"{t_c3[e]:.0f}",
             f"{run['final_w'][e]:.2f}", f"{run['final_beta'][e]:.2f}", f"{run['final_c3'][e]:.2g}"]
            for e in range(cfg.E)]
    figure = dict(steps=steps, c3=run["c3"], w=run["w"], w_tr=np.where(post, w_tr, np.nan), w_ode=w_ode, wd=wd,
                  labels=[f"K = {m['K'][e]:.0f}, $\\lambda_w$ = {wd[e]:g}, seed {cfg.seeds[e]}" for e in range(cfg.E)])
    return Eq15Minimal.of(numbers, figure, dict(classes=cls, rows=rows))


def _runs_for_fit(classes):
    """The paper fits eq 16 on runs that show transience; if there is none, every run that acquired ICL."""
    sel = classes == "transient"
    return (sel, "transient runs") if sel.any() else (classes != "never", "runs that acquired ICL (none transient)")


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
class TransienceVsWd(Section):
    rho: float = glued()
    rho_p: float = glued()
    a6_slope: float = glued()
    a6_slope_lo: float = glued()
    a6_slope_hi: float = glued()
    a6_n: int = glued()
    min_runs: int = glued()
    min_levels: int = glued()
    rows: list = kept()
    p: float = kept()
    n_levels: int = kept()
    choices: dict = kept()  # {analysis choice: trend-rule statistics}: Spearman or Kendall


def transience_vs_wd(wd, t_tr, classes) -> TransienceVsWd:
    """Fig A.6: Spearman correlation and log-log slope of transience time against attention weight decay over the
    transient runs, estimated only with as many runs and weight decays as the verdict's rule needs (on fewer, a
    rank correlation of +-1 with p = 0 and a zero-width interval say nothing: NaN), and one table row per
    weight decay."""
    ok = (classes == "transient") & np.isfinite(t_tr)
    if ok.sum() >= WD_TREND_MIN_RUNS and len(np.unique(wd[ok])) >= WD_TREND_MIN_LEVELS:
        rho, p_rho = scipy_stats.spearmanr(wd[ok], t_tr[ok])
        tau, p_tau = scipy_stats.kendalltau(wd[ok], t_tr[ok])
        pl = fits.power_law_fit(wd[ok], t_tr[ok])
        slope, slope_ci = pl.slope, pl.slope_ci
    else:
        rho, p_rho, slope, slope_ci = np.nan, np.nan, np.nan, (np.nan, np.nan)
        tau, p_tau = np.nan, np.nan
    numbers = dict(rho=float(rho), rho_p=float(p_rho), a6_slope=float(slope), a6_slope_lo=float(slope_ci[0]),
                   a6_slope_hi=float(slope_ci[1]), a6_n=int(ok.sum()))
    rows = []
    for u in np.unique(wd):
        s = wd == u
        times = ", ".join(f"{t:.0f}" for t in t_tr[s & (classes == "transient")]) or "-"
        rows.append([f"{u:.2g}", s.sum(), (classes[s] == "never").sum(), (classes[s] == "persistent").sum(),
                     (classes[s] == "transient").sum(), times])
    numbers.update(min_runs=WD_TREND_MIN_RUNS, min_levels=WD_TREND_MIN_LEVELS)
    n_levels = len(np.unique(wd[ok]))
    base = dict(n_transient=int(ok.sum()), n_levels=n_levels)
    choices = {"Spearman rank correlation (the chapter's)": dict(base, rho=float(rho), p=float(p_rho)),
               "Kendall's tau": dict(base, rho=float(tau), p=float(p_tau))}
    return TransienceVsWd.of(numbers, dict(rows=rows, rho=rho, p=p_rho, n_levels=n_levels, choices=choices))


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
    numbers.update(status=slope_status(f["icl"]["slope"], f["icl"]["slope_ci"]),
                   status2=slope_status(f["faded"]["slope"], f["faded"]["slope_ci"]), which=f["which"],
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


def eq16_rule_stats(fit: dict) -> dict:
    """The statistics the eq 16 rule reads (`verdicts.rule_eq16`) from a :func:`loss_relation_fit`."""
    return dict(slope=fit["slope"], ci=fit["slope_ci"], intercept=fit["intercept"], intercept_ci=fit["intercept_ci"],
                n_runs=fit["n_members"])


def eq16_choices_transformer(run: dict, cuts=EQ16_CUTS) -> dict:
    """{analysis choice: eq 16 rule statistics} for the transformer's ICL branch (chapter 11) at each loss cut."""
    return {f"loss cut {c:g}" + (" (the chapter's)" if i == 0 else ""): eq16_rule_stats(eq16_fits(run, c)["icl"])
            for i, c in enumerate(cuts)}


def eq16_choices_minimal(run: dict, classes, mrun: dict, mclasses, cuts=EQ16_CUTS) -> dict:
    """{analysis choice: eq 16 rule statistics} for the minimal model's ICL branch (chapter 6) at each loss cut."""
    return {f"loss cut {c:g}" + (" (the chapter's)" if i == 0 else ""):
            eq16_rule_stats(loss_relations(run, classes, mrun, mclasses, max_loss=c).m)
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
