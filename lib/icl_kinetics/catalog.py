"""The experiments: the registry, the compute profiles and every experiment's definition (profile -> named
:class:`~icl_kinetics.config.RunConfig`; N is shared within a run, so a sweep over N is several runs). Imports no
torch: what an experiment trains can be read without the trainer. Running, storing and loading them is
:mod:`icl_kinetics.experiments`.

Profiles:

* ``smoke`` -- seconds; used by CI and nbmake. Shows nothing scientific.
* ``cpu``   -- the default and what the book shows; each chapter regenerable on 2 CPU cores well under an hour.
* ``paper_net`` -- the paper's network and context length (D = 63, MLP width 512, batch 128, N = 100 where N
  is not varied) on the cpu profile's clock: lr 0.05, five times the paper's, and budgets of a fifth of the
  paper's iterations (the theory's time is lr x iterations). A rung of the scale ladder between ``cpu`` and
  ``paper``; defined for the experiments the ladder runs (others raise a one-line error).
* ``paper`` -- the paper's exact settings; needs a GPU.

The profile comes from the argument or the ``ICL_PROFILE`` environment variable (default ``cpu``).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import RunConfig

PROFILES = ("smoke", "cpu", "paper_net", "paper")
BASE_PROFILES = ("smoke", "cpu", "paper")  # what every experiment defines; the ladder's rungs are added per experiment
DEFAULT_PROFILE = "cpu"


@dataclass
class Experiment:
    name: str
    description: str
    chapter: str
    build: Callable[[str], dict]  # profile -> {run name: RunConfig}
    profiles: tuple = BASE_PROFILES  # the profiles `build` defines

    def runs(self, profile: str) -> dict:
        profile = resolve_profile(profile)
        if profile not in self.profiles:
            raise ValueError(f"experiment {self.name!r} has no {profile!r} profile; its profiles are "
                             f"{', '.join(self.profiles)}")
        return self.build(profile)


REGISTRY: dict[str, Experiment] = {}


def register(name: str, description: str, chapter: str, profiles: tuple = BASE_PROFILES):
    def deco(fn):
        REGISTRY[name] = Experiment(name, description, chapter, fn, tuple(profiles))
        return fn
    return deco


def get(name: str) -> Experiment:
    if name not in REGISTRY:
        raise KeyError(f"unknown experiment {name!r}; known experiments: {', '.join(sorted(REGISTRY))} "
                       "(python -m icl_kinetics list)")
    return REGISTRY[name]


def resolve_profile(profile: str | None = None) -> str:
    p = profile or os.environ.get("ICL_PROFILE") or DEFAULT_PROFILE
    if p not in PROFILES:
        raise ValueError(f"unknown profile {p!r}; choose one of {', '.join(PROFILES)} "
                         "(argument --profile or environment variable ICL_PROFILE)")
    return p


# ----------------------------------------------------------------------------- helpers for definitions
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


# ----------------------------------------------------------------------------- the experiments
# Shared cpu-profile scale. lr = 0.05, five times the paper's 0.01: the theory's clock is gradient-flow time
# t = lr x steps, so five times fewer steps should buy the same dynamics (an assumption of the profile, to be
# checked against the `paper` profile of `memorization` and `ticl_vs_n`, chapter 13).
CPU = dict(D=31, N=20, width=128, lr=0.05, batch=128)
PAPER = dict(D=63, N=100, width=512, lr=0.01, batch=128)
SMOKE = dict(D=8, N=6, width=16, lr=0.05, batch=32)
EPOCH = 469  # the authors' epoch: 60,000 sequences / batch 128
# The ladder's rung at the paper's network: PAPER with the cpu profile's clock (lr x 5, iterations / 5).
PAPER_NET = dict(PAPER, lr=0.05)
NET_EPOCH = EPOCH / 5  # one of the paper's epochs on this clock, in iterations


@register("phenomenology", "one-layer transformer: ICL/IWL accuracy vs K and ICL curves (Fig 2b-d)",
          "01_phenomenology", PROFILES)
def _phenomenology(profile):
    if profile == "smoke":
        return {"sweep": RunConfig(model="transformer1", **SMOKE, **grid((8, 64), 2), steps=40, eval_every=20,
                                   n_eval=64, early_stop=0.99)}
    if profile == "cpu":
        Ks = tuple(even(k) for k in np.geomspace(32, 8192, 10))
        return {"sweep": RunConfig(model="transformer1", **CPU, **grid(Ks, 4), steps=20_000, eval_every=250,
                                   n_eval=1000, early_stop=0.99)}
    if profile == "paper_net":  # 10 K over two decades around the paper's K* ~ 10^4; one sub-run (shard) per K
        Ks = tuple(even(k) for k in np.geomspace(1000, 100_000, 10))
        return {f"K{K}": RunConfig(model="transformer1", **PAPER_NET, **grid((K,), 4, seed0=1000 * i),
                                   steps=int(1000 * NET_EPOCH), eval_every=200, n_eval=1000, early_stop=0.99)
                for i, K in enumerate(Ks)}
    Ks = tuple(even(2 * k) for k in np.linspace(250, 5e4, 10))  # the authors' grid, doubled to stay even
    return {"sweep": RunConfig(model="transformer1", **PAPER, **grid(Ks, 5), steps=1000 * EPOCH,
                               eval_every=EPOCH, n_eval=2000, early_stop=0.99)}


CPU_KS = tuple(even(k) for k in np.geomspace(32, 8192, 10))  # the cpu-profile K grid (N = 20)


@register("minimal_model", "minimal model (eq 3): ICL vs K, abrupt acquisition, w, beta, c1, c2 over training "
          "(Fig 3a,b)", "02_minimal_model")
def _minimal_model(profile):
    probes = ("wbeta", "mlp_stats")
    if profile == "smoke":
        return {"sweep": RunConfig(model="minimal", **SMOKE, **grid((8, 64), 2), steps=40, eval_every=20,
                                   n_eval=64, probes=probes)}
    if profile == "cpu":
        return {"sweep": RunConfig(model="minimal", **CPU, **grid(CPU_KS, 4), steps=20_000, eval_every=250,
                                   n_eval=1000, probes=probes)}
    Ks = tuple(even(2 * k) for k in np.linspace(250, 5e4, 10))
    return {"sweep": RunConfig(model="minimal", **PAPER, **grid(Ks, 5), steps=1000 * EPOCH, eval_every=EPOCH,
                               n_eval=2000, probes=probes)}


def _with_wd(g: dict, wds) -> dict:
    """Cross a K x seed grid with attention weight decays."""
    out = dict(Ks=(), seeds=(), wd_attn=())
    for wd in wds:
        out["Ks"] += g["Ks"]
        out["seeds"] += g["seeds"]
        out["wd_attn"] += (float(wd),) * len(g["Ks"])
    return out


@register("minimal_transience", "minimal model with weight decay on w and beta only: transient ICL, "
          "w against the Lambert-W prediction of eq 15 (Fig 3c)", "06_transience")
def _minimal_transience(profile):
    probes = ("wbeta", "mlp_stats")
    if profile == "smoke":
        return {"wd": RunConfig(model="minimal", **SMOKE, **_with_wd(grid((64,), 2), (1e-2,)), steps=40,
                                eval_every=20, n_eval=64, probes=probes)}
    if profile == "cpu":
        return {"wd": RunConfig(model="minimal", **CPU, **_with_wd(grid((512, 1024, 2048), 2), (1e-3, 1e-2)),
                                steps=100_000, eval_every=500, n_eval=1000, probes=probes)}
    return {"wd": RunConfig(model="minimal", **PAPER, **_with_wd(grid((10_000, 20_000), 3), (1e-3,)),
                            steps=5000 * EPOCH, eval_every=5 * EPOCH, n_eval=2000, probes=probes)}


@register("transformer_transience", "one-layer transformer with attention-only weight decay: transient ICL, "
          "L_IWL vs L_ICL, transience time vs weight decay (Fig 2e, 6d, A.6)", "06_transience")
def _transformer_transience(profile):
    if profile == "smoke":
        return {"wd": RunConfig(model="transformer1", **SMOKE, **_with_wd(grid((64,), 2), (1e-2,)), steps=40,
                                eval_every=20, n_eval=64)}
    if profile == "cpu":
        return {"wd": RunConfig(model="transformer1", **CPU,
                                **_with_wd(grid((1024,), 2), np.geomspace(1e-3, 3e-2, 6)),
                                steps=100_000, eval_every=500, n_eval=1000)}
    return {"wd": RunConfig(model="transformer1", **PAPER, **_with_wd(grid((15_000,), 1), np.geomspace(1e-3, 1e-2, 20)),
                            steps=50_000 * EPOCH, eval_every=50 * EPOCH, n_eval=2000)}


@register("memorization", "MLP alone memorising K item-label pairs: c1, c2, c3 over training and I_K "
          "(Fig 5, A.2, A.3)", "05_memorization_scaling_law", PROFILES)
def _memorization(profile):
    common = dict(model="mlp", N=2, evals=(), probes=("mlp_stats",), n_eval=8)  # the MLP sees the target alone
    if profile == "smoke":
        return {"mlp": RunConfig(**common, D=8, width=16, lr=0.05, batch=32, **grid((16, 64), 2), steps=60,
                                 eval_every=10)}
    if profile == "cpu":
        Ks = tuple(even(k) for k in np.geomspace(64, 8192, 8))
        return {"mlp": RunConfig(**common, D=CPU["D"], width=CPU["width"], lr=CPU["lr"], batch=CPU["batch"],
                                 **grid(Ks, 3), steps=60_000, eval_every=200)}
    Ks = tuple(even(k) for k in np.geomspace(500, 50_000, 8))
    if profile == "paper_net":  # one sub-run (shard) per K, about 15 minutes of one core each
        return {f"K{K}": RunConfig(**common, D=PAPER["D"], width=PAPER["width"], lr=PAPER_NET["lr"],
                                   batch=PAPER["batch"], **grid((K,), 3, seed0=1000 * i), steps=int(1000 * NET_EPOCH),
                                   eval_every=200) for i, K in enumerate(Ks)}
    return {"mlp": RunConfig(**common, D=PAPER["D"], width=PAPER["width"], lr=PAPER["lr"], batch=PAPER["batch"],
                             **grid(Ks, 3), steps=1000 * EPOCH, eval_every=EPOCH // 4)}


def _at_n(base: dict, N: int) -> dict:
    return dict(base, N=N)


@register("ticl_vs_n", "one-layer transformer at K = infinity: t_ICL vs N, its long-tailed distribution "
          "(Fig 6b, A.4)", "08_ticl_vs_n", PROFILES)
def _ticl_vs_n(profile):
    if profile == "smoke":
        return {f"N{N}": RunConfig(model="transformer1", **_at_n(SMOKE, N), **grid((None,), 3), steps=40,
                                   eval_every=10, n_eval=64, evals=("icl",), early_stop=0.99) for N in (4, 6)}
    if profile == "cpu":
        return {f"N{N}": RunConfig(model="transformer1", **_at_n(CPU, N), **grid((None,), 12), steps=800 * N,
                                   eval_every=10 * N, n_eval=500, evals=("icl",), early_stop=0.99)
                for N in (10, 20, 30, 40)}
    if profile == "paper_net":  # the paper's budget of 400 epochs on this clock; exact K = infinity sampling
        return {f"N{N}": RunConfig(model="transformer1", **_at_n(PAPER_NET, N), **grid((None,), 24),
                                   steps=int(400 * NET_EPOCH), eval_every=N, n_eval=1000, evals=("icl",),
                                   early_stop=0.99) for N in (25, 50, 100)}
    return {f"N{N}": RunConfig(model="transformer1", **_at_n(PAPER, N), **grid((None,), 100), steps=400 * EPOCH,
                               eval_every=EPOCH // 4, n_eval=2000, evals=("icl",), early_stop=0.99)
            for N in (50, 100, 150, 200, 250)}


@register("ticl_clock", "one-layer transformer at K = infinity, lr 0.01 against the profile's lr 0.05 on the same "
          "seeds: does t_ICL in iterations scale as 1/lr, the clock every cpu and paper_net result rests on? "
          "(chapter 13)", "13_scale_ladder", ("smoke", "cpu", "paper_net"))
def _ticl_clock(profile):
    """The ticl_vs_n sub-run at one N (N20 at cpu, N50 at paper_net) again at lr 0.01 with five times the
    iterations; seeds are the first of that sub-run's, so the two learning rates start from the same weights."""
    N, n = {"smoke": (6, 3), "cpu": (20, 12), "paper_net": (50, 16)}[profile]
    base = _ticl_vs_n(profile)[f"N{N}"].to_dict()
    base.update(lr=0.01, steps=5 * base["steps"], eval_every=5 * base["eval_every"], Ks=[None] * n,
                seeds=base["seeds"][:n], wd_attn=[0.0] * n)
    return {f"N{N}_lr0.01": RunConfig.from_dict(base)}


