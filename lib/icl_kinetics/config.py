"""What one training run is: :class:`RunConfig`, its validation and its json form. Imports no torch, so the
reading side (analysis, store, the book) can describe runs without loading the trainer.

Words used throughout: a *member* is one network of an ensemble (one seed, one K, one weight decay); a *run* is
one :class:`RunConfig`, E members trained together by :func:`icl_kinetics.train.train`; an experiment's runs are
named (its *sub-runs*) and each finished sub-run is stored as a *shard* until the experiment is stored. ``N``
counts the sequence including the target, as in the authors' code: the context holds ``N - 1`` items
(``n_context``), which is the theory's N (chapter 14).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

MODEL_NAMES = ("transformer1", "transformer2", "minimal", "mlp")  # models.MODELS, checked by a test
PROBE_NAMES = ("mlp_stats", "wbeta")  # train.PROBES, checked by a test
PROBE_ARRAYS = {"mlp_stats": ("c1", "c2", "c3", "train_acc"), "wbeta": ("w", "beta")}  # what each one records
# What `train.evaluate` measures: "icl" on novel items in contexts built like the training contexts; "iwl" on
# training items with no copy of the target; "icl_standard" and "icl_conflict" on novel items in standard contexts
# (uniform labels) and in contexts where the target's label is the context's majority (data.sample_icl_eval).
EVAL_NAMES = ("icl", "iwl", "icl_standard", "icl_conflict")
ICL_THRESHOLD = 0.95  # t_ICL: the first evaluation with ICL accuracy above this (paper section 4)


@dataclass(frozen=True)
class RunConfig:
    """One ensembled training run. Per-member fields (`Ks`, `seeds`, `wd_attn`) have one entry per member."""

    model: str
    D: int
    N: int
    width: int
    Ks: tuple  # int (even, >= 2) or None for K = infinity
    seeds: tuple
    wd_attn: tuple
    steps: int
    eval_every: int
    wd_mlp: float = 1e-10
    lr: float = 0.01
    batch: int = 128
    n_eval: int = 2000
    evals: tuple = ("icl", "iwl")  # subset of EVAL_NAMES
    probes: tuple = ()  # subset of {"wbeta", "mlp_stats"}
    balanced: bool = False
    early_stop: float | None = None  # stop a member once ICL accuracy exceeds this
    beta0: float = 0.0  # minimal model only
    data_seed: int = 10
    pool: int = 0  # K = infinity from a pool of this many items with fresh labels (data.py); 0: fresh items
    precision: str = "fp32"  # "bf16": the training forward and backward under bf16 autocast (parameters, the
    #                          update and every evaluation stay fp32)

    def __post_init__(self):
        # lists become tuples (a config must be hashable) and numpy scalars plain Python numbers (json-able);
        # validate() then checks types, ranges and finiteness
        for f in dataclasses.fields(self):
            object.__setattr__(self, f.name, _normalise(getattr(self, f.name), f.name in _SEQUENCE_FIELDS))
        errors = validate(self)
        if errors:
            raise ValueError("impossible run configuration:\n  " + "\n  ".join(errors))

    @property
    def E(self) -> int:
        return len(self.seeds)

    def to_dict(self) -> dict:
        """Plain json-able fields. Fields added after results were stored (``_LATER_FIELDS``) are written only
        when they differ from their default, so the configs stored before them still compare equal."""
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()
                if not (k in _LATER_FIELDS and v == _LATER_FIELDS[k])}

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        d = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**d)


_SEQUENCE_FIELDS = ("Ks", "seeds", "wd_attn", "evals", "probes")
_LATER_FIELDS = {"pool": 0, "precision": "fp32"}  # field -> default
PRECISIONS = ("fp32", "bf16")
SEED_LIMIT = 2**32  # seeds (member and data) are integers in [0, 2^32)


def _normalise(v, sequence: bool):
    """numpy scalars -> Python scalars; for the per-member and tuple fields, a list or tuple -> a tuple of them."""
    if isinstance(v, np.generic):
        return v.item()
    if sequence and isinstance(v, (list, tuple)):
        return tuple(x.item() if isinstance(x, np.generic) else x for x in v)
    return v


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def validate(c: RunConfig) -> list[str]:
    """Human-readable problems with a configuration (empty when it is valid): types, ranges, finiteness."""
    err = []
    if not isinstance(c.model, str) or c.model not in MODEL_NAMES:
        err.append(f"model={c.model!r}: must be one of {sorted(MODEL_NAMES)}")
    for name in ("D", "width", "steps", "eval_every", "batch", "n_eval"):
        v = getattr(c, name)
        if not _is_int(v) or v < 1:
            err.append(f"{name}={v!r}: must be a positive integer")
    if not _is_int(c.N) or c.N < 2:
        err.append(f"N={c.N!r}: must be an integer >= 2 (N counts the target; N - 1 context tokens)")
    if not (_is_real(c.lr) and c.lr > 0 and math.isfinite(c.lr)):
        err.append(f"lr={c.lr!r}: must be a finite number > 0")
    for name in _SEQUENCE_FIELDS:
        if not isinstance(getattr(c, name), tuple):
            err.append(f"{name}={getattr(c, name)!r}: must be a tuple (or list)"
                       + (" with one entry per member" if name in ("Ks", "seeds", "wd_attn") else ""))
    if err and any(not isinstance(getattr(c, n), tuple) for n in _SEQUENCE_FIELDS):
        return err  # the checks below iterate over these fields
    if not (len(c.Ks) == len(c.seeds) == len(c.wd_attn) >= 1):
        err.append(f"Ks, seeds and wd_attn need one entry per member; got {len(c.Ks)}, {len(c.seeds)}, "
                   f"{len(c.wd_attn)}")
    for K in c.Ks:
        if K is not None and (not _is_int(K) or K < 2 or K % 2):
            err.append(f"K={K!r}: must be an even integer >= 2, or None for K = infinity")
        elif K is not None and "iwl" in c.evals and _is_int(c.N) and K < c.N:
            err.append(f"K={K} < N={c.N}: IWL evaluation needs N distinct training items; "
                       "raise K or drop 'iwl' from evals")
    for s in c.seeds:
        if not _is_int(s) or not 0 <= s < SEED_LIMIT:
            err.append(f"seed {s!r}: must be an integer in [0, 2^32)")
    if not _is_int(c.data_seed) or not 0 <= c.data_seed < SEED_LIMIT:
        err.append(f"data_seed={c.data_seed!r}: must be an integer in [0, 2^32)")
    for wd in tuple(c.wd_attn) + (c.wd_mlp,):
        if not (_is_real(wd) and math.isfinite(wd) and wd >= 0):
            err.append(f"weight decay {wd!r}: must be a finite number >= 0")
    if not _is_int(c.pool) or c.pool < 0:
        err.append(f"pool={c.pool!r}: must be an integer >= 0 (0: fresh items for K = infinity)")
    elif c.pool and _is_int(c.N) and c.pool < 2 * c.N:
        err.append(f"pool={c.pool} < 2N={2 * c.N}: a pool must hold many sequences' worth of distinct items")
    if c.precision not in PRECISIONS:
        err.append(f"precision={c.precision!r}: must be one of {', '.join(PRECISIONS)}")
    if not (_is_real(c.beta0) and math.isfinite(c.beta0)):
        err.append(f"beta0={c.beta0!r}: must be a finite number")
    if not isinstance(c.balanced, bool):
        err.append(f"balanced={c.balanced!r}: must be True or False")
    if not all(isinstance(v, str) for v in c.evals + c.probes):
        err.append(f"evals={c.evals!r}, probes={c.probes!r}: must be tuples of names")
        return err
    bad = set(c.evals) - set(EVAL_NAMES)
    if bad:
        err.append(f"evals={c.evals!r}: allowed values are {', '.join(map(repr, EVAL_NAMES))}")
    if "icl_conflict" in c.evals and _is_int(c.N) and (c.N % 2 or c.N < 4):
        err.append(f"evals={c.evals!r} with N={c.N}: conflict contexts need an even N >= 4; use an even N or drop "
                   "'icl_conflict'")
    bad = set(c.probes) - set(PROBE_NAMES)
    if bad:
        err.append(f"probes={c.probes!r}: allowed values are {sorted(PROBE_NAMES)}")
    if "wbeta" in c.probes and c.model != "minimal":
        err.append("probe 'wbeta' needs model='minimal'")
    if "mlp_stats" in c.probes and c.model not in ("minimal", "mlp"):
        err.append("probe 'mlp_stats' needs model 'minimal' or 'mlp' (an MLP that reads the item alone)")
    if c.balanced is True and _is_int(c.N) and (c.N % 2 or c.N < 4):
        err.append(f"balanced=True needs an even N >= 4; got N={c.N}")
    if c.early_stop is not None and not (_is_real(c.early_stop) and 0 < c.early_stop <= 1):
        err.append(f"early_stop={c.early_stop!r}: must be in (0, 1] or None")
    return err


def eval_steps(cfg: RunConfig) -> list[int]:
    """The steps at which a run is evaluated: 0, every ``eval_every`` steps, and the last step."""
    steps = list(range(0, cfg.steps + 1, cfg.eval_every))
    return steps if steps[-1] == cfg.steps else steps + [cfg.steps]


def expected_arrays(cfg: RunConfig) -> dict[str, tuple]:
    """{name: shape} of every array :func:`icl_kinetics.train.train` returns for `cfg` (its wall time aside, which
    a shard keeps in its provenance): the evaluation steps (T,); a curve (E, T) per evaluation kind (accuracy and
    loss), for the training loss and for each probe's quantities, each with its final value (E,); t_ICL (E,) when
    ICL is evaluated; when each member stopped and whether it diverged (E,). A stored shard is checked against it
    before it is merged."""
    E, T = cfg.E, len(eval_steps(cfg))
    curves = [f"{kind}_{what}" for kind in cfg.evals for what in ("acc", "loss")] + ["train_loss"]
    curves += [k for probe in cfg.probes for k in PROBE_ARRAYS.get(probe, ())]
    shapes = {"steps": (T,), **{k: (E, T) for k in curves}, **{f"final_{k}": (E,) for k in curves}}
    if "icl" in cfg.evals:
        shapes["t_icl"] = (E,)
    return dict(shapes, stopped_at=(E,), nonfinite=(E,))


def n_context(N: int) -> int:
    """Context items before the target: the theory's N for a sequence of `N` tokens (chapter 14)."""
    return N - 1


