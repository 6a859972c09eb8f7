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
from .grids import authors_grid, even, geom, grid, per_n, runs_of  # noqa: F401 (catalog.even etc. are used outside)

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
CPU_KS = geom(32, 8192, 10)  # the cpu-profile K grid (N = 20)

PHENOMENOLOGY = {
    "smoke": dict(SMOKE, Ks=(8, 64), seeds=2, steps=40, eval_every=20, n_eval=64),
    "cpu": dict(CPU, Ks=CPU_KS, seeds=4, steps=20_000, eval_every=250, n_eval=1000),
    # 10 K over two decades around the paper's K* ~ 10^4; one sub-run (shard) per K
    "paper_net": dict(PAPER_NET, Ks=geom(1000, 100_000, 10), seeds=4, steps=int(1000 * NET_EPOCH), eval_every=200,
                      n_eval=1000, split="K"),
    "paper": dict(PAPER, Ks=authors_grid(), seeds=5, steps=1000 * EPOCH, eval_every=EPOCH, n_eval=2000),
}


@register("phenomenology", "one-layer transformer: ICL/IWL accuracy vs K and ICL curves (Fig 2b-d)",
          "01_phenomenology", PROFILES)
def _phenomenology(profile):
    return runs_of(PHENOMENOLOGY[profile], model="transformer1", early_stop=0.99)


MINIMAL_MODEL = {
    "smoke": dict(SMOKE, Ks=(8, 64), seeds=2, steps=40, eval_every=20, n_eval=64),
    "cpu": dict(CPU, Ks=CPU_KS, seeds=4, steps=20_000, eval_every=250, n_eval=1000),
    "paper": dict(PAPER, Ks=authors_grid(), seeds=5, steps=1000 * EPOCH, eval_every=EPOCH, n_eval=2000),
}


@register("minimal_model", "minimal model (eq 3): ICL vs K, abrupt acquisition, w, beta, c1, c2 over training "
          "(Fig 3a,b)", "02_minimal_model")
def _minimal_model(profile):
    return runs_of(MINIMAL_MODEL[profile], model="minimal", probes=("wbeta", "mlp_stats"))


MINIMAL_TRANSIENCE = {
    "smoke": dict(SMOKE, split="wd", Ks=(64,), seeds=2, wds=(1e-2,), steps=40, eval_every=20, n_eval=64),
    "cpu": dict(CPU, split="wd", Ks=(512, 1024, 2048), seeds=2, wds=(1e-3, 1e-2), steps=100_000, eval_every=500,
                n_eval=1000),
    "paper": dict(PAPER, split="wd", Ks=(10_000, 20_000), seeds=3, wds=(1e-3,), steps=5000 * EPOCH,
                  eval_every=5 * EPOCH, n_eval=2000),
}


@register("minimal_transience", "minimal model with weight decay on w and beta only: transient ICL, "
          "w against the Lambert-W prediction of eq 15 (Fig 3c)", "06_transience")
def _minimal_transience(profile):
    return runs_of(MINIMAL_TRANSIENCE[profile], model="minimal", probes=("wbeta", "mlp_stats"))


TRANSFORMER_TRANSIENCE = {
    "smoke": dict(SMOKE, split="wd", Ks=(64,), seeds=2, wds=(1e-2,), steps=40, eval_every=20, n_eval=64),
    "cpu": dict(CPU, split="wd", Ks=(1024,), seeds=2, wds=tuple(np.geomspace(1e-3, 3e-2, 6)), steps=100_000,
                eval_every=500, n_eval=1000),
    # the authors' `figA6`: K = 15,000, 20 weight decays, 10,000 epochs; how many runs per weight decay their job
    # array held is not in the code (the figure shows one point per weight decay): one here
    "paper": dict(PAPER, split="wd", Ks=(15_000,), seeds=1, wds=tuple(np.geomspace(1e-3, 1e-2, 20)),
                  steps=10_000 * EPOCH, eval_every=10 * EPOCH, n_eval=2000),
}


@register("transformer_transience", "one-layer transformer with attention-only weight decay: transient ICL, "
          "L_IWL vs L_ICL, transience time vs weight decay (Fig 2e, 6d, A.6)", "06_transience")
def _transformer_transience(profile):
    return runs_of(TRANSFORMER_TRANSIENCE[profile], model="transformer1")


