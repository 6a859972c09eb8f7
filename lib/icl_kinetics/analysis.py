"""From stored results to the numbers the chapters report (per-member tables, thresholds, times).

Functions here take the arrays of one run (``Result[run]``, a dict of numpy arrays) and its
:class:`~icl_kinetics.train.RunConfig`; they do no training and no plotting.
"""
from __future__ import annotations

import numpy as np

from . import fits
from .train import RunConfig


def members(cfg: RunConfig) -> dict:
    """Per-member K (inf for K = infinity), seed and attention weight decay as numpy arrays."""
    return {"K": np.array([np.inf if k is None else k for k in cfg.Ks], float),
            "seed": np.asarray(cfg.seeds), "wd_attn": np.asarray(cfg.wd_attn, float)}


def sweep_threshold(run: dict, cfg: RunConfig, n_boot: int = 500) -> fits.Threshold:
    """K* from the sigmoid fit of final ICL accuracy against log10 K (the authors' analysis)."""
    K = members(cfg)["K"]
    return fits.fit_threshold(K, run["final_icl_acc"], n_boot=n_boot)


def acquired(run: dict, threshold: float = 0.95) -> np.ndarray:
    """(E,) bool: the member's ICL accuracy exceeded `threshold` at some evaluation."""
    return np.nanmax(run["icl_acc"], axis=1) > threshold


SETTING_FIELDS = ("model", "D", "N", "width", "lr", "batch", "steps", "eval_every", "n_eval")


def settings_table(configs: dict, fields=SETTING_FIELDS) -> str:
    """A Markdown table comparing run configurations, e.g. {"paper": cfg_paper, "cpu (this book)": cfg}.

    Adds the number of runs (members), the distinct K values and attention weight decays.
    """
    def fmt_k(cfg):
        ks = sorted({np.inf if k is None else k for k in cfg.Ks})
        s = ", ".join("inf" if k == np.inf else f"{int(k)}" for k in ks)
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
                vals.append(f"{getattr(cfg, r):g}" if isinstance(getattr(cfg, r), float) else str(getattr(cfg, r)))
        body += f"| {r} | " + " | ".join(vals) + " |\n"
    return head + body
