"""The scale ladder (issue 21): each scale-free statistic of the paper measured at every rung (profile) that has
data, from the book's cpu profile up to the paper's own network (``paper_net``) and the paper's settings.

A rung's data is the stored result when the experiment is finished at that profile, else its finished shards
(sub-runs committed as they finish): the statistic is then computed on what is finished and the rung says so.
A rung never trains anything here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import catalog, experiments
from ..config import RunConfig
from ..config import n_context as context_items
from ..errors import ResultsError
from ..prose import DASH, count, fmt
from ..rules import rule_clock
from ..verdicts import RUNG_CLAIMS, SCALE_NAMES, Pending
from . import bimodality, dense, memorization, phenomenology, scaling, threshold
from .memorization import fit_memorization_scaling, memorization_table
from .runs import censored_t_icl, crossing_t_icl, pooled, safe_sweep_threshold
from .scaling import median_vs_n_fit
from .small_sample import geometric_mean_t, trend_with_k

LADDER = ("cpu", "paper_net", "paper")  # the rungs, smallest first; the book's profile replaces "cpu"


@dataclass(frozen=True)
class RungData:
    """What one experiment has at one profile: the finished sub-runs (arrays and configs), how many it defines,
    and whether they are the stored, complete result."""
    experiment: str
    profile: str
    runs: dict       # sub-run -> arrays
    configs: dict    # sub-run -> RunConfig
    n_defined: int
    stored: bool
    out: object = None  # the results folder it was read from (None: results/)
    extended: tuple = ()  # the kstar_dense shards pooled into its sweeps (analysis.dense)

    @property
    def status(self) -> str:
        if self.stored:
            return "complete"
        if not self.runs:
            return "not run"
        return f"partial: {len(self.runs)} of {self.n_defined} shards finished"

    def shards_line(self) -> str:
        """Where a partial rung's data come from, for a caption (a stored rung has its result's provenance)."""
        return (f"Data: the finished shards {', '.join(self.runs)} of `{self.experiment}` at the {self.profile} "
                f"profile ({self.status}), committed under results/{self.experiment}/{self.profile}.shards/, each with "
                f"its own commit, device and wall time in its record; the rest with `python -m icl_kinetics run "
                f"{self.experiment} --profile {self.profile} --only <shard>`.")


def rung_data(name: str, profile: str, out=None, with_dense: bool = True) -> RungData:
    """The stored result of `name` at `profile`, else its verified finished shards; never trains. Where the
    catalog says the experiment reuses another's sweep at this profile (``catalog.REUSES``), that sweep, pooled
    over its sub-runs, is one more sub-run ``N<its N>`` once it is stored; complete only when both are. A stored
    sweep that `kstar_dense` extends has the dense shards of every N whose shards have all finished pooled in
    (:func:`dense.extend`; the rule fixed with those runs; ``with_dense=False``: the sweep alone)."""
    exp = experiments.get(name)
    if profile not in exp.profiles:
        return RungData(name, profile, {}, {}, 0, False, out)
    configs = exp.runs(profile)
    res = experiments.load_optional(name, profile, out)
    if res is not None:
        d = RungData(name, profile, res.runs, res.configs(), len(configs), True, out)
    else:
        shards = experiments.finished_shards(name, profile, out)
        d = RungData(name, profile, dict(shards), {k: configs[k] for k in shards}, len(configs), False, out)
    if d.stored and with_dense:  # dense shards of each N whose shards have all finished join the sweep there
        runs, cfgs, added = dense.extend(name, d.runs, d.configs, profile, out)
        runs, cfgs, joined = dense.join_runs(name, profile, runs, cfgs, out)  # a new N, once stored (JOINS)
        d = RungData(name, profile, runs, cfgs, d.n_defined + bool(joined), True, out, added)
    other = catalog.REUSES.get((name, profile))
    if other is None:
        return d
    o = rung_data(other, profile, out, with_dense)
    runs, cfgs = dict(d.runs), dict(d.configs)
    if o.stored:
        run, cfg = pooled(o.runs, o.configs)
        if f"N{cfg.N}" in configs:
            raise ValueError(f"{name} at {profile} defines N{cfg.N} itself; catalog.REUSES would add {other}'s "
                             f"N = {cfg.N} sweep beside it: remove one")
        check_reusable(cfg, next(iter(configs.values())), f"{other} at {profile} as a sub-run of {name}")
        runs[f"N{cfg.N}"], cfgs[f"N{cfg.N}"] = run, cfg
    return RungData(name, profile, runs, cfgs, d.n_defined + 1, d.stored and o.stored, out, d.extended + o.extended)


SAME_AT_EVERY_N = ("model", "D", "width", "lr", "batch", "n_eval", "early_stop", "precision", "evals", "balanced")
PER_N = ("steps", "eval_every")  # proportional to N within one sweep over N


def check_reusable(reused: RunConfig, own: RunConfig, what: str) -> None:
    """ValueError unless a reused sweep was trained as the experiment's own sub-runs are: the same settings, and
    the same budget and evaluation grid per unit of N."""
    a, b = reused.to_dict(), own.to_dict()
    bad = [k for k in SAME_AT_EVERY_N if a.get(k) != b.get(k)]
    bad += [k for k in PER_N if a[k] * own.N != b[k] * reused.N]
    if bad:
        raise ValueError(f"{what}: differs in {', '.join(bad)}; it is not the same sweep at another N")


@dataclass(frozen=True)
class Rung:
    """One statistic at one rung: value with its 95% interval (NaN when it cannot be computed, ``note`` says
    why), the size of the network and context it was measured at, and the data's status."""
    statistic: str
    profile: str
    value: float
    lo: float
    hi: float
    status: str
    scale: str       # e.g. "D = 63, width 512, N = 100"
    units: str       # what went into it, e.g. "8 K x 3 seeds"
    note: str = ""