@register("kstar_vs_n", "one-layer transformer: ICL accuracy vs K at several N, K* per N (Fig 6a, A.7)",
          "07_kstar_vs_n")
def _kstar_vs_n(profile):
    if profile == "smoke":
        return {f"N{N}": RunConfig(model="transformer1", **_at_n(SMOKE, N), **grid((8, 64), 1), steps=40,
                                   eval_every=20, n_eval=64, early_stop=0.99) for N in (4, 6)}
    if profile == "cpu":
        # Five context lengths, 4 seeds per (N, K), 4 values of K per decade over 1.25 decades centred on the
        # threshold expected from a first sweep (K* = 250, 540, 1340 at N = 10, 20, 40; K* ~ 540 (N/20)^1.2).
        return {f"N{N}": RunConfig(model="transformer1", **_at_n(CPU, N),
                                   **grid(_around(540 * (N / 20) ** 1.2, 6), 4), steps=750 * N,
                                   eval_every=10 * N, n_eval=1000, early_stop=0.99) for N in (10, 13, 17, 23, 30)}
    Ks = tuple(even(2 * k) for k in np.geomspace(250, 2e5, 30))
    return {f"N{N}": RunConfig(model="transformer1", **_at_n(PAPER, N), **grid(Ks, 1), steps=2000 * EPOCH,
                               eval_every=EPOCH, n_eval=2000, early_stop=0.99) for N in (50, 100, 150, 200, 250)}


