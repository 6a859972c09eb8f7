"""Transience (section 3.7, appendix A.4-A.5; chapters 2, 6 and 11): when a run acquires ICL and when it fades
(the paper's Fig A.6 definition), the phases of training, eq 15's Lambert-W prediction, eq 44 with measured c3(t)
and the trend of transience with weight decay. The fits of eq 16 on these phases are :mod:`.loss_relation`'s.
Curves are (E, T) arrays sampled at run["steps"]."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from ..rules import Choice
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
    return {f"acquired at {ACQUIRE_ACC:g}, faded below {FADE_ACC:g} (the paper's)": Choice(
                stats(ACQUIRE_ACC, FADE_ACC), "the paper's thresholds, counted per run"),
            f"acquired at 0.95, faded below {FADE_ACC:g}": Choice(
                stats(0.95, FADE_ACC), "acquisition read earlier: runs that peak just below 0.99 count"),
            f"acquired at {ACQUIRE_ACC:g}, faded below 0.8": Choice(
                stats(ACQUIRE_ACC, 0.8), "fading read later: only a clear loss of ICL counts")}


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
    choices = {"Spearman rank correlation (the chapter's)": Choice(
                   dict(base, rho=float(rho), p=float(p_rho)), "a monotone trend over runs, no functional form; "
                   "its exact p-value is valid at a few runs"),
               "Kendall's tau": Choice(dict(base, rho=float(tau), p=float(p_tau)),
                                       "the same with pair counts: better behaved with ties and few runs")}
    return TransienceVsWd.of(numbers, dict(rows=rows, rho=rho, p=p_rho, n_levels=n_levels, choices=choices))