def _scale(cfg: RunConfig, n: str | None = None) -> str:
    return f"D = {cfg.D}, width {cfg.width}" + (f", N = {n}" if n else "")


def _missing(statistic: str, d: RungData, note: str) -> Rung:
    return Rung(statistic, d.profile, np.nan, np.nan, np.nan, d.status, "", "", note)


def nu_rung(d: RungData, n_boot: int = 1000) -> Rung:
    """nu of the memorisation scaling law I_K(inf) ~ K^nu (Fig 5), seed bootstrap interval."""
    if not d.runs:
        return _missing("nu", d, "no memorisation run finished")
    run, cfg = pooled(d.runs, d.configs)
    fit = fit_memorization_scaling(memorization_table(run, cfg), n_boot=n_boot)
    Ks = np.unique([k for k in cfg.Ks])
    units = f"{len(Ks)} K ({min(Ks)}-{max(Ks)}) x {len(cfg.Ks) // len(Ks)} seeds, {len(fit.Ks_used)} converged"
    if not fit.ok:
        return Rung("nu", d.profile, np.nan, np.nan, np.nan, d.status, _scale(cfg), units, fit.message)
    return Rung("nu", d.profile, fit.nu, *fit.nu_ci, d.status, _scale(cfg), units)


def times_by_n(d: RungData) -> tuple[dict, dict]:
    """({N: (seeds,) t_ICL, censored = inf}, {N: (seeds,) seed}) of a rung's K = infinity runs, the sub-runs of one N
    (shards of seeds) pooled and ordered by seed (paired when every N has the same seeds: ``scaling.same_seeds``)."""
    by_n: dict = {}
    for k, c in d.configs.items():
        by_n.setdefault(c.N, []).append(k)
    times, seeds = {}, {}
    for n, keys in sorted(by_n.items()):
        run, cfg = pooled({k: d.runs[k] for k in keys}, {k: d.configs[k] for k in keys})
        order = np.argsort(cfg.seeds, kind="stable")
        times[n], seeds[n] = censored_t_icl(run)[order], tuple(np.asarray(cfg.seeds)[order])
    return times, seeds


def times_rows(d: RungData) -> list:
    """Rows of a table of a rung's t_ICL per N: N, seeds, acquired within the budget, median and slowest t_ICL."""
    times, _ = times_by_n(d)
    return [[n, len(t), int(np.isfinite(t).sum()), f"{np.median(t):,.0f}",
             f"{np.max(t[np.isfinite(t)]):,.0f}" if np.isfinite(t).any() else "\u2014"] for n, t in times.items()]