def _around(k_center: float, n: int, per_decade: int = 4) -> tuple:
    """n even values of K, per_decade per decade, geometrically centred on k_center."""
    half = (n - 1) / (2 * per_decade)
    return tuple(even(k) for k in np.geomspace(k_center / 10**half, k_center * 10**half, n))


# K at which the cpu-profile transformer (N = 20) was expected to acquire ICL in about half of the seeds: the
# `phenomenology` sweep had 1 of 4 seeds above 0.95 ICL accuracy at K = 696 and 4 of 4 at K = 1290; 948 is their
# geometric mean. (With 96 seeds, 81 acquired: both outcomes occur, which is what the bimodality test needs.)
# (The sigmoid-fit K* of final ICL accuracy is lower, 510, because runs there end on intermediate plateaus.)
CPU_K_HALF = 948
# The minimal model's counterpart: 2 of 4 seeds acquired at K = 110 in `minimal_model` (its K* = 93).
CPU_K_HALF_MINIMAL = 110


def _seeds_at_k(model: str, cpu_K: int, cpu_seeds: int):
    """Many seeds at one K (Fig 6c); the one sub-run is named for its K (K948 at the cpu profile). The paper
    profile is the paper's Fig 6c run: K = 9666, about 250 seeds."""
    def build(profile):
        common = dict(model=model, early_stop=0.99)
        if profile == "smoke":
            K, cfg = 32, RunConfig(**common, **SMOKE, **grid((32,), 4), steps=40, eval_every=10, n_eval=64)
        elif profile == "cpu":
            K, cfg = cpu_K, RunConfig(**common, **CPU, **grid((cpu_K,), cpu_seeds), steps=20_000, eval_every=250,
                                      n_eval=1000)
        else:
            K, cfg = 9666, RunConfig(**common, **PAPER, **grid((9666,), 250), steps=1000 * EPOCH, eval_every=EPOCH,
                                     n_eval=2000)
        return {f"K{K}": cfg}
    return build