# ----------------------------------------------------------------------------- one-off changes (run --set)
# What `python -m icl_kinetics run EXP --set key=value` may change, and how a value is read: every RunConfig field,
# by its type; the per-member fields (Ks, seeds, wd_attn) and the tuples of names take comma-separated values, and a
# single value of a per-member field is given to every member.
_VALUE_KINDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a word",
                "float | None": "a number or none", "K": "even whole numbers, comma-separated (none: K = infinity)",
                "seed": "whole numbers, comma-separated", "wd": "numbers, comma-separated",
                "name": "names, comma-separated"}
_ELEMENT_KINDS = {"Ks": "K", "seeds": "seed", "wd_attn": "wd", "evals": "name", "probes": "name"}
_PER_MEMBER = ("Ks", "seeds", "wd_attn")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def override_keys() -> tuple:
    """The settings `--set` can change: every :class:`RunConfig` field, in its order."""
    return tuple(f.name for f in dataclasses.fields(RunConfig))


def _kind(key: str) -> str:
    return _ELEMENT_KINDS.get(key) or {f.name: str(f.type) for f in dataclasses.fields(RunConfig)}[key]


def _read(kind: str, text: str):
    """`text` read as a value of `kind` (a key of _VALUE_KINDS); ValueError when it is not one."""
    t = text.strip()
    if kind in ("int", "seed") or (kind == "K" and t.lower() not in ("none", "inf", "infinity")):
        try:
            return int(t)
        except ValueError:
            x = float(t)  # 1e4 or 2000.0 are whole numbers too; 1.5 is not
            if not (math.isfinite(x) and x.is_integer()):
                raise ValueError(t) from None
            return int(x)
    if kind == "K" or (kind == "float | None" and t.lower() == "none"):
        return None
    if kind in ("float", "wd", "float | None"):
        return float(t)
    if kind == "bool":
        if t.lower() not in _TRUE + _FALSE:
            raise ValueError(t)
        return t.lower() in _TRUE
    if not t:
        raise ValueError(t)
    return t  # str, name