def ticl_exponent_rung(d: RungData, n_boot: int = 1000) -> Rung:
    """The exponent of median t_ICL against the number of context items N - 1 (the theory's N, as chapter 8's
    verdict; log-log slope; eq 11 predicts 1), seed bootstrap, paired where every N has the same seeds."""
    by_n, seeds = times_by_n(d) if d.runs else ({}, {})
    paired = scaling.same_seeds(seeds)
    if len(by_n) < 2:
        return _missing("t_ICL exponent", d, f"{count(len(by_n), 'context length')} finished; a slope needs 2")
    times = {context_items(n): t for n, t in by_n.items()}  # the theory's N (eq 11)
    fit = median_vs_n_fit(times, n_boot=n_boot, paired=paired, min_n=2)
    cfg = next(iter(d.configs.values()))
    units = (f"N - 1 = {', '.join(map(str, sorted(times)))} context items; "
             f"{', '.join(str(len(t)) for t in times.values())} seeds" + (f"; lr {cfg.lr:g}" if cfg.lr != 0.05 else ""))
    if not fit.ok:
        return Rung("t_ICL exponent", d.profile, np.nan, np.nan, np.nan, d.status, _scale(cfg), units, fit.message)
    return Rung("t_ICL exponent", d.profile, float(fit.loglog.slope), *fit.loglog_ci_boot, d.status, _scale(cfg),
                units, fit.message)


def paper_lr_data(out=None) -> RungData:
    """The paper rung of the t_ICL exponent: `ticl_paper_lr` at the paper profile (the paper's hyperparameters at
    N = 25 and 100, seeds in shards) with `ticl_clock`'s run at N = 50 as its third point
    (``catalog.TICL_PAPER_LR_REUSED``; ValueError unless that run's config is the one the catalog gives the
    point). Complete when both are stored."""
    d = rung_data("ticl_paper_lr", "paper", out)
    other, profile, sub = catalog.TICL_PAPER_LR_REUSED["paper"]
    o = rung_data(other, profile, out)
    runs, cfgs = dict(d.runs), dict(d.configs)
    if sub in o.runs:
        want = catalog.ticl_paper_lr_config(o.configs[sub].N)
        if o.configs[sub] != want:
            raise ValueError(f"{other} {sub} at {profile} is not the config ticl_paper_lr would train at N = "
                             f"{want.N}: it cannot be that sweep's point (catalog.TICL_PAPER_LR_REUSED)")
        runs[f"N{want.N}"], cfgs[f"N{want.N}"] = o.runs[sub], o.configs[sub]
    return RungData("ticl_paper_lr", "paper", runs, cfgs, d.n_defined + 1, d.stored and o.stored, out)


# Where a statistic's own experiment has no run at a rung, the design that measures it there instead.
RUNG_SOURCES = {("ticl_vs_n", "paper"): paper_lr_data}


def statistic_data(name: str, profile: str, out=None) -> RungData:
    """:func:`rung_data`, or the rung's other design for the statistic (``RUNG_SOURCES``) where ``name`` has no
    run there."""
    d = rung_data(name, profile, out)
    alt = RUNG_SOURCES.get((name, profile))
    return alt(out) if alt is not None and not d.runs else d


def kstar_rung(d: RungData) -> Rung:
    """K* of the sigmoid fit of final ICL accuracy against K (Fig 2b), at the rung's own N."""
    if len(d.runs) < 3 and not d.stored:
        return _missing("K*", d, f"{len(d.runs)} K finished; the sigmoid fit needs at least 3")
    run, cfg = pooled(d.runs, d.configs)
    thr, note = safe_sweep_threshold(run, cfg)  # chapter 1's K* and interval
    Ks = sorted(set(cfg.Ks))
    units = f"{len(Ks)} K ({Ks[0]:,} to {Ks[-1]:,}) x {_seeds_per_k(cfg.Ks)} seeds"
    return Rung("K*", d.profile, float(thr.k_star), *thr.ci, d.status, _scale(cfg, str(cfg.N)), units,
                "" if note == "ok" else note)


def _seeds_per_k(Ks) -> str:
    """Seeds per K of a sweep: one number, or the fewest to the most."""
    n = sorted({list(Ks).count(k) for k in set(Ks)})
    return str(n[0]) if len(n) == 1 else f"{n[0]} to {n[-1]}"


