"""K* where it is decided (issue 32 c): the `kstar_dense` runs add seeds at the K near K* and two new K inside the
grid interval that holds it, at each context length N of the paper_net rung, with the settings of the sweeps they
extend (`kstar_vs_n` at N = 25 and 50, `phenomenology` at N = 100). The rule fixed with them before they ran
(catalog): at each N, once every dense shard at that N has finished, the sweep pooled with them replaces the sweep
alone wherever the rung is read (chapters 1 and 7, the ladder, the scorecard). Shards of an N still training are
shown beside the sweep as progress (:func:`dense_progress`) and decide nothing.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .. import catalog, experiments, fits, store
from ..config import RunConfig
from ..store import Result
from ..prose import DASH, fmt
from .runs import members, pooled
from .section import Section, glued, kept
from .phenomenology import paper_kstar_inside
from .small_sample import kstar_t_model

DENSE = "kstar_dense"
EXTENDS = ("phenomenology", "kstar_vs_n")  # the sweeps whose sub-runs at an N the dense shards at that N join


@dataclass(frozen=True)
class DenseAtN:
    """The dense shards at one context length: finished ones (arrays, configs) and how many are defined."""
    N: int
    runs: dict
    configs: dict
    n_defined: int

    @property
    def complete(self) -> bool:
        return len(self.runs) == self.n_defined


def dense_shards(profile: str, out=None) -> dict[int, DenseAtN]:
    """{N: DenseAtN} of `kstar_dense` at ``profile`` (its stored result, else its verified finished shards);
    empty where the experiment has no such profile. Never trains."""
    exp = experiments.get(DENSE)
    if profile not in exp.profiles:
        return {}
    defined = exp.runs(profile)
    res = experiments.load_optional(DENSE, profile, out)
    runs = res.runs if res is not None else experiments.finished_shards(DENSE, profile, out)
    out_ = {}
    for N in sorted({c.N for c in defined.values()}):
        names = [k for k, c in defined.items() if c.N == N]
        done = [k for k in names if k in runs]
        out_[N] = DenseAtN(N, {k: runs[k] for k in done}, {k: defined[k] for k in done}, len(names))
    return out_


def extend(name: str, runs: dict, configs: dict, profile: str, out=None, partial: bool = False) -> tuple:
    """(runs, configs, the dense shards pooled) of experiment `name`'s sub-runs at ``profile`` with the dense
    shards of each N whose shards have all finished (``partial``: of every N, finished or not; progress only)
    pooled into the sub-runs at that N, as one sub-run ``N<N>`` (or the N's one sub-run's own name). ValueError
    (from :func:`pooled`) if a shard was not trained as the sweep was."""
    if name not in EXTENDS:
        return runs, configs, ()
    runs, configs, added = dict(runs), dict(configs), []
    for N, sh in dense_shards(profile, out).items():
        at = [k for k, c in configs.items() if c.N == N]
        if not at or not sh.runs or not (sh.complete or partial):
            continue
        run, cfg = pooled({**{k: runs[k] for k in at}, **sh.runs}, {**{k: configs[k] for k in at}, **sh.configs})
        key = at[0] if len(at) == 1 else f"N{N}"
        for k in at:
            del runs[k], configs[k]
        runs[key], configs[key] = run, cfg
        added += list(sh.runs)
    return runs, configs, tuple(added)


@dataclass(frozen=True)
class DenseProgress(Section):
    """Where the dense runs stand: K* per N from the sweep alone and pooled with the dense shards finished so
    far (a description while an N is partial; the rung reads the pooled sweep only once that N is complete)."""
    n_done: int = glued()
    n_defined: int = glued()
    n_complete: int = glued()
    t_width_ratio: float = glued()  # the widest t-model interval of a sweep alone, over its seed-bootstrap one
    summary: str = glued()  # what the pooled runs changed at the largest N whose runs are all in ('' if none)
    rows: list = kept()


def _kstar_cells(K, acc) -> list:
    """K*, its seed-bootstrap interval (resampling within each K) and its t-model interval (each K's mean as a
    t(n - 1) variable; honest at a few seeds per K), as table cells: the same computations, replicates and seeds
    as chapters 1 and 7."""
    thr = fits.fit_threshold(K, acc)
    tm = kstar_t_model({1: (K, acc)})
    return ([fmt(thr.k_star, ',.0f'), interval_k(thr.ci), interval_k(tm.ci[0])], np.ptp(tm.ci[0]) / np.ptp(thr.ci),
            (thr.k_star, thr.ci, tm.ci[0]))


def interval_k(ci) -> str:
    return f"[{fmt(ci[0], ',.0f')}, {fmt(ci[1], ',.0f')}]"


def _seeds(K) -> str:
    """Seeds per K: one number, or the fewest and the most."""
    n = [int(np.sum(K == k)) for k in np.unique(K)]
    return str(n[0]) if min(n) == max(n) else f"{min(n)}-{max(n)}"


def dense_progress(sweep_runs: dict, sweep_configs: dict, profile: str, out=None) -> DenseProgress:
    """Rows per N: the sweep alone (``sweep_*``: one sub-run per N, no dense shard pooled:
    ``ladder.rung_data("kstar_vs_n", profile, with_dense=False)``) and, where dense shards
    have finished, the sweep pooled with them: K values, seeds per K, K* with both intervals, the shards' state."""
    dense = dense_shards(profile, out)
    pooled_runs, pooled_cfgs, added = extend("kstar_vs_n", sweep_runs, sweep_configs, profile, out, partial=True)
    rows, ratios, at = [], [], {}
    for label, (r, c) in (("sweep alone", (sweep_runs, sweep_configs)),
                          ("pooled with the dense shards", (pooled_runs, pooled_cfgs))):
        for name, cfg in sorted(c.items(), key=lambda kv: kv[1].N):
            d = dense.get(cfg.N)
            if label != "sweep alone" and (d is None or not d.runs):
                continue
            K = members(cfg)["K"]
            state = (DASH if label == "sweep alone" else
                     f"{len(d.runs)} of {d.n_defined}" + (" (complete)" if d.complete else " (partial)"))
            cells, ratio, nums = _kstar_cells(K, np.asarray(r[name]["final_icl_acc"], float))
            rows.append([label, cfg.N, len(np.unique(K)), _seeds(K), *cells, state])
            at.setdefault(cfg.N, []).append(nums)
            if label == "sweep alone":
                ratios.append(ratio)
    return DenseProgress.of(dict(n_done=len(added), n_defined=sum(d.n_defined for d in dense.values()),
                                 n_complete=sum(d.complete for d in dense.values()),
                                 t_width_ratio=float(np.nanmax(ratios)) if ratios else np.nan,
                                 summary=_summary(at, [N for N, d in dense.items() if d.complete])), {},
                            dict(rows=rows))