def parse_override(text: str) -> tuple[str, object]:
    """(key, value) of one ``key=value`` (a ``--set`` argument), the value read as the field's type; a ValueError
    of one line for no '=', a key that is not a RunConfig field (listing them) or a value that cannot be read."""
    key, eq, raw = text.partition("=")
    key = key.strip()
    if not eq or not key:
        raise ValueError(f"--set {text!r}: expected key=value, e.g. --set lr=0.02")
    if key not in override_keys():
        raise ValueError(f"--set {text}: {key!r} is not a setting of a run; the settings are "
                         f"{', '.join(override_keys())}")
    kind = _kind(key)
    try:
        if key in _ELEMENT_KINDS:  # a tuple: comma-separated, brackets optional; empty for no entries
            inner = raw.strip().strip("()[]")
            value = tuple(_read(kind, s) for s in inner.split(",")) if inner.strip() else ()
        else:
            value = _read(kind, raw)
    except ValueError:
        raise ValueError(f"--set {text}: {key} takes {_VALUE_KINDS[kind]}, not {raw.strip()!r}; e.g. --set "
                         f"{key}={_example(key)}") from None
    return key, value


def _example(key: str) -> str:
    default = {f.name: f.default for f in dataclasses.fields(RunConfig)}.get(key, dataclasses.MISSING)
    examples = {"model": "minimal", "D": "31", "N": "20", "width": "128", "Ks": "1024", "seeds": "0,1,2",
                "wd_attn": "0.001", "steps": "20000", "eval_every": "250", "evals": "icl,iwl", "probes": "wbeta"}
    if key in examples:
        return examples[key]
    if isinstance(default, bool):
        return str(default).lower()
    return "none" if default is None else str(default)