register("bimodality", "one-layer transformer, 96 seeds at a K where both outcomes occur: bimodal outcomes "
         "(Fig 6c)", "09_bimodality")(_seeds_at_k("transformer1", CPU_K_HALF, 96))
register("bimodality_kstar", "one-layer transformer, 48 seeds at the sigmoid-fit K* = 510 of the phenomenology "
         "sweep (Fig 6c at K*; stored when it was the `bimodality` experiment)", "09_bimodality")(
    _seeds_at_k("transformer1", 510, 48))
register("minimal_bimodality", "minimal model (eq 3), 96 seeds at the K where 2 of 4 seeds acquired ICL in "
         "`minimal_model`: bimodal outcomes in the model the theory describes (Fig 6c)", "09_bimodality")(
    _seeds_at_k("minimal", CPU_K_HALF_MINIMAL, 96))


@register("balanced", "one-layer transformer on standard vs balanced contexts (exactly N/2 labels of each "
          "kind): probability of acquiring ICL vs K, sub-optimal plateaus (Fig 6e, A.8)", "12_balanced")
def _balanced(profile):
    if profile == "smoke":
        return {kind: RunConfig(model="transformer1", **SMOKE, **grid((16, 64), 2), steps=40, eval_every=20,
                                n_eval=64, balanced=kind == "balanced") for kind in ("standard", "balanced")}
    if profile == "cpu":
        Ks = tuple(even(k) for k in np.geomspace(200, 6400, 6))
        return {kind: RunConfig(model="transformer1", **CPU, **grid(Ks, 5), steps=20_000, eval_every=250,
                                n_eval=1000, balanced=kind == "balanced") for kind in ("standard", "balanced")}
    Ks = tuple(even(k) for k in np.geomspace(5000, 80_000, 6)) + (31336,)
    return {kind: RunConfig(model="transformer1", **PAPER, **grid(Ks, 20), steps=1000 * EPOCH, eval_every=EPOCH,
                            n_eval=2000, balanced=kind == "balanced") for kind in ("standard", "balanced")}