_MLP = dict(N=2, batch=128, split="mlp")  # the MLP alone sees the target and nothing else
MEMORIZATION = {
    "smoke": dict(_MLP, D=8, width=16, lr=0.05, batch=32, Ks=(16, 64), seeds=2, steps=60, eval_every=10),
    "cpu": dict(_MLP, D=CPU["D"], width=CPU["width"], lr=CPU["lr"], Ks=geom(64, 8192, 8), seeds=3, steps=60_000,
                eval_every=200),
    # one sub-run (shard) per K, about 15 minutes of one core each
    "paper_net": dict(_MLP, D=PAPER["D"], width=PAPER["width"], lr=PAPER_NET["lr"], Ks=geom(500, 50_000, 8),
                      seeds=3, steps=int(1000 * NET_EPOCH), eval_every=200, split="K"),
    "paper": dict(_MLP, D=PAPER["D"], width=PAPER["width"], lr=PAPER["lr"], Ks=geom(500, 50_000, 8), seeds=3,
                  steps=1000 * EPOCH, eval_every=EPOCH // 4),
}


@register("memorization", "MLP alone memorising K item-label pairs: c1, c2, c3 over training and I_K "
          "(Fig 5, A.2, A.3)", "05_memorization_scaling_law", PROFILES)
def _memorization(profile):
    return runs_of(MEMORIZATION[profile], model="mlp", evals=(), probes=("mlp_stats",), n_eval=8)


_K_INF = dict(Ks=(None,), split="N", evals=("icl",), early_stop=0.99)
TICL_VS_N = {
    "smoke": dict(SMOKE, **_K_INF, Ns=(4, 6), seeds=3, steps=40, eval_every=10, n_eval=64),
    "cpu": dict(CPU, **_K_INF, Ns=(10, 20, 30, 40), seeds=12, steps=per_n(800), eval_every=per_n(10), n_eval=500),
    # the paper's budget of 400 epochs on this clock; exact K = infinity sampling
    "paper_net": dict(PAPER_NET, **_K_INF, Ns=(25, 50, 100), seeds=24, steps=int(400 * NET_EPOCH),
                      eval_every=per_n(1), n_eval=1000),
    "paper": dict(PAPER, **_K_INF, Ns=(50, 100, 150, 200, 250), seeds=100, steps=400 * EPOCH, eval_every=EPOCH // 4,
                  n_eval=2000),
}


@register("ticl_vs_n", "one-layer transformer at K = infinity: t_ICL vs N, its long-tailed distribution "
          "(Fig 6b, A.4)", "08_ticl_vs_n", PROFILES)
def _ticl_vs_n(profile):
    return runs_of(TICL_VS_N[profile], model="transformer1")


TICL_CLOCK = {"smoke": (6, 3), "cpu": (20, 12), "paper_net": (50, 16)}  # profile -> (N, seeds) of ticl_vs_n


@register("ticl_clock", "one-layer transformer at K = infinity, lr 0.01 against the profile's lr 0.05 on the same "
          "seeds: does t_ICL in iterations scale as 1/lr, the clock every cpu and paper_net result rests on? "
          "(chapter 13)", "13_scale_ladder", ("smoke", "cpu", "paper_net"))
def _ticl_clock(profile):
    """The ticl_vs_n sub-run at one N (N20 at cpu, N50 at paper_net) again at lr 0.01 with five times the
    iterations; seeds are the first of that sub-run's, so the two learning rates start from the same weights."""
    N, n = TICL_CLOCK[profile]
    base = _ticl_vs_n(profile)[f"N{N}"].to_dict()
    base.update(lr=0.01, steps=5 * base["steps"], eval_every=5 * base["eval_every"], Ks=[None] * n,
                seeds=base["seeds"][:n], wd_attn=[0.0] * n)
    return {f"N{N}_lr0.01": RunConfig.from_dict(base)}


# t_ICL against N at the paper's exact hyperparameters (issue 32 b), fixed (2026-12-06) before any of its runs:
# D = 63, width 512, batch 128, lr 0.01, K = infinity, the paper's budget of 400 epochs (187,600 iterations) at
# every N, evaluations every 5 N iterations (at most 2% of the median t_ICL expected from the paper_net lr 0.05 runs
# times the measured clock ratio 4.4), on the 16 seeds (0-15) of ticl_clock's paper_net N = 50 run, which has these
# very settings at N = 50 and is the sweep's middle point (``ticl_paper_lr_config(50)`` is its config; a test
# checks). N = 25 is one shard; N = 100 four shards of 4 seeds (about 1.2 h of one core each). Decided by the
# fig6b rule (rules.rule_linear) at the ladder's `paper` rung. What differs from the paper's Fig 6b: N = 25-100
# instead of 50-250, 16 seeds per N, 1,000 evaluation sequences instead of 2,000.
TICL_PAPER_LR = {
    "smoke": dict(SMOKE, **_K_INF, lr=0.01, Ns=(4, 6), seeds=4, shards={4: 1, 6: 2}, steps=60, eval_every=per_n(2),
                  n_eval=64),
    "paper": dict(PAPER, **_K_INF, Ns=(25, 100), seeds=16, shards={25: 1, 100: 4}, steps=400 * EPOCH,
                  eval_every=per_n(5), n_eval=1000),
}
TICL_PAPER_LR_REUSED = {"smoke": None, "paper": ("ticl_clock", "paper_net", "N50_lr0.01")}  # the sweep's third N


def _at_n(row: dict, N: int, seeds: int | None = None, seed0: int = 0) -> RunConfig:
    """The one-layer transformer's RunConfig of a catalog row (its ``Ns``/``N`` and ``shards`` keys dropped) at
    context length N, with all of the row's seeds unless ``seeds`` is given, from ``seed0`` on."""
    row = {k: v for k, v in row.items() if k not in ("Ns", "N", "shards")}
    row.update(N=N, split="run", seeds=row["seeds"] if seeds is None else seeds, seed0=seed0)
    return runs_of(row, model="transformer1")["run"]


def _seed_shards(row: dict, N: int, k: int) -> dict:
    """Sub-runs of a row at N in k shards of consecutive seeds: N<N> (one shard) or N<N>_s<j> (seeds j*n ..
    j*n + n - 1)."""
    n = row["seeds"] // k
    return {f"N{N}" if k == 1 else f"N{N}_s{j}": _at_n(row, N, seeds=n, seed0=j * n) for j in range(k)}


def ticl_paper_lr_config(N: int, profile: str = "paper", seeds: int | None = None, seed0: int = 0) -> RunConfig:
    """The RunConfig of `ticl_paper_lr` at context length N (all of its seeds unless ``seeds`` is given)."""
    return _at_n(TICL_PAPER_LR[profile], N, seeds, seed0)


@register("ticl_paper_lr", "one-layer transformer at K = infinity at the paper's exact hyperparameters (lr 0.01, "
          "D = 63, width 512, 400 epochs): t_ICL against N, the paper rung of Fig 6b (chapter 13)", "13_scale_ladder",
          ("smoke", "paper"))
def _ticl_paper_lr(profile):
    """Sub-runs N<N> (one shard) or N<N>_s<j> (shard j of seeds j*n .. j*n + n - 1)."""
    row = TICL_PAPER_LR[profile]
    return {k: c for N in row["Ns"] for k, c in _seed_shards(row, N, row["shards"][N]).items()}


# t_ICL at N = 200 at the paper's network on the cpu clock (issue 32 d), fixed (2026-12-07) before any of its runs:
# ticl_vs_n's paper_net settings (D = 63, width 512, lr 0.05, K = infinity, evaluations every N iterations) at
# N = 200, the paper's Fig 6b range being N = 50-250; the first 12 of its seeds (0-11) in four shards of 3, and a
# budget of 1000 epochs on this clock (93,800 iterations) instead of 400, so that no seed is censored (the N = 100
# run's slowest seed, 19,200, times 2^1.29 is about 47,000). About 0.5 h of one core per shard, pinned (measured
# before launch; README). The rule: once all
# four shards are in, this run joins ticl_vs_n's paper_net sweep as its N = 200 point and fig6b at paper_net is
# decided on N = 25, 50, 100, 200 with chapter 8's rule and choice table (seeds resampled independently at each N,
# as they no longer match across N, with the paired analyses on the 12 seeds run at every N beside it: added
# 2026-12-07 before any shard finished); until then the three-point verdict stands and the shards decide nothing.
TICL_N200 = {
    "smoke": dict(SMOKE, **_K_INF, N=8, seeds=4, shards=2, steps=100, eval_every=10, n_eval=64),
    "paper_net": dict(PAPER_NET, **_K_INF, N=200, seeds=12, shards=4, steps=int(1000 * NET_EPOCH),
                      eval_every=per_n(1), n_eval=1000),
}


@register("ticl_n200", "one-layer transformer at K = infinity at N = 200 on the paper_net rung's settings: "
          "t_ICL near the top of the paper's N range, to join ticl_vs_n's sweep (Fig 6b; chapters 8 and 13)",
          "13_scale_ladder", ("smoke", "paper_net"))
def _ticl_n200(profile):
    """Sub-runs N<N>_s<j>: shard j of seeds j*n .. j*n + n - 1."""
    row = TICL_N200[profile]
    return _seed_shards(row, row["N"], row["shards"])


# The MLP's clock check (issue 21 item 1), fixed before it runs: memorization's members at the three smallest of
# the K whose I_K(inf) converged at every seed at paper_net (six, 500 to 13,414; the cheapest three: 500, 966, 1864)
# again at lr 0.01 with five times the iterations, same seeds; at paper_net that is the paper profile's settings
# and seeds (its evaluations are denser). One sub-run per K (a shard, about an hour of one core each at paper_net).
MEMORIZATION_CLOCK_KS = {"smoke": (16,), "cpu": (64, 128), "paper_net": (500, 966, 1864)}


@register("memorization_clock", "the MLP alone at lr 0.01 with five times the iterations against memorization's "
          "lr 0.05 on the same seeds: does I_K(inf) in iterations scale as 1/lr? (chapter 13)", "13_scale_ladder",
          ("smoke", "cpu", "paper_net"))
def _memorization_clock(profile):
    """memorization's sub-runs restricted to MEMORIZATION_CLOCK_KS, at lr 0.01 for 5x the steps (evaluations at
    the same gradient-flow times), one sub-run per K named K<K>_lr0.01."""
    out = {}
    for cfg in _memorization(profile).values():
        for K in MEMORIZATION_CLOCK_KS[profile]:
            keep = [i for i, k in enumerate(cfg.Ks) if k == K]
            if not keep:
                continue
            d = cfg.to_dict()
            d.update(lr=0.01, steps=5 * cfg.steps, eval_every=5 * cfg.eval_every, Ks=[cfg.Ks[i] for i in keep],
                     seeds=[cfg.seeds[i] for i in keep], wd_attn=[cfg.wd_attn[i] for i in keep])
            out[f"K{K}_lr0.01"] = RunConfig.from_dict(d)
    return out


def _around(k_center: float, n: int, per_decade: int = 4) -> tuple:
    """n even values of K, per_decade per decade, geometrically centred on k_center."""
    half = (n - 1) / (2 * per_decade)
    return geom(k_center / 10**half, k_center * 10**half, n)


# The paper_net K grids of kstar_vs_n, fixed (2026-12-01) before any of its runs: centred on eq 13's prediction
# from the rung's own measurements, K*(N) = K*(100) ((N - 1) / 99)^(1/nu), with K*(100) = 8,189 the sigmoid K* of
# phenomenology's paper_net sweep as it stood (9 of its 10 K finished; K = 1668 not yet) and nu = 0.754 the
# memorisation exponent of memorization's paper_net run (analysis.ladder recomputes both; a test checks). Six K
# per N, four per decade, as at the cpu profile: the grid spans a factor 4.2 either side of the centre, enough
# for any exponent between 1 and 1.6 to place K* inside it.
PAPER_NET_KSTAR_100, PAPER_NET_NU = 8189, 0.754


def kstar_predicted(N: int) -> float:
    """The centre of the paper_net K grid at context length N (the comment above)."""
    return PAPER_NET_KSTAR_100 * ((N - 1) / 99) ** (1 / PAPER_NET_NU)


KSTAR_VS_N = {
    "smoke": dict(SMOKE, split="N", Ns=(4, 6), Ks=(8, 64), seeds=1, steps=40, eval_every=20, n_eval=64),
    # Five context lengths, 4 seeds per (N, K), 4 values of K per decade over 1.25 decades centred on the
    # threshold expected from a first sweep (K* = 250, 540, 1340 at N = 10, 20, 40; K* ~ 540 (N/20)^1.2).
    "cpu": dict(CPU, split="N", Ns=(10, 13, 17, 23, 30), Ks=lambda N: _around(540 * (N / 20) ** 1.2, 6), seeds=4,
                steps=per_n(750), eval_every=per_n(10), n_eval=1000),
    # N = 25 and 50; the N = 100 point is phenomenology's paper_net sweep, whose budget (1000 epochs on this
    # clock) this one scales with N, as the cpu profile does (t_ICL ~ N, eq 11); the paper runs 2000 epochs at
    # every N. K grids placed by the rung's own results, fixed before the run (see PAPER_NET_KSTAR_100).
    "paper_net": dict(PAPER_NET, split="N", Ns=(25, 50), seeds=4, steps=per_n(10 * NET_EPOCH), eval_every=per_n(2),
                      n_eval=1000, Ks=lambda N: _around(kstar_predicted(N), 6)),
    "paper": dict(PAPER, split="N", Ns=(50, 100, 150, 200, 250),
                  Ks=tuple(even(2 * k) for k in np.geomspace(250, 2e5, 30)), seeds=1, steps=2000 * EPOCH,
                  eval_every=EPOCH, n_eval=2000),
}


def context_lengths(profile: str) -> list:
    """The context lengths N that `ticl_vs_n` and `kstar_vs_n` train at `profile` (where they define it): the N at
    which chapter 5 predicts t_ICL and K* from the memorisation law (eqs 11-13)."""
    return sorted({c.N for name in ("ticl_vs_n", "kstar_vs_n") if profile in get(name).profiles
                   for c in get(name).runs(profile).values()})


# A sweep an experiment takes at a rung from another experiment instead of training it again: {(experiment,
# profile): the experiment whose stored sweep (pooled over its sub-runs) is one more sub-run, named N<its N>}.
# (analysis.ladder.rung_data adds it; the verdict at that rung needs both stored.)
REUSES = {("kstar_vs_n", "paper_net"): "phenomenology"}
# {(experiment, profile): the experiment whose stored result joins it as one more context length, a sub-run
# N<its N>, once all of its shards are in (never partial: until then the experiment is read alone). The rule fixed
# with ticl_n200 (above); the smoke entry exercises it in the tests.
JOINS = {("ticl_vs_n", "paper_net"): "ticl_n200", ("ticl_vs_n", "smoke"): "ticl_n200"}


@register("kstar_vs_n", "one-layer transformer: ICL accuracy vs K at several N, K* per N (Fig 6a, A.7)",
          "07_kstar_vs_n", PROFILES)
def _kstar_vs_n(profile):
    return runs_of(KSTAR_VS_N[profile], model="transformer1", early_stop=0.99)


# K* where it is decided (issue 32 c), fixed (2026-12-06) before any of its runs. At N = 25, 50 and 100 on the
# paper_net rung, around the K* of the stored sweeps (sigmoid fits: 1,554, 4,269 and 8,180): every K of the sweep
# within a factor of two of K* gets 4 more seeds (8 in all; seeds continue the sweep's, 1000 i + 4 ... 7), and two
# new K at the geometric thirds of the grid interval that holds K* get 8 seeds each (two shards of 4; seeds from
# 50,000). Settings, budget (938 N iterations) and evaluations are the sweeps' own, so the shards pool with them
# (kstar_vs_n at N = 25 and 50, phenomenology at N = 100). K* at N = 100 against 10^4 and the K* exponent are then
# decided by the rules and choice tables of chapters 1 and 7 on the pooled sweeps. Shards: about 0.3 (N = 25),
# 0.6 (N = 50) and 1.2 (N = 100) hours of one core each where no seed acquires.
KSTAR_DENSE_CENTRES = {25: 1554, 50: 4269, 100: 8180}


def kstar_dense_grid(N: int) -> tuple[tuple, tuple]:
    """(the sweep's K within a factor of two of K*, the two new K) at context length N (the comment above)."""
    grid = PHENOMENOLOGY["paper_net"]["Ks"] if N == 100 else KSTAR_VS_N["paper_net"]["Ks"](N)
    k = KSTAR_DENSE_CENTRES[N]
    near = tuple(x for x in grid if k / 2 <= x <= 2 * k)
    lo, hi = max(x for x in grid if x <= k), min(x for x in grid if x > k)
    return near, (even(lo * (hi / lo) ** (1 / 3)), even(lo * (hi / lo) ** (2 / 3)))


@register("kstar_dense", "one-layer transformer at the paper's network: more seeds at the K near K* and two new K "
          "inside the grid interval that holds it, at N = 25, 50 and 100, pooled with the stored sweeps (Fig 2b, 6a; "
          "chapter 13)", "13_scale_ladder", ("smoke", "paper_net"))
def _kstar_dense(profile):
    """Sub-runs N<N>_K<K> (4 more seeds at a sweep's K) and N<N>_K<K>_s<b> (a new K, block b of 4 seeds)."""
    if profile == "smoke":  # two shards at the smoke sweeps' N = 6, with new seeds: one at a sweep's K, one new K
        row = dict(SMOKE, seeds=2, steps=40, eval_every=20, n_eval=64)
        return {name: runs_of(dict(row, Ks=(K,), split=name, seed0=seed0), model="transformer1",
                              early_stop=0.99)[name] for name, K, seed0 in (("N6_K8", 8, 100), ("N6_K24", 24, 200))}
    out = {}
    for N in sorted(KSTAR_DENSE_CENTRES):
        grid = PHENOMENOLOGY["paper_net"]["Ks"] if N == 100 else KSTAR_VS_N["paper_net"]["Ks"](N)
        row = dict(PAPER_NET, N=N, seeds=4, steps=int(10 * NET_EPOCH * N), eval_every=2 * N, n_eval=1000)
        near, new = kstar_dense_grid(N)
        for K in near:
            name = f"N{N}_K{K}"
            out[name] = runs_of(dict(row, Ks=(K,), split=name, seed0=1000 * grid.index(K) + 4),
                                model="transformer1", early_stop=0.99)[name]
        for j, K in enumerate(new):
            for b in range(2):
                name = f"N{N}_K{K}_s{b}"
                out[name] = runs_of(dict(row, Ks=(K,), split=name, seed0=50_000 + 1000 * j + 4 * b),
                                    model="transformer1", early_stop=0.99)[name]
    return out


# K at which the cpu-profile transformer (N = 20) was expected to acquire ICL in about half of the seeds: the
# `phenomenology` sweep had 1 of 4 seeds above 0.95 ICL accuracy at K = 696 and 4 of 4 at K = 1290; 948 is their
# geometric mean. (With 96 seeds, 81 acquired: both outcomes occur, which is what the bimodality test needs.)
# (The sigmoid-fit K* of final ICL accuracy is lower, 510, because runs there end on intermediate plateaus.)
CPU_K_HALF = 948
# The minimal model's counterpart: 2 of 4 seeds acquired at K = 110 in `minimal_model` (its K* = 93).
CPU_K_HALF_MINIMAL = 110


def _seeds_at_k(model: str, cpu_K: int, cpu_seeds: int, paper_net: tuple | None = None):
    """Many seeds at one K (Fig 6c); the one sub-run is named for its K (K948 at the cpu profile). The paper
    profile is the paper's Fig 6c run: K = 9666, about 250 seeds. ``paper_net``: (N, K, seeds, shards) of a run at
    the paper's network, split into `shards` sub-runs K<K>_s<j> of seeds/shards seeds each (seeds from 10,000, so
    no member repeats a kstar_vs_n initialisation), on kstar_vs_n's paper_net budget at that N."""
    table = {
        "smoke": dict(SMOKE, Ks=(32,), seeds=4, steps=40, eval_every=10, n_eval=64),
        "cpu": dict(CPU, Ks=(cpu_K,), seeds=cpu_seeds, steps=20_000, eval_every=250, n_eval=1000),
        "paper": dict(PAPER, Ks=(9666,), seeds=250, steps=1000 * EPOCH, eval_every=EPOCH, n_eval=2000),
    }
    if paper_net is not None:
        N, K, seeds, shards = paper_net
        row = KSTAR_VS_N["paper_net"]
        table["paper_net"] = dict(PAPER_NET, N=N, Ks=(K,), seeds=seeds // shards, shards=shards,
                                  steps=row["steps"](N), eval_every=row["eval_every"](N), n_eval=row["n_eval"])

    def build(profile):
        row = dict(table[profile])
        shards = row.pop("shards", 1)
        if shards == 1:
            return runs_of(dict(row, split=f"K{row['Ks'][0]}"), model=model, early_stop=0.99)
        out = {}
        for j in range(shards):
            out.update(runs_of(dict(row, split=f"K{row['Ks'][0]}_s{j}", seed0=10_000 + j * row["seeds"]),
                               model=model, early_stop=0.99))
        return out
    return build


register("bimodality", "one-layer transformer, 96 seeds at a K where both outcomes occur: bimodal outcomes "
         "(Fig 6c)", "09_bimodality")(_seeds_at_k("transformer1", CPU_K_HALF, 96))
register("bimodality_kstar", "one-layer transformer, 48 seeds at the sigmoid-fit K* = 510 of the phenomenology "
         "sweep (Fig 6c at K*; stored when it was the `bimodality` experiment)", "09_bimodality")(
    _seeds_at_k("transformer1", 510, 48))
# The third Fig 6c run, its K fixed by a rule written before it ran (2026-12-01), from the two earlier runs:
# the K at which the fraction of seeds acquiring ICL (accuracy > 0.95 within the budget) is 1/2, with logit(fraction)
# linear in log K between them: 1 of 48 at K = 510 (`bimodality_kstar`, run first), 81 of 96 at K = 948
# (`bimodality`, run second); K = 784.9, rounded to the even 784 (analysis.bimodality.k_half_between recomputes
# it from the stored runs; a test checks). Decided by verdicts.rule_early_or_never.
CPU_K_HALF_INTERPOLATED = 784
# Its paper_net run (issue 21 item 5): N = 50, K placed by analysis.bimodality.k_half_on_grid (committed before
# the sweep finished) on kstar_vs_n's paper_net N = 50 sweep: 1 of 4 seeds acquired at K = 4296, 4 of 4 at 7640;
# K = 5042.5, rounded to the even 5042 (a test recomputes it). 96 seeds in 4 shards of 24.
PAPER_NET_K_HALF_50 = 5042
register("bimodality_khalf", "one-layer transformer, 96 seeds at the K fixed before the run where half the seeds "
         "should acquire ICL (interpolated between the two earlier Fig 6c runs; at paper_net, on the N = 50 K* "
         "sweep)", "09_bimodality", PROFILES)(
    _seeds_at_k("transformer1", CPU_K_HALF_INTERPOLATED, 96, paper_net=(50, PAPER_NET_K_HALF_50, 96, 4)))
register("minimal_bimodality", "minimal model (eq 3), 96 seeds at the K where 2 of 4 seeds acquired ICL in "
         "`minimal_model`: bimodal outcomes in the model the theory describes (Fig 6c)", "09_bimodality")(
    _seeds_at_k("minimal", CPU_K_HALF_MINIMAL, 96))


BALANCED = {
    "smoke": dict(SMOKE, split="kind", Ks=(16, 64), seeds=2, steps=40, eval_every=20, n_eval=64),
    "cpu": dict(CPU, split="kind", Ks=geom(200, 6400, 6), seeds=5, steps=20_000, eval_every=250, n_eval=1000),
    "paper": dict(PAPER, split="kind", Ks=geom(5000, 80_000, 6) + (31336,), seeds=20, steps=1000 * EPOCH,
                  eval_every=EPOCH, n_eval=2000),
}


@register("balanced", "one-layer transformer on standard vs balanced contexts (exactly N/2 labels of each "
          "kind): probability of acquiring ICL vs K, sub-optimal plateaus (Fig 6e, A.8)", "12_balanced")
def _balanced(profile):
    return runs_of(BALANCED[profile], model="transformer1")


# Which solution do balanced-trained networks find? In a balanced context the target's label is the context's
# minority label, so "answer the minority label" scores perfectly on the balanced task without copying. Fixed
# before the run (2026-12-01): the `balanced` experiment's K, seeds and budget, evaluated also on standard
# contexts and on conflict contexts (the target's label is the context's majority: copying and the shortcut
# disagree on every sequence). Sub-runs: `balanced` and `standard` repeat `balanced` exactly (same seeds and
# batches; the extra evaluations are drawn after the others, so the stored curves must come back bit for bit;
# they did not: the stored run is from commit 2e4eba0, whose trainer computes the same algebra in another
# floating-point order, and its round-off grows over training; chapter 12 reports both runs);
# `balanced_lr0.01` is the learning-rate control at the paper's lr on the same clock (5x the steps, evaluations
# 5x apart) for the three largest K and their seeds. The rule is verdicts.rule_copying; the paper profile needs
# no control (its lr is 0.01).
BALANCED_SOLUTION_EVALS = ("icl", "iwl", "icl_standard", "icl_conflict")


@register("balanced_solution", "one-layer transformer trained on balanced contexts, evaluated on balanced, standard "
          "and conflict contexts (the minority-label shortcut against copying), at lr 0.05 and an lr 0.01 "
          "control (Fig 6e)", "12_balanced")
def _balanced_solution(profile):
    row = dict(BALANCED[profile], evals=BALANCED_SOLUTION_EVALS)
    out = runs_of(row, model="transformer1")
    if row["lr"] > 0.01:
        top, slow = row["Ks"][-3:], 0.01 / row["lr"]
        control = dict(row, split="balanced_lr0.01", Ks=top, seed0=1000 * (len(row["Ks"]) - len(top)), lr=0.01,
                       steps=round(row["steps"] / slow), eval_every=round(row["eval_every"] / slow), balanced=True)
        out.update(runs_of(control, model="transformer1"))
    return out


TICL_VS_N_TWO_LAYER = {
    "smoke": dict(SMOKE, **_K_INF, Ns=(4, 6), seeds=2, steps=30, eval_every=10, n_eval=32),
    # full causal attention over every position: ~20x the one-layer cost, so smaller
    "cpu": dict(CPU, D=15, width=64, **_K_INF, Ns=(8, 16), seeds=6, steps=per_n(1000), eval_every=per_n(10),
                n_eval=500),
    "paper": dict(PAPER, **_K_INF, Ns=(50, 100, 150, 200), seeds=30, steps=400 * EPOCH, eval_every=EPOCH // 4,
                  n_eval=2000),
}


@register("ticl_vs_n_two_layer", "two-layer transformer at K = infinity: t_ICL vs N (Fig A.5)", "08_ticl_vs_n")
def _ticl_vs_n_two_layer(profile):
    return runs_of(TICL_VS_N_TWO_LAYER[profile], model="transformer2")


LONG_TAIL = {
    "smoke": dict(SMOKE, Ks=(None,), seeds=8, steps=40, eval_every=5, n_eval=64),
    "cpu": dict(CPU, Ks=(None,), seeds=128, steps=16_000, eval_every=100, n_eval=500),
    "paper": dict(PAPER, Ks=(None,), seeds=250, steps=400 * EPOCH, eval_every=EPOCH // 4, n_eval=2000),
}


@register("long_tail", "one-layer transformer at K = infinity, many seeds at one N: the distribution of t_ICL "
          "(Fig A.4)", "10_long_tail")
def _long_tail(profile):
    row = LONG_TAIL[profile]
    return runs_of(dict(row, split=f"N{row['N']}"), model="transformer1", evals=("icl",), early_stop=0.99)


LONG_TAIL_POOL = {"smoke": 8, "cpu": 32, "paper": 250}  # profile -> seeds (5000, 5001, ...)


# bf16 autocast (RunConfig.precision) against fp32, on the same runs (issue 21). `t_icl_fp32` and `t_icl_bf16`: the
# long_tail run on its first 32 seeds, identical but for the precision (same initialisations, same batches), paired
# per seed; `mlp_bf16`: the cpu `memorization` run at bf16, paired member by member with the stored fp32 result.
# The criterion, written before it ran (2026-12-01), is analysis.precision.precision_check's.
BF16_SEEDS = {"smoke": 8, "cpu": 32, "paper": 64}


@register("bf16_check", "bf16 autocast against fp32 on the same runs: t_ICL of 32 seeds at K = infinity and the "
          "MLP's memorisation (c1, I_K, nu)", "13_scale_ladder")
def _bf16_check(profile):
    base = next(iter(_long_tail(profile).values())).to_dict()
    n = BF16_SEEDS[profile]
    base.update(Ks=[None] * n, seeds=list(range(n)), wd_attn=[0.0] * n)
    mlp = _memorization(profile)["mlp"]
    return {"t_icl_fp32": RunConfig.from_dict(base), "t_icl_bf16": RunConfig.from_dict(dict(base, precision="bf16")),
            "mlp_bf16": RunConfig.from_dict(dict(mlp.to_dict(), precision="bf16"))}


@register("long_tail_pool", "the long_tail run with the pool sampler (RunConfig.pool: distinct pool items, fresh "
          "labels) on other seeds: does the cheaper K = infinity sampler give the same t_ICL distribution? "
          "(README, Benchmark)", "10_long_tail")
def _long_tail_pool(profile):
    base = next(iter(_long_tail(profile).values())).to_dict()
    n = LONG_TAIL_POOL[profile]
    base.update(Ks=[None] * n, seeds=list(range(5000, 5000 + n)), wd_attn=[0.0] * n, pool=2**14)
    return {f"N{base['N']}": RunConfig.from_dict(base)}