def _summary(nums: dict, complete: list) -> str:
    """A sentence on K* at the largest N whose dense runs are all in, pooled against the sweep alone, and where
    the paper's K* (about 10^4, at N = 100) falls (chapter 1's description, :func:`paper_kstar_inside`)."""
    if not complete or len(nums.get(max(complete), ())) < 2:
        return ""
    N = max(complete)
    (k0, b0, t0), (k1, b1, t1) = nums[N][:2]
    text = (f"At N = {N}, pooled, K* is {fmt(k1, ',.0f')} (seed bootstrap {interval_k(b1)}, t model "
            f"{interval_k(t1)}), against {fmt(k0, ',.0f')} (seed bootstrap {interval_k(b0)}, t model "
            f"{interval_k(t0)}) from the sweep alone")
    return text + (f"; pooled, the paper's value (about 10\u2074) lies {paper_kstar_inside(b1, t1)}." if N == 100
                   else ".")


def in_at(profile: str, out=None) -> str:
    """'' when every N's dense shards at ``profile`` have finished (or it has none); else where they are in, e.g.
    'in at N = 100 of N = 25, 50, 100'. A statistic across N (the K* exponent) waits for all of them: its design is
    the complete set, and a mix of pooled and unpooled N would be read at a state no rule fixed."""
    d = dense_shards(profile, out)
    if all(s.complete for s in d.values()):
        return ""
    done = [N for N, s in d.items() if s.complete]
    every = ", ".join(map(str, d))
    return (f"in at N = {', '.join(map(str, done))} of N = {every}" if done else f"in at none of N = {every}")


def waiting(profile: str, out=None) -> str:
    """The reason a statistic across N is not decided yet at ``profile`` (a 'too few runs' reason for
    ``book.decide_at_rung``), '' once every N's dense shards have finished."""
    where = in_at(profile, out)
    return (f"too few runs: the new runs near K* (chapter 13) are {where}; the exponent across N is decided once "
            "they are in at every N" if where else "")


def _where(profile: str, out=None) -> str:
    """Where the dense runs at ``profile`` are kept: the stored result once every shard has finished, else the
    finished shards (and how to run the rest)."""
    if store.stored_meta(DENSE, profile, out) is not None:
        return (f"stored in results/{DENSE}/{profile}.json, each run with its own commit, device and wall time; "
                f"regenerate them with `python -m icl_kinetics run {DENSE} --profile {profile} --retrain`")
    return (f"the finished shards under results/{DENSE}/{profile}.shards/, each with its own commit, device and "
            f"wall time; run the rest with `python -m icl_kinetics run {DENSE} --profile {profile} --only <shard>`")