@register("ticl_vs_n_two_layer", "two-layer transformer at K = infinity: t_ICL vs N (Fig A.5)", "08_ticl_vs_n")
def _ticl_vs_n_two_layer(profile):
    if profile == "smoke":
        return {f"N{N}": RunConfig(model="transformer2", **_at_n(SMOKE, N), **grid((None,), 2), steps=30,
                                   eval_every=10, n_eval=32, evals=("icl",), early_stop=0.99) for N in (4, 6)}
    if profile == "cpu":  # full causal attention over every position: ~20x the one-layer cost, so smaller
        small = dict(CPU, D=15, width=64)
        return {f"N{N}": RunConfig(model="transformer2", **_at_n(small, N), **grid((None,), 6), steps=1000 * N,
                                   eval_every=10 * N, n_eval=500, evals=("icl",), early_stop=0.99)
                for N in (8, 16)}
    return {f"N{N}": RunConfig(model="transformer2", **_at_n(PAPER, N), **grid((None,), 30), steps=400 * EPOCH,
                               eval_every=EPOCH // 4, n_eval=2000, evals=("icl",), early_stop=0.99)
            for N in (50, 100, 150, 200)}


@register("long_tail", "one-layer transformer at K = infinity, many seeds at one N: the distribution of t_ICL "
          "(Fig A.4)", "10_long_tail")
def _long_tail(profile):
    if profile == "smoke":
        return {"N6": RunConfig(model="transformer1", **SMOKE, **grid((None,), 8), steps=40, eval_every=5,
                                n_eval=64, evals=("icl",), early_stop=0.99)}
    if profile == "cpu":
        return {"N20": RunConfig(model="transformer1", **CPU, **grid((None,), 128), steps=16_000, eval_every=100,
                                 n_eval=500, evals=("icl",), early_stop=0.99)}
    return {"N100": RunConfig(model="transformer1", **PAPER, **grid((None,), 250), steps=400 * EPOCH,
                              eval_every=EPOCH // 4, n_eval=2000, evals=("icl",), early_stop=0.99)}


@register("long_tail_pool", "the long_tail run with the pool sampler (RunConfig.pool: distinct pool items, fresh "
          "labels) on other seeds: does the cheaper K = infinity sampler give the same t_ICL distribution? "
          "(README, Benchmark)", "10_long_tail")
def _long_tail_pool(profile):
    base = next(iter(_long_tail(profile).values())).to_dict()
    n = {"smoke": 8, "cpu": 32, "paper": 250}[profile]
    base.update(Ks=[None] * n, seeds=list(range(5000, 5000 + n)), wd_attn=[0.0] * n, pool=2**14)
    return {f"N{base['N']}": RunConfig.from_dict(base)}
