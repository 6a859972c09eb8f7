"""Per-run tables shared by the chapters: members of an ensemble (K, seed, weight decay), the authors' sigmoid
threshold K* (chapters 1, 2, 7, 12), the censored t_ICL of each member, and the settings table every chapter shows."""
from __future__ import annotations

import numpy as np

from .. import fits
from .. import stats as st
from .. import config
from ..config import ICL_THRESHOLD, RunConfig
from ..prose import fmt


def members(cfg: RunConfig) -> dict:
    """Per-member K (inf for K = infinity), seed and attention weight decay as numpy arrays."""
    return {"K": np.array([np.inf if k is None else k for k in cfg.Ks], float),
            "seed": np.asarray(cfg.seeds), "wd_attn": np.asarray(cfg.wd_attn, float)}


def pooled(runs: dict, configs: dict) -> tuple[dict, RunConfig]:
    """One ensemble from sub-runs that differ only in their members (``Ks``, ``seeds``, ``wd_attn``): the
    paper_net profile trains one sub-run per K (a shard each), the cpu profile one sub-run of all K. Every
    array but ``steps`` is per member (train's output) and is concatenated in sub-run order. ValueError when
    the sub-runs differ in anything else (N, steps, evaluation grid ...): they are not one sweep."""
    names = list(configs)
    if not names:
        raise ValueError("no sub-runs to pool")
    per_member = ("Ks", "seeds", "wd_attn")
    first = {k: v for k, v in configs[names[0]].to_dict().items() if k not in per_member}
    for n in names[1:]:
        other = {k: v for k, v in configs[n].to_dict().items() if k not in per_member}
        if other != first:
            diff = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
            raise ValueError(f"sub-runs {names[0]!r} and {n!r} differ in {', '.join(diff)}: not one sweep")
        if not np.array_equal(runs[n]["steps"], runs[names[0]]["steps"]):
            raise ValueError(f"sub-runs {names[0]!r} and {n!r} were evaluated at different steps")
    cfg = RunConfig.from_dict(dict(first, **{f: sum((list(getattr(configs[n], f)) for n in names), [])
                                             for f in per_member}))
    keys = set(runs[names[0]]) - {"steps"}
    run = {"steps": runs[names[0]]["steps"]}
    run.update({k: np.concatenate([np.asarray(runs[n][k]) for n in names], axis=0) for k in keys})
    return run, cfg


def sweep_threshold(run: dict, cfg: RunConfig, n_boot: int = fits.N_BOOT_KSTAR) -> fits.Threshold:
    """K* from the sigmoid fit of final ICL accuracy against log10 K (the authors' analysis)."""
    K = members(cfg)["K"]
    return fits.fit_threshold(K, run["final_icl_acc"], n_boot=n_boot)


def acquired(run: dict, threshold: float = ICL_THRESHOLD) -> np.ndarray:
    """(E,) bool: the member's ICL accuracy exceeded `threshold` at some evaluation."""
    return np.nanmax(run["icl_acc"], axis=1) > threshold


SETTING_FIELDS = ("model", "D", "N", "width", "lr", "batch", "steps", "eval_every", "n_eval")
# each setting as a reader reads it (the config's field name is for code)
SETTING_NAMES = {"model": "model", "D": "$D$ (input dimension)", "N": "$N$ (context length)", "width": "MLP width",
                 "lr": "learning rate", "batch": "batch size", "steps": "iterations",
                 "eval_every": "evaluated every (iterations)", "n_eval": "test sequences per evaluation",
                 "runs": "runs", "K": "$K$", "attention wd": "weight decay on the attention",
                 "balanced": "balanced contexts ($N/2$ of each label)", "early_stop": "stop at ICL accuracy"}


