"""Transience (section 3.7, appendix A.4-A.5; chapters 2, 6 and 11): when a run acquires ICL and when it fades
(the paper's Fig A.6 definition), the phases of training, eq 15's Lambert-W prediction, eq 44 with measured c3(t),
and the fits of eq 16. Curves are (E, T) arrays sampled at run["steps"]."""
from __future__ import annotations

import numpy as np

from .. import fits
from .. import stats as st
from ..theory import w_transient, integrate_transience
from ..train import RunConfig
from .runs import members


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
