"""Chapters 1 and 2, the phenomenology (Fig 2b-d, 3a-c): the sharp transition in K (the authors' sigmoid K*),
runs near the threshold, how abrupt the acquisition of ICL is, the minimal model's majority-vote plateau, and the
transient runs of Fig 3c. Times are training iterations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats
from scipy.special import comb

from ..rules import Choice
from .small_sample import kstar_t_model
from .. import stats as st
from ..fits import Threshold
from ..config import RunConfig
from ..prose import DASH
from .runs import members, safe_sweep_threshold, sweep_threshold
from .section import Section, glued, kept, plotted
from .transience import acquisition_index, classify_transience, lambert_w_prediction, transience_choices


@dataclass(frozen=True)
class Transition(Section):
    kstar: float = glued()
    kstar_lo: float = glued()
    kstar_hi: float = glued()
    kstar_t_lo: float = glued()  # K*'s interval from the t model of each K's mean (small-sample honest)
    kstar_t_hi: float = glued()
    paper_kstar: str = glued()  # where the paper's K* ~ 10^4 (at N = 100) falls, in words; a dash at another N
    N: int = glued(plotted=True)
    icl_iwl_corr: float = glued()
    slope_a: float = glued()
    K: np.ndarray = plotted()
    icl: np.ndarray = plotted()
    iwl: np.ndarray = plotted()
    thr: Threshold = plotted()
    rho: float = kept()
    rho_lo: float = kept()
    rho_hi: float = kept()
    choices_rho: dict = kept()  # {analysis choice: opposite-rule statistics}
    choices_transition: dict = kept()  # {analysis choice: transition-rule statistics} (:func:`transition_choices`)


def transition(run: dict, cfg: RunConfig, n_boot: int = 2000) -> Transition:
    """Fig 2b,c: K* from the sigmoid fit of final ICL accuracy against K, and the correlation of final ICL and IWL
    accuracy across runs (percentile bootstrap over runs)."""
    thr = sweep_threshold(run, cfg)
    pairs = np.c_[run["final_icl_acc"], run["final_iwl_acc"]]
    rho, rho_ci = st.bootstrap(lambda s: np.corrcoef(s[:, 0], s[:, 1])[0, 1], pairs, n_boot=n_boot)
    rank = np.c_[scipy_stats.rankdata(pairs[:, 0]), scipy_stats.rankdata(pairs[:, 1])]  # ties share their rank
    rho_s, rho_s_ci = st.bootstrap(lambda s: np.corrcoef(s[:, 0], s[:, 1])[0, 1], rank, n_boot=n_boot)
    choices_rho = {"Pearson correlation, bootstrap over runs (the chapter's)": Choice(
                       dict(rho=rho, rho_ci=rho_ci), "each run (one seed at one K) is one pair of accuracies; "
                       "resamples the runs"),
                   "Spearman rank correlation (ranks of the whole sample), bootstrap over runs": Choice(
                       dict(rho=rho_s, rho_ci=rho_s_ci), "the same on ranks: no weight on how far apart the "
                       "accuracies are, robust to the two clusters at the ends")}
    K = members(cfg)["K"]
    t_ci = (tuple(kstar_t_model({1: (K, np.asarray(run["final_icl_acc"], float))}).ci[0])
            if np.isfinite(thr.k_star) else (np.nan, np.nan))
    numbers = dict(kstar=thr.k_star, kstar_lo=thr.ci[0], kstar_hi=thr.ci[1], kstar_t_lo=t_ci[0], kstar_t_hi=t_ci[1],
                   paper_kstar=paper_kstar_inside(thr.ci, t_ci) if cfg.N == PAPER_KSTAR[0] else DASH,
                   N=cfg.N, icl_iwl_corr=rho, slope_a=thr.params[0])
    return Transition.of(numbers, dict(K=K, icl=run["final_icl_acc"], iwl=run["final_iwl_acc"], thr=thr, N=cfg.N),
                   dict(thr=thr, K=K, rho=rho, rho_lo=rho_ci[0], rho_hi=rho_ci[1],
                                   choices_rho=choices_rho,
                                   choices_transition=transition_choices(K, run["final_icl_acc"], thr, t_ci)))


PAPER_KSTAR = (100, 1e4)  # the paper's K* ~ 10^4 at N = 100 (section 2, Fig 2b)


def paper_kstar_inside(boot_ci, t_ci) -> str:
    """Where the paper's K* = 10^4 falls against our two 95% intervals of K*, in words (a description beside the
    Fig 2b verdict, whose rule is the sharpness of the transition, not its place)."""
    inside = [bool(lo <= PAPER_KSTAR[1] <= hi) for lo, hi in (boot_ci, t_ci)]
    if all(inside):
        return "inside both 95% intervals of K*"
    if not any(inside):
        return "outside both 95% intervals of K*"
    return "inside the t-model interval of K* and outside its seed-bootstrap interval" if inside[1] else \
        "inside the seed-bootstrap interval of K* and outside its t-model interval"


def transition_choices(K, final_acc, thr, t_ci=None) -> dict:
    """{analysis choice: transition-rule statistics}: the median final accuracy beyond K*/2.5 and 2.5 K* (the
    chapter's), the mean instead, the sides taken beyond a factor 2 or 3 of K*, and K*'s interval from the t model
    of each K's mean (``t_ci``; computed here when not given)."""
    base = dict(K=K, final_acc=final_acc, kstar=thr.k_star, kstar_ci=thr.ci)
    Ks = np.asarray(K, float)
    if t_ci is None and np.isfinite(thr.k_star):
        t_ci = tuple(kstar_t_model({1: (Ks, np.asarray(final_acc, float))}).ci[0])  # one sweep
    per_k = [int(np.sum(Ks == k)) for k in np.unique(Ks)]
    n, seeds = min(per_k), (f"{min(per_k)}" if min(per_k) == max(per_k) else f"{min(per_k)} to {max(per_k)}")
    out = {"median beyond a factor 2.5 of K* (the chapter's)": Choice(
               base, "the runs well away from K* on either side, with K*'s seed-bootstrap interval"),
           "mean instead of median": Choice(dict(base, stat="mean"), "every run counts by its value, not its rank"),
           "beyond a factor 2 of K*": Choice(dict(base, factor=2.0), "runs nearer the threshold count too"),
           "beyond a factor 3 of K*": Choice(dict(base, factor=3.0), "only runs further from the threshold")}
    if t_ci is not None and np.isfinite(thr.k_star):
        out[f"K*'s interval from a t model of each K's mean ({seeds} seeds per K)"] = Choice(
            dict(base, kstar_ci=tuple(t_ci)), "small-sample honest: each K's mean varies as a t(n - 1) "
            f"variable, where the percentile bootstrap of n seeds sees (n - 1)/n of the variance ({n - 1}/{n} at "
            f"{n})")
    return out


@dataclass(frozen=True)
class NearThreshold(Section):
    n_near: int = glued()
    n_mid: int = glued()
    drift: float = glued()
    plateau_note: str = glued()


def near_threshold(run: dict, K, k_star: float, mid=(0.6, 0.9)) -> NearThreshold:
    """Runs within a factor of two of K*: how many ended at an intermediate final ICL accuracy (inside `mid`), and
    how much those still moved over the second half of training (a stable plateau moves little)."""
    near = (K > k_star / 2) & (K < k_star * 2)
    inter = near & (run["final_icl_acc"] > mid[0]) & (run["final_icl_acc"] < mid[1])
    half = run["steps"] >= run["steps"][-1] / 2
    drift = np.nanmax(run["icl_acc"][inter][:, half], axis=1) - np.nanmin(run["icl_acc"][inter][:, half], axis=1)
    med_drift = float(np.median(drift)) if inter.any() else float("nan")
    note = ("they sit on stable intermediate plateaus, not caught mid-rise, which counts against the claim at this K"
            if med_drift < 0.05 else "they are still moving when training stops")
    return NearThreshold.of(dict(n_near=int(near.sum()), n_mid=int(inter.sum()), drift=med_drift, plateau_note=note))


def rise_ratios(steps, icl_acc, start: float, end: float = 0.95):
    """Per run: (rise time from ICL accuracy `start` to `end`) / (iterations before `start`), over runs that reach
    both (first evaluation above the level) after step 0. Returns (ratios, first crossing of `end` per run, the
    runs the ratios are over)."""
    t0 = st.first_crossing(steps, icl_acc, start, strict=True)
    t1 = st.first_crossing(steps, icl_acc, end, strict=True)
    ok = np.isfinite(t0) & np.isfinite(t1) & (t0 > 0)
    return (t1[ok] - t0[ok]) / t0[ok], t1, ok


@dataclass(frozen=True)
class AbruptRise(Section):
    rise_ratio: float = glued()
    median_ticl: float = glued()
    n_rise: int = glued()
    steps: np.ndarray = plotted()
    curves: np.ndarray = plotted()
    values: np.ndarray = plotted()
    choices: dict = kept()  # {analysis choice: abrupt-rule statistics} (:func:`abrupt_choices`)


def abrupt_rise(run: dict, K, k_star: float) -> AbruptRise:
    """Fig 2d: ICL accuracy of the runs with K >= 1.5 K* (the largest K if K* is not finite) and the median of
    rise time (0.6 to 0.95) over plateau (iterations before 0.6)."""
    above = K >= k_star * 1.5 if np.isfinite(k_star) else K == K.max()
    ratio, t95, ok = rise_ratios(run["steps"], run["icl_acc"][above], 0.6)
    numbers = dict(rise_ratio=np.median(ratio) if ok.any() else np.nan,
                   median_ticl=np.nanmedian(t95) if ok.any() else np.nan, n_rise=int(ok.sum()))
    return AbruptRise.of(numbers, dict(steps=run["steps"], curves=run["icl_acc"][above], values=K[above]),
                         dict(choices=abrupt_choices(run["steps"], run["icl_acc"][above], 0.6)))


def abrupt_choices(steps, icl_acc, start: float) -> dict:
    """{analysis choice: abrupt-rule statistics (ratio, n, start)} over the same runs: the chapter's plateau level
    `start` and end 0.95, the plateau level 0.05 lower and 0.05 higher, and the rise ending at 0.9."""
    def stats(s0, end):
        ratio, _, ok = rise_ratios(steps, icl_acc, s0, end)
        return dict(ratio=float(np.median(ratio)) if ok.any() else np.nan, n=int(ok.sum()), start=s0, end=end)
    why = "the same runs, the plateau's end read "
    return {f"plateau level {start:g}, rise to 0.95 (the chapter's)": Choice(
                stats(start, 0.95), "the rise from the plateau's end to near-perfect accuracy, per run, median"),
            f"plateau level {start - 0.05:.2f}": Choice(stats(start - 0.05, 0.95), why + "lower"),
            f"plateau level {start + 0.05:.2f}": Choice(stats(start + 0.05, 0.95), why + "higher"),
            "rise to 0.9 instead of 0.95": Choice(stats(start, 0.9), "the rise's end read earlier, where "
                                                  "evaluation noise matters less")}


def abruptness(run: dict, start: float = 0.7, n_boot: int = 1000):
    """Median rise/plateau ratio (rise from `start` to 0.95) with a bootstrap interval, the number of runs and the
    median t_ICL (first evaluation above 0.95) of those runs."""
    ratio, t95, ok = rise_ratios(run["steps"], run["icl_acc"], start)
    t95 = t95[ok]
    if len(ratio) >= 2:
        med, ci = st.bootstrap(np.median, ratio, n_boot=n_boot)
    else:
        med, ci = (float(ratio[0]) if len(ratio) else np.nan), (np.nan, np.nan)
    return med, ci, len(ratio), float(np.median(t95)) if len(ratio) else np.nan


def majority_vote_plateau(N: int) -> float:
    """ICL accuracy of the minimal model at beta = 0, w > 0: a majority vote over the N - 1 context labels, the
    target's copy included, right with probability P(S >= 0), S the sum of N - 2 random labels (N even)."""
    n_rand = N - 2
    return float(0.5 + 0.5 * comb(n_rand, n_rand // 2) / 2.0 ** n_rand) if n_rand % 2 == 0 else 0.5


@dataclass(frozen=True)
class MinimalVsTransformer(Section):
    kstar: float = glued()
    kstar_lo: float = glued()
    kstar_hi: float = glued()
    steep: float = glued()
    kstar_tf: float = glued()
    kstar_tf_lo: float = glued()
    kstar_tf_hi: float = glued()
    kstar_ratio: float = glued()
    acc_lowK: float = glued()
    acc_highK: float = glued()
    iwl_lowK: float = glued()
    Kmin: int = glued()
    Kmax: int = glued()
    panels: dict = plotted()
    thr: Threshold = kept()
    K: np.ndarray = kept()
    notes: tuple = kept()
    choices_transition: dict = kept()  # {analysis choice: transition-rule statistics} (:func:`transition_choices`)


def minimal_vs_transformer(run: dict, cfg: RunConfig, tf_run: dict, tf_cfg: RunConfig) -> MinimalVsTransformer:
    """Fig 3a with Fig 2b: K* of the minimal model and of the transformer at the same profile, their ratio, and the
    minimal model's accuracies at the smallest and largest K."""
    K, K_tf = members(cfg)["K"], members(tf_cfg)["K"]
    thr, note = safe_sweep_threshold(run, cfg)
    thr_tf, note_tf = safe_sweep_threshold(tf_run, tf_cfg)
    lo_k, hi_k = K == K.min(), K == K.max()
    numbers = dict(kstar=thr.k_star, kstar_lo=thr.ci[0], kstar_hi=thr.ci[1], steep=thr.params[0],
                   kstar_tf=thr_tf.k_star, kstar_tf_lo=thr_tf.ci[0], kstar_tf_hi=thr_tf.ci[1],
                   kstar_ratio=thr.k_star / thr_tf.k_star, acc_lowK=float(np.mean(run["final_icl_acc"][lo_k])),
                   acc_highK=float(np.mean(run["final_icl_acc"][hi_k])),
                   iwl_lowK=float(np.mean(run["final_iwl_acc"][lo_k])), Kmin=int(K.min()), Kmax=int(K.max()))
    panels = {f"minimal model (eq 3), N = {cfg.N}": (K, run["final_icl_acc"], thr),
              f"one-layer transformer (eq 1), N = {tf_cfg.N}": (K_tf, tf_run["final_icl_acc"], thr_tf)}
    return MinimalVsTransformer.of(numbers, dict(panels=panels), dict(thr=thr, K=K,
                                                                                 notes=(note, note_tf),
                                   choices_transition=transition_choices(K, run["final_icl_acc"], thr)))


@dataclass(frozen=True)
class AcquisitionShape(Section):
    eval_every: int = glued()
    rise_mm: float = glued()
    rise_mm_lo: float = glued()
    rise_mm_hi: float = glued()
    nrise_mm: int = glued()
    ticl_mm: float = glued()
    rise_tf: float = glued()
    rise_tf_lo: float = glued()
    rise_tf_hi: float = glued()
    nrise_tf: int = glued()
    ticl_tf: float = glued()
    plateau_pred: float = glued()
    plateau_obs: float = glued()
    plateau_step: int = glued()
    plateau_paperN: float = glued()
    panels: dict = plotted()
    choices_mm: dict = kept()  # the minimal model's abrupt-rule statistics per analysis choice


def acquisition_shape(run: dict, cfg: RunConfig, tf_run: dict, tf_cfg: RunConfig) -> AcquisitionShape:
    """Fig 3b with Fig 2d: abruptness (rise 0.7 to 0.95 over plateau) of both models and the majority-vote plateau
    predicted at this N (and at the paper's N = 100) against the observed median at the second evaluation."""
    numbers = dict(eval_every=cfg.eval_every)
    for name, r in (("mm", run), ("tf", tf_run)):
        med, ci, n, tmed = abruptness(r)
        numbers.update({f"rise_{name}": med, f"rise_{name}_lo": ci[0], f"rise_{name}_hi": ci[1],
                        f"nrise_{name}": n, f"ticl_{name}": tmed})
    numbers.update(plateau_pred=majority_vote_plateau(cfg.N), plateau_obs=float(np.nanmedian(run["icl_acc"][:, 1])),
                   plateau_step=int(run["steps"][1]), plateau_paperN=majority_vote_plateau(100))
    panels = {f"minimal model, N = {cfg.N}": (run["steps"], run["icl_acc"], members(cfg)["K"]),
              f"one-layer transformer, N = {tf_cfg.N}": (tf_run["steps"], tf_run["icl_acc"], members(tf_cfg)["K"])}
    return AcquisitionShape.of(numbers, dict(panels=panels),
                               dict(choices_mm=abrupt_choices(run["steps"], run["icl_acc"], 0.7)))


@dataclass(frozen=True)
class MinimalTransience(Section):
    tr_never: int = glued()
    tr_persistent: int = glued()
    tr_transient: int = glued()
    tr_runs: int = glued()
    tr_time: float = glued()
    tr_steps: int = glued()
    steps: np.ndarray = plotted()
    icl_acc: np.ndarray = plotted()
    w: np.ndarray = plotted()
    w_tr: np.ndarray = plotted()
    labels: list = plotted()
    rows: list = kept()
    n_transient_strong: int = kept()
    n_acquired_strong: int = kept()
    wd_strong: float = kept()  # the strongest weight decay on w and beta, where the verdict is decided
    wd_weak: float = kept()  # the weakest (the paper's 1e-3 at the cpu profile), shown beside it
    n_transient_weak: int = kept()
    n_acquired_weak: int = kept()
    choices: dict = kept()  # {analysis choice: transience-rule statistics at the strongest weight decay}


def minimal_transience(run: dict, cfg: RunConfig) -> MinimalTransience:
    """Fig 3c: one seed per (K, lambda_w) with eq 15's w_tr drawn from its ICL acquisition on, and the transience
    classes of every run per weight decay (``data["rows"]``, a table for the page)."""
    m = members(cfg)
    w_tr = lambert_w_prediction(run, cfg)
    acq_i = acquisition_index(run["icl_acc"])
    j = np.arange(w_tr.shape[1])[None]
    w_tr_post = np.where((acq_i[:, None] >= 0) & (j >= acq_i[:, None]), w_tr, np.nan)
    cls = classify_transience(run["icl_acc"])
    pick, seen = [], set()
    for e in range(cfg.E):
        key = (m["K"][e], m["wd_attn"][e])
        if key not in seen:
            seen.add(key)
            pick.append(e)
    labels = [f"K = {m['K'][e]:.0f}, $\\lambda_w$ = {m['wd_attn'][e]:g}" for e in pick]
    rows = [[f"{wd:g}", (s := m["wd_attn"] == wd).sum(), (cls[s] == "never").sum(), (cls[s] == "persistent").sum(),
             (cls[s] == "transient").sum()] for wd in np.unique(m["wd_attn"])]
    numbers = {f"tr_{c}": int((cls == c).sum()) for c in ("never", "persistent", "transient")}
    numbers.update(tr_runs=cfg.E, tr_time=cfg.lr * cfg.steps, tr_steps=cfg.steps)
    strong, weak = m["wd_attn"] == m["wd_attn"].max(), m["wd_attn"] == m["wd_attn"].min()
    figure = dict(steps=run["steps"], icl_acc=run["icl_acc"][pick], w=run["w"][pick], w_tr=w_tr_post[pick],
                  labels=labels)
    return MinimalTransience.of(numbers, figure, dict(rows=rows, n_transient_strong=int((cls[strong] == "transient").sum()),
                                         n_acquired_strong=int((cls[strong] != "never").sum()),
                                         wd_strong=float(m["wd_attn"].max()), wd_weak=float(m["wd_attn"].min()),
                                         n_transient_weak=int((cls[weak] == "transient").sum()),
                                         n_acquired_weak=int((cls[weak] != "never").sum()),
                                         choices=transience_choices(run["icl_acc"][strong])))