def settings_table(configs: dict, fields=SETTING_FIELDS) -> str:
    """A Markdown table comparing run configurations, e.g. {"paper": cfg_paper, "cpu (this book)": cfg}.

    Adds the number of runs (members), the distinct K values and attention weight decays.
    """
    def fmt_k(cfg):
        ks = sorted({np.inf if k is None else k for k in cfg.Ks})
        s = ", ".join("\u221e" if k == np.inf else f"{int(k)}" for k in ks)
        return s if len(s) < 60 else f"{len(ks)} values, {ks[0]:g} to {ks[-1]:g}"

    rows = list(fields) + ["runs", "K", "attention wd"]
    head = "| setting | " + " | ".join(configs) + " |\n|---|" + "---|" * len(configs) + "\n"
    body = ""
    for r in rows:
        vals = []
        for cfg in configs.values():
            if r == "runs":
                vals.append(str(cfg.E))
            elif r == "K":
                vals.append(fmt_k(cfg))
            elif r == "attention wd":
                vals.append(", ".join(f"{w:g}" for w in sorted(set(cfg.wd_attn))))
            else:
                v = getattr(cfg, r)
                vals.append("never" if r == "early_stop" and v is None else fmt(v, "g"))
        body += f"| {SETTING_NAMES.get(r, r)} | " + " | ".join(vals) + " |\n"
    return head + body


def safe_sweep_threshold(run: dict, cfg: RunConfig, n_boot: int = fits.N_BOOT_KSTAR):
    """:func:`sweep_threshold` that never raises: returns (Threshold, note).

    On degenerate data (e.g. every run at chance, too few K values) the sigmoid fit can fail; the Threshold then
    holds NaNs and ``note`` says why. A fit whose K* sits on the edge of its allowed range (the sampled K range
    +- 0.5 decades) is returned with a note, because such a K* only bounds the threshold.
    """
    K = members(cfg)["K"]
    acc = np.asarray(run["final_icl_acc"], float)
    ok = np.isfinite(K) & np.isfinite(acc)
    nan = fits.Threshold(np.nan, (np.nan, np.nan), np.full(4, np.nan), 0)
    if len(np.unique(K[ok])) < 3:
        return nan, f"only {len(np.unique(K[ok]))} distinct finite K: no sigmoid fit"
    if np.ptp(acc[ok]) < 0.05:
        return nan, f"final ICL accuracy is flat across K ({acc[ok].min():.2f} to {acc[ok].max():.2f}): no transition"
    try:
        thr = fits.fit_threshold(K[ok], acc[ok], n_boot=n_boot)
    except (RuntimeError, ValueError) as e:
        return nan, f"sigmoid fit failed ({type(e).__name__}: {e})"
    x = np.log10(K[ok])
    lo, hi = x.min() - 0.5, x.max() + 0.5
    b = thr.params[1]
    if min(b - lo, hi - b) < 1e-3:
        return thr, "K* lies on the edge of the fitted range: it only bounds the threshold"
    return thr, "ok"


def n_context(cfg: RunConfig) -> int:
    """The theory's N (number of context items, eqs 5-8) of a run: :func:`icl_kinetics.config.n_context`."""
    return config.n_context(cfg.N)


def censored_t_icl(run: dict) -> np.ndarray:
    """(E,) t_ICL in iterations (first evaluation with ICL accuracy > 0.95), +inf for members that never got there
    within the step budget (``run["t_icl"]`` is NaN for them): right-censored, not missing."""
    t = np.asarray(run["t_icl"], float)
    return np.where(np.isfinite(t), t, np.inf)


def crossing_t_icl(run: dict) -> np.ndarray:
    """(E,) t_ICL in iterations as the crossing of ICL accuracy 0.95, linearly interpolated between the two
    evaluations around it (not quantised to the evaluation grid, as ``run["t_icl"]`` is); +inf if never."""
    t = st.first_crossing(run["steps"], run["icl_acc"], ICL_THRESHOLD, interpolate=True)
    return np.where(np.isfinite(t), t, np.inf)