def kstar_exponent_rung(d: RungData, n_boot: int = 1000) -> Rung:
    """The exponent of K* against the number of context items N - 1 (Fig 6a; eq 13 predicts 1/nu), joint
    bootstrap over seeds (chapter 7's fit), from the rung's kstar_vs_n sweeps."""
    if len(d.runs) < 3:
        return _missing("K* exponent", d, f"{count(len(d.runs), 'context length')} finished; the fit needs 3")
    kn = threshold.kstar_vs_n_runs(d.runs, d.configs, n_boot=n_boot)
    cfg = next(iter(d.configs.values()))
    units = "; ".join(f"N = {c.N}: {len(set(c.Ks))} K x {_seeds_per_k(c.Ks)} seeds"
                      for c in sorted(d.configs.values(), key=lambda c: c.N))
    if not np.isfinite(kn.exponent):
        return Rung("K* exponent", d.profile, np.nan, np.nan, np.nan, d.status, _scale(cfg), units,
                    "the power-law fit failed")
    where = dense.in_at(d.profile, d.out)  # the exponent waits for the dense runs at every N (dense.waiting)
    status = f"partial: the new runs near K* are {where}" if d.stored and where else d.status
    return Rung("K* exponent", d.profile, float(kn.exponent), kn.exponent_lo, kn.exponent_hi, status, _scale(cfg),
                units)


def chance_rung(d: RungData) -> Rung:
    """Fig 6c: of the seeds in the never bar (no ICL within the budget), the fraction whose final ICL accuracy is
    at chance (<= 0.6; chapter 9's rule), Wilson 95% interval, in the run at the K where half the seeds should
    acquire (`bimodality_khalf`). The paper's picture, acquire early or never, has all of them at chance. From
    the finished shards while the run is partial (marked so: it decides nothing, the rule counts every seed)."""
    if not d.runs:
        return _missing("never bar at chance", d,
                        "no shard of the run at the K where half should acquire has finished")
    run, cfg = pooled(d.runs, d.configs)
    e = bimodality.early_or_never(run, cfg)
    units = f"K = {cfg.Ks[0]}, {e['n']} seeds, {e['n_never']} never acquired"
    if not e["n_never"]:
        return Rung("never bar at chance", d.profile, np.nan, np.nan, np.nan, d.status,
                    _scale(cfg, str(cfg.N)), units, "every seed acquired ICL")
    return Rung("never bar at chance", d.profile, e["n_chance"] / e["n_never"], *e["chance_ci"], d.status,
                _scale(cfg, str(cfg.N)), units)


def clock_by_n(slow: RungData, fast: RungData) -> list:
    """(N, seeds paired, ratio, low, high) of the lr clock at every N both rungs ran: the geometric mean of t_ICL at the
    slow rung's lr over t_ICL at the fast rung's, per seed (interpolated 0.95 crossings, t interval on the
    logarithms; seeds censored at either rate left out), as :func:`clock_rung` at one N."""
    rows = []
    for n in sorted({c.N for c in slow.configs.values()} & {c.N for c in fast.configs.values()}):
        pair = []
        for d in (slow, fast):
            keys = [k for k, c in d.configs.items() if c.N == n]
            run, cfg = pooled({k: d.runs[k] for k in keys}, {k: d.configs[k] for k in keys})
            pair.append(dict(zip(cfg.seeds, crossing_t_icl(run))))
        seeds = sorted(set(pair[0]) & set(pair[1]))
        ratio = np.array([pair[0][s] / pair[1][s] for s in seeds])
        ok = np.isfinite(ratio)
        gm, (lo, hi) = geometric_mean_t(ratio[ok]) if ok.sum() >= 2 else (np.nan, (np.nan, np.nan))
        rows.append((n, int(ok.sum()), gm, lo, hi))
    return rows


