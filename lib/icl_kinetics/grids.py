"""How a row of an experiment's table (profile -> settings, :mod:`icl_kinetics.catalog`) becomes named
:class:`~icl_kinetics.config.RunConfig` sub-runs: the K x seed grids, the K grids' spacing and the per-N fields.
Imports no torch."""
from __future__ import annotations

import numpy as np

from .config import RunConfig

# Every experiment in `catalog` is one table, profile -> settings. A row holds RunConfig fields plus:
#   Ks      the K grid (None: K = infinity), crossed with `seeds` seeds per K (member seeds seed0 + 1000 i + s)
#   wds     attention weight decays, each crossed with the whole K x seed grid (one member per combination)
#   seed0   the first member seed (default 0)
#   split   how the row becomes named sub-runs: a fixed name ("sweep"), "K" (one sub-run per K, K<K>),
#           "N" (one per context length in `Ns`, N<N>) or "kind" (standard and balanced contexts)
# and per-N fields (`steps`, `eval_every`, `Ks`) may be functions of N.
def grid(Ks, n_seeds: int, wd: float = 0.0, seed0: int = 0):
    """Per-member (Ks, seeds, wd_attn) for every K x seed combination."""
    Ks_, seeds, wds = [], [], []
    for i, K in enumerate(Ks):
        for s in range(n_seeds):
            Ks_.append(K)
            seeds.append(seed0 + 1000 * i + s)
            wds.append(wd)
    return dict(Ks=tuple(Ks_), seeds=tuple(seeds), wd_attn=tuple(wds))


def even(x) -> int:
    """Round to an even integer (datasets hold K/2 items of each label)."""
    return int(2 * round(float(x) / 2))


def geom(lo: float, hi: float, n: int) -> tuple:
    """n even values of K, geometrically spaced from lo to hi."""
    return tuple(even(k) for k in np.geomspace(lo, hi, n))


def authors_grid() -> tuple:
    """The authors' K grid (10 values, linearly spaced from 250 to 50,000), doubled to stay even."""
    return tuple(even(2 * k) for k in np.linspace(250, 5e4, 10))


def _members(row: dict, Ks, seed0: int = 0) -> dict:
    """Ks, seeds and wd_attn of a row's K x seed grid, crossed with its weight decays."""
    out = dict(Ks=(), seeds=(), wd_attn=())
    for wd in row.get("wds", (0.0,)):
        g = grid(Ks, row["seeds"], float(wd), seed0)
        for k in out:
            out[k] += g[k]
    return out


def runs_of(row: dict, **common) -> dict:
    """{sub-run name: RunConfig} of one table row (see the comment above)."""
    row = dict(row, **common)
    split, Ns = row.pop("split", "sweep"), row.pop("Ns", (row.get("N"),))
    fields = {k: v for k, v in row.items() if k not in ("Ks", "seeds", "wds", "seed0")}

    def config(N, Ks, seed0=row.get("seed0", 0), **extra):
        at_n = {k: (v(N) if callable(v) else v) for k, v in fields.items()}
        return RunConfig(**dict(at_n, N=N, **extra), **_members(row, Ks(N) if callable(Ks) else Ks, seed0))
    if split == "K":
        return {f"K{K}": config(row["N"], (K,), seed0=1000 * i) for i, K in enumerate(row["Ks"])}
    if split == "N":
        return {f"N{N}": config(N, row["Ks"]) for N in Ns}
    if split == "kind":
        return {kind: config(row["N"], row["Ks"], balanced=kind == "balanced") for kind in ("standard", "balanced")}
    return {split: config(row["N"], row["Ks"])}


def per_n(factor: float):
    """A per-N field: `factor` x N."""
    return lambda N: int(factor * N)