def parse_overrides(texts) -> dict:
    """{key: value} of several ``key=value`` texts (:func:`parse_override`); a key given twice is a ValueError."""
    out = {}
    for text in texts or ():
        key, value = parse_override(text)
        if key in out:
            raise ValueError(f"--set {key} is given twice; give each setting once")
        out[key] = value
    return out


def with_overrides(cfg: RunConfig, overrides: dict, where: str = "the run") -> RunConfig:
    """`cfg` with the fields in `overrides` ({key: value}, :func:`parse_overrides`) replaced; a single value of a
    per-member field (Ks, seeds, wd_attn) goes to every member. A ValueError of one line, naming `where`, when the
    result is not a valid run (:func:`validate`)."""
    unknown = sorted(set(overrides) - set(override_keys()))
    if unknown:
        raise ValueError(f"{', '.join(map(repr, unknown))}: not a setting of a run; the settings are "
                         f"{', '.join(override_keys())}")
    changes = {}
    for k, v in overrides.items():
        if k in _PER_MEMBER:
            v = tuple(v) if isinstance(v, (list, tuple)) else (v,)
            v = v * cfg.E if len(v) == 1 else v
        changes[k] = v
    try:
        return dataclasses.replace(cfg, **changes)
    except ValueError as e:
        problems = str(e).splitlines()[1:] or [str(e)]
        given = " ".join(f"--set {k}={_show(v)}" for k, v in overrides.items())
        raise ValueError(f"{given} makes {where} impossible: {'; '.join(p.strip() for p in problems)}; change the "
                         "value") from None


def _show(v) -> str:
    if isinstance(v, tuple):
        return ",".join("none" if x is None else str(x) for x in v)
    return "none" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