def clock_rung(d: RungData) -> Rung:
    """The clock check: per seed, t_ICL at lr 0.01 (``ticl_clock``) over t_ICL at the profile's lr on the same seed
    and N (``ticl_vs_n``), each the crossing of ICL accuracy 0.95 interpolated between evaluations (the first
    evaluation past it would quantise the ratio to the evaluation grid); the geometric mean of the ratios with a
    t interval on their logarithms, the seed as the unit. 5, the ratio of the learning rates, if the theory's time
    is lr x iterations. Seeds censored at either rate are left out and counted in the note."""
    if not d.runs:
        return _missing("lr clock ratio", d, "no run at lr 0.01")
    run, cfg = next(iter(d.runs.values())), next(iter(d.configs.values()))
    ref = rung_data("ticl_vs_n", d.profile, d.out)
    key = f"N{cfg.N}"
    if key not in ref.runs:
        return _missing("lr clock ratio", d, f"ticl_vs_n {key} at {d.profile} not finished")
    ref_cfg = ref.configs[key]
    idx = [list(ref_cfg.seeds).index(s) for s in cfg.seeds]
    slow, fast = crossing_t_icl(run), crossing_t_icl(ref.runs[key])[idx]
    ok = np.isfinite(slow) & np.isfinite(fast)
    if ok.sum() < 2:
        return _missing("lr clock ratio", d, f"{count(int(ok.sum()), 'seed')} acquired ICL at both learning rates")
    gm, (lo, hi) = geometric_mean_t(slow[ok] / fast[ok])
    units = f"N = {cfg.N}, {ok.sum()} seeds, lr {cfg.lr:g} vs {ref_cfg.lr:g}"
    left = f"; {count(int((~ok).sum()), 'seed')} censored at either rate left out" if (~ok).any() else ""
    return Rung("lr clock ratio", d.profile, gm, lo, hi, d.status, _scale(cfg), units,
                f"expected {ref_cfg.lr / cfg.lr:g} (the ratio of the learning rates){left}")


def mlp_clock_rung(d: RungData, n_boot: int = 2000, seed: int = 0) -> Rung:
    """The clock check on the MLP alone: per member (same K, same seed), I_K(inf) in iterations at lr 0.01
    (``memorization_clock``) over I_K(inf) in iterations at the profile's lr (``memorization``), from the tail
    estimate of chapter 5 (:func:`memorization_table`, members converged at both rates); median with a percentile
    bootstrap over members. 5, the ratio of the learning rates, if the theory's time is lr x iterations. The
    criterion, written before the run: the clock holds for the MLP when the interval lies within [4.5, 5.5]."""
    if not d.runs:
        return _missing("MLP clock ratio", d, "no run at lr 0.01")
    ref = rung_data("memorization", d.profile, d.out)
    if not ref.runs:
        return _missing("MLP clock ratio", d, f"memorization at {d.profile} not finished")
    slow, fast = (memorization_table(*pooled(x.runs, x.configs)) for x in (d, ref))
    lr_slow, lr_fast = next(iter(d.configs.values())).lr, next(iter(ref.configs.values())).lr
    at = {(k, s): i for i, (k, s) in enumerate(zip(fast["K"], fast["seed"]))}
    pairs = [(i, at[(k, s)]) for i, (k, s) in enumerate(zip(slow["K"], slow["seed"])) if (k, s) in at]
    both = [(i, j) for i, j in pairs if slow["converged"][i] and fast["converged"][j]]
    if not both:
        return _missing("MLP clock ratio", d, f"none of {len(pairs)} paired members converged at both rates")
    ratio = np.array([(slow["value"][i] / lr_slow) / (fast["value"][j] / lr_fast) for i, j in both])
    rng = np.random.default_rng(seed)
    lo, hi = np.percentile(np.median(rng.choice(ratio, (n_boot, len(ratio))), axis=1), [2.5, 97.5])
    cfg = next(iter(d.configs.values()))
    Ks = sorted({int(k) for k in slow["K"]})
    units = (f"K = {', '.join(f'{k:,}' for k in Ks)}; {len(both)} of {len(pairs)} paired members converged at both, "
             f"lr {lr_slow:g} vs {lr_fast:g}")
    med = float(np.median(ratio))
    status = d.status if ref.stored else f"{d.status}; memorization {ref.status}"
    verdict = (f"the clock {rule_clock(med, (lo, hi), lr_fast / lr_slow)}" if d.stored and ref.stored else
               "the criterion waits for every K (a partial rung decides nothing)")
    k_of = np.array([slow["K"][i] for i, _ in both])
    per_k = "; ".join(f"{int(k):,}: {np.median(ratio[k_of == k]):.2f}" for k in Ks if (k_of == k).any())
    return Rung("MLP clock ratio", d.profile, med, float(lo), float(hi), status, _scale(cfg), units,
                f"expected {lr_fast / lr_slow:g}; {verdict}; median per K ({per_k})" +
                (f", {trend_with_k(k_of, ratio)}" if len(Ks) > 2 else ""))


