"""Synthetic inputs shared by the analysis tests."""
from icl_kinetics.train import RunConfig


def minimal_cfg(**kw) -> RunConfig:
    """A tiny minimal-model RunConfig (two members, K = 64) with `kw` replacing its fields."""
    base = dict(model="minimal", D=8, N=11, width=8, Ks=(64, 64), seeds=(0, 1), wd_attn=(1e-2, 0.0), steps=10,
                eval_every=5, lr=0.1, probes=("wbeta", "mlp_stats"))
    base.update(kw)
    return RunConfig(**base)