def pooled_line(extended: tuple, profile: str, out=None) -> str:
    """A caption's sentence naming the dense shards pooled into a sweep (empty when none are)."""
    if not extended:
        return ""
    per_n = {}
    for name in extended:
        per_n.setdefault(name.split("_")[0], []).append(name)
    counts = sorted({len(v) for v in per_n.values()})
    each = f", {counts[0]} at each context length" if len(per_n) > 1 and len(counts) == 1 else ""
    return f"Pooled with the {len(extended)} `{DENSE}` shards of chapter 13{each}: {_where(profile, out)}."


def data_line(profile: str, out=None) -> str:
    """The provenance of chapter 13's table of the dense runs."""
    return (f"Data: `kstar_vs_n` and `phenomenology` at `{profile}`, and the `{DENSE}` runs: "
            f"{_where(profile, out)}.")


# A new context length joining a sweep (issue 32 d, `ticl_n200`): the same idea at the level of a whole N. The rule
# fixed with it: once every shard of the joining experiment is in (its result stored), it is one more sub-run of
# the sweep, N<its N>, wherever the sweep is read (chapter 8, the ladder, the scorecard); until then the sweep is
# read alone. Its budget may differ (larger, so that no seed is censored); every other setting must be the sweep's.
PER_MEMBER_OR_N = ("N", "Ks", "seeds", "wd_attn", "steps", "eval_every")


def join_runs(name: str, profile: str, runs: dict, configs: dict, out=None) -> tuple:
    """(runs, configs, the joined experiment or '') of experiment `name`'s sub-runs at ``profile`` with the stored
    result of the experiment that joins it there (``catalog.JOINS``) as one more sub-run ``N<its N>``; unchanged
    while that result is not stored. ValueError if the joining runs were not trained as the sweep's."""
    other = catalog.JOINS.get((name, profile))
    res = experiments.load_optional(other, profile, out) if other and configs else None
    if res is None:
        return runs, configs, ""
    run, cfg = pooled(res.runs, res.configs())
    key = f"N{cfg.N}"
    own = next(iter(configs.values()))
    a, b = dataclasses.asdict(own), dataclasses.asdict(cfg)
    bad = [k for k in a if k not in PER_MEMBER_OR_N and a[k] != b[k]]
    if cfg.eval_every * own.N not in (own.eval_every * own.N, own.eval_every * cfg.N):  # the same, or per unit N
        bad.append("eval_every")
    if key in configs or bad:
        raise ValueError(f"{other} at {profile} cannot join {name} as its {key}: "
                         + (f"{name} has {key} itself" if key in configs else
                            f"it differs in {', '.join(bad)}")
                         + "; fix catalog.JOINS or the catalog entry")
    return {**runs, key: run}, {**configs, key: cfg}, other


def joined(result: Result, out=None) -> Result:
    """A stored ``result`` with the experiment that joins it (:func:`join_runs`) as one more sub-run, in the
    result's own shape (its meta's ``runs`` gains that sub-run's config and ``joined`` names the experiment)."""
    runs, configs, other = join_runs(result.experiment, result.profile, result.runs, result.configs(), out)
    if not other:
        return result
    key = next(k for k in runs if k not in result.runs)
    meta = dict(result.meta, runs={k: RunConfig.to_dict(c) for k, c in configs.items()}, joined=other, joined_as=key)
    return Result(result.experiment, result.profile, meta, runs)


def joined_line(result: Result) -> str:
    """A caption's sentence naming the experiment joined into ``result`` by :func:`joined` (empty when none is)."""
    other = result.meta.get("joined")
    if not other:
        return ""
    cfg = result.configs()[result.meta["joined_as"]]
    return (f"Its N = {cfg.N} point is experiment `{other}` ({cfg.E} seeds, a budget of {cfg.steps:,} iterations), fixed "
            f"before its runs to join this sweep once complete: results/{other}/{result.profile}.json, each shard "
            f"with its own commit, device and wall time; regenerate with `python -m icl_kinetics run {other} "
            f"--profile {result.profile} --retrain`.")


def join_status(name: str, profile: str, out=None) -> str:
    """A sentence on the experiment that joins ``name`` at ``profile`` (catalog.JOINS): joined, or how many of its
    shards have finished ('' when none joins)."""
    other = catalog.JOINS.get((name, profile))
    if not other:
        return ""
    defined = experiments.get(other).runs(profile)
    N = next(iter(defined.values())).N
    n = sum(c.E for c in defined.values())
    if store.stored_meta(other, profile, out) is not None:
        return (f"Its N = {N} point ({n} seeds, experiment `{other}`) was fixed before its runs and joined this "
                f"sweep, and this verdict, once all its shards were in.")
    done = len(experiments.finished_shards(other, profile, out))
    return (f"A further point, N = {N} ({n} seeds, experiment `{other}`, with a budget that censors none), was fixed "
            f"before its runs; it joins this sweep, and this verdict, once all its shards are in ({done} of "
            f"{len(defined)} so far; chapter 16).")