STATISTICS = {  # statistic -> (experiment, rung function, the value the paper or the theory gives)
    "nu": ("memorization", nu_rung, 0.7),
    "t_ICL exponent": ("ticl_vs_n", ticl_exponent_rung, 1.0),
    "K*": ("phenomenology", kstar_rung, 1e4),
    "K* exponent": ("kstar_vs_n", kstar_exponent_rung, 1.41),
    "never bar at chance": ("bimodality_khalf", chance_rung, 1.0),
    "lr clock ratio": ("ticl_clock", clock_rung, 5.0),
    "MLP clock ratio": ("memorization_clock", mlp_clock_rung, 5.0),
}


def reference(statistic: str) -> str:
    """What the dashed value of a statistic is: the theory's for the two clocks (the ratio of learning rates),
    the paper's for the rest."""
    return "the theory's value" if "clock" in statistic else "the paper's value"


def ladder(base_profile: str | None = None, out=None) -> dict:
    """{statistic: [Rung per rung]} with the book's profile as the first rung."""
    rungs = (experiments.resolve_profile(base_profile),) + LADDER[1:]
    return {stat: [fn(statistic_data(name, p, out)) for p in rungs] for stat, (name, fn, _) in STATISTICS.items()}


def rung_settings(profiles=LADDER) -> list:
    """Rows of the rung table: profile, D, MLP width, N of the single-N experiments, lr, and the iterations of
    the memorisation runs (the clock: lr x iterations)."""
    rows = []
    for p in profiles:
        mem = experiments.get("memorization").runs(p)
        ph = experiments.get("phenomenology").runs(p)
        c, n = next(iter(mem.values())), next(iter(ph.values())).N
        rows.append([p, c.D, c.width, n, f"{c.lr:g}", f"{c.steps:,}", f"{c.lr * c.steps:,.0f}"])
    return rows


def _decimals(v: float) -> int:
    """Decimals that show `v` to three significant figures (none from 100 up)."""
    return 0 if not np.isfinite(v) or v == 0 or abs(v) >= 100 else min(3, 2 - int(np.floor(np.log10(abs(v)))))


def rung_text(r: Rung) -> str:
    """A rung's value and 95% interval as text (:func:`interval_text`)."""
    return interval_text(r.value, r.lo, r.hi)


def interval_text(value: float, lo: float, hi: float) -> str:
    """A value and its 95% interval as text, the ends with the value's decimals ("4.98 [4.83, 5.00]",
    "8,180 [6,622, 8,958]"), a dash when it has none."""
    if not np.isfinite(value):
        return DASH
    spec = f",.{_decimals(value)}f"
    return f"{fmt(value, spec)} [{fmt(lo, spec)}, {fmt(hi, spec)}]"


def ladder_rows(lad: dict) -> list:
    """Rows for the page's table: statistic, rung, status, scale, value [interval], what went in, note."""
    rows = []
    for stat, rungs in lad.items():
        for r in rungs:
            val = rung_text(r)
            rows.append(["$\\nu$" if stat == "nu" else stat, r.profile, r.status, r.scale or "—", val,
                         r.units or "—", r.note or ""])
    return rows


def trend(rungs: list, paper_value: float, reference: str = "the paper's value") -> str:
    """One sentence on whether the statistic moves toward the paper's value (`reference`: what that value is, e.g.
    the theory's for the clocks) up the ladder: the distance to it at the first and the last complete rung that
    have a value (log distance for K*), and whether the two rungs' intervals overlap; a partial rung above them is
    named and left out. 'Not decided' when fewer than two complete rungs have a value or the intervals overlap."""
    have = [r for r in rungs if np.isfinite(r.value) and r.status == "complete"]
    later = [r for r in rungs[rungs.index(have[-1]) + 1:] if r.status != "complete"] if have else []
    if len(have) < 2:
        return (f"not decided yet: {'one rung has' if len(have) == 1 else 'no rung has'} a value "
                f"({', '.join(f'{_scale_name(r.profile)}: {r.status}' for r in rungs)})")
    a, b = have[0], have[-1]
    log = a.statistic == "K*"
    dist = (lambda v: abs(np.log10(v / paper_value))) if log else (lambda v: abs(v - paper_value))
    unit = " decades" if log else ""
    toward = dist(b.value) < dist(a.value)
    overlap = not (b.lo > a.hi or a.lo > b.hi)
    s = (f"distance to {reference} " + ", ".join(f"{dist(r.value):.2g}{unit} at {_scale_name(r.profile)}"
                                                  for r in have)
         + f": {'toward' if toward else 'away from'} it from the first to the last; those two intervals "
         f"{'overlap (not decided)' if overlap else 'do not overlap'}")
    if later:
        s += f"; not read yet: {', '.join(f'{_scale_name(r.profile)} ({r.status})' for r in later)}"
    return s


# ----------------------------------------------------------------------------- the claims decided at a rung
def stored_rung(name: str, profile: str, out=None) -> RungData:
    """:func:`rung_data` of a complete rung, for a chapter's section at that rung; ResultsError saying what is
    missing otherwise (a partial rung decides nothing)."""
    d = rung_data(name, profile, out)
    if not d.stored:
        raise ResultsError(f"{name} at {profile} is {d.status}; finish it with `python -m icl_kinetics run {name} "
                           f"--profile {profile}` (shards: --only)")
    return d


def rung_evidence(rung: str, out=None) -> dict:
    """{claim id: the sections its verdict reads, or a sentence saying why the rung cannot decide it yet} for the
    claims of ``verdicts.RUNG_CLAIMS[rung]``, built by the same library functions as their chapters, from the
    rung's complete (stored) results only: a partial rung decides nothing."""
    data = {name: statistic_data(name, rung, out) for name in ("phenomenology", "memorization", "ticl_vs_n",
                                                               "kstar_vs_n", "bimodality_khalf")}
    ev = {}
    ph = data["phenomenology"]
    if ph.stored:
        run, cfg = pooled(ph.runs, ph.configs)
        tr = phenomenology.transition(run, cfg)
        ev.update(fig2b_transition=(tr,), fig2c_opposite=(tr,),
                  fig2d_abrupt=(phenomenology.abrupt_rise(run, tr.K, tr.thr.k_star),))
    mem = data["memorization"]
    if mem.stored:
        run, cfg = pooled(mem.runs, mem.configs)
        Ns = catalog.context_lengths(rung)
        est = memorization.ik_estimates(run, cfg, tol=0.05, last10_tol=0.05)
        law = memorization.scaling_law(est, Ns)
        ev.update(fig5_nu=(memorization.nu_evidence(run, cfg, Ns, law),),
                  fig5_finite=(memorization.finite_ik_evidence(est, run, cfg),))
    tn = data["ticl_vs_n"]
    if tn.stored:
        ev["fig6b_linear"] = (scaling.linear_evidence_of(*times_by_n(tn)),)
    kn = data["kstar_vs_n"]
    if kn.stored and mem.stored:  # chapter 7's evidence: K* per N, eq 13 from the rung's memorisation runs
        sweep = threshold.kstar_vs_n_runs(kn.runs, kn.configs)
        eq13 = threshold.eq13_prediction(sweep, experiments.load("memorization", rung, out))
        sections = (threshold.exponent_evidence(sweep, eq13, threshold.exponent_against_n(sweep)),)
        waiting = dense.waiting(rung, out)  # the exponent across N waits for the dense runs at every N
        ev["fig6a_exponent"] = Pending(waiting, sections) if waiting else sections
    ev["fig6c_bimodal_khalf"] = khalf_evidence(data["bimodality_khalf"])
    source = dict(fig2b_transition=ph, fig2c_opposite=ph, fig2d_abrupt=ph, fig5_nu=mem, fig5_finite=mem,
                  fig6b_linear=tn, fig6a_exponent=kn if not kn.stored else mem)
    return {cid: ev.get(cid) or _why_not(source[cid]) for cid in RUNG_CLAIMS[rung]}


def khalf_evidence(d: RungData):
    """Chapter 9's evidence for ``fig6c_bimodal_khalf`` at a rung, from `bimodality_khalf`'s complete run there:
    ``(BimodalEvidence,)``, or a sentence saying why the rung cannot decide it yet (its finished shards are shown,
    never decided on: the rule counts seeds, and a partial run has fewer than it was fixed with)."""
    if not d.stored:
        return _why_not(d)
    return (bimodality.bimodal_evidence(*pooled(d.runs, d.configs)),)


def _scale_name(profile: str) -> str:
    """A rung in words: 'the paper's network', 'the cpu scale'."""
    return SCALE_NAMES.get(profile, f"the {profile} scale")


def _why_not(d: RungData) -> str:
    """Why a rung cannot decide a claim yet, in words: its runs there are partial or not run (too few runs)."""
    return f"too few runs: the runs at {_scale_name(d.profile)} are {d.status}"
