"""Ensembled training: E members trained at once with plain SGD, periodic ICL/IWL evaluation.

Members share N, the architecture and the optimiser settings; they may differ in seed (initialisation and
labels), in K and in the attention weight decay. Time is measured in iterations (SGD steps).
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import checkpoint as ckpt
from . import data, models, stats
from .errors import ResultsError

ICL_THRESHOLD = 0.95  # t_ICL: first evaluation with ICL accuracy above this (paper section 4)


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
    evals: tuple = ("icl", "iwl")  # subset of {"icl", "iwl"}
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
    if not isinstance(c.model, str) or c.model not in models.MODELS:
        err.append(f"model={c.model!r}: must be one of {sorted(models.MODELS)}")
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
    bad = set(c.evals) - {"icl", "iwl"}
    if bad:
        err.append(f"evals={c.evals!r}: allowed values are 'icl', 'iwl'")
    bad = set(c.probes) - set(PROBES)
    if bad:
        err.append(f"probes={c.probes!r}: allowed values are {sorted(PROBES)}")
    if "wbeta" in c.probes and c.model != "minimal":
        err.append("probe 'wbeta' needs model='minimal'")
    if "mlp_stats" in c.probes and c.model not in ("minimal", "mlp"):
        err.append("probe 'mlp_stats' needs model 'minimal' or 'mlp' (an MLP that reads the item alone)")
    if c.balanced is True and _is_int(c.N) and (c.N % 2 or c.N < 4):
        err.append(f"balanced=True needs an even N >= 4; got N={c.N}")
    if c.early_stop is not None and not (_is_real(c.early_stop) and 0 < c.early_stop <= 1):
        err.append(f"early_stop={c.early_stop!r}: must be in (0, 1] or None")
    return err


# ----------------------------------------------------------------------------- probes
def _mlp_stats(model, bank):
    """c1, c2, c3 (eqs 29, 30 and c3 = <e^-phi+>) over each member's K training items.

    phi+ = l_i * phi(x_i): by the label symmetry P+(phi) = P-(-phi), items of label -1 enter with flipped sign.
    """
    phi = model.mlp(bank.items.expand(bank.E, *bank.items.shape)).squeeze(-1)  # (E, K_max)
    phi_plus = phi * bank.labels
    mask = (torch.arange(bank.items.shape[0], device=phi.device)[None] < bank.k_tensor()[:, None]).float()
    n = mask.sum(1)
    s = torch.sigmoid(-phi_plus)
    c1 = (s * mask).sum(1) / n
    c2 = 1 - (s**2 * mask).sum(1) / n / c1
    c3 = (torch.exp(-phi_plus.clamp_min(-50)) * mask).sum(1) / n
    acc = ((phi_plus > 0).float() * mask).sum(1) / n
    return {"c1": c1, "c2": c2, "c3": c3, "train_acc": acc}


def _wbeta(model, bank):
    return {"w": model.w[:, 0], "beta": model.beta[:, 0]}


PROBES = {"mlp_stats": _mlp_stats, "wbeta": _wbeta}


# ----------------------------------------------------------------------------- training
def pick_device(device: str | None = None) -> torch.device:
    """The torch device to train on: `device` ('cpu', 'cuda', 'cuda:1', a torch.device), or cuda when present
    for None / 'auto'. ValueError, before anything is computed, for a name torch does not know, a device type
    this library does not run on, or a CUDA device this machine does not have."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        raise ValueError(f"device {device!r}: must be a name such as 'cpu', 'cuda' or 'cuda:0'")
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ValueError(f"device {device!r}: not a device name; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: CUDA is not available on this machine; use cpu")
        n = torch.cuda.device_count()
        if dev.index is not None and dev.index >= n:
            raise ValueError(f"device {device!r}: this machine has {n} CUDA device(s), cuda:0 to cuda:{n - 1}")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"device {device!r}: MPS is not available on this machine; use cpu")
    elif dev.type != "cpu":
        raise ValueError(f"device {device!r}: this library runs on cpu, cuda or mps only")
    elif dev.index not in (None, 0):
        raise ValueError(f"device {device!r}: the CPU has no device index; use cpu")
    return dev


def _loss(z, labels):
    """Logistic loss -log sigmoid(l_c z) per sequence: z, labels (E, B) -> (E, B)."""
    return F.softplus(-labels * z)


@torch.no_grad()
def evaluate(model, bank, cfg: RunConfig, device, chunk: int = 500, members=None) -> dict:
    """ICL and IWL accuracy and loss on a fixed evaluation set (regenerated from the same seed each time).

    ``members`` (long tensor): the rows of the full ensemble that `model` still holds after compaction; the
    evaluation set is drawn for the full ensemble and sliced, so every member keeps its own evaluation set.
    """
    g = torch.Generator(device=device).manual_seed(cfg.data_seed * 7 + 12345)
    E = cfg.E if members is None else len(members)
    out = {}
    for kind in cfg.evals:
        acc = torch.zeros(E, device=device)
        loss = torch.zeros(E, device=device)
        done = 0
        while done < cfg.n_eval:
            b = min(chunk, cfg.n_eval - done)
            if kind == "icl":
                x, lab = data.sample_icl_eval(cfg.E, b, cfg.N, cfg.D, g, device, cfg.balanced)
            else:
                x, lab = data.sample_iwl_eval(bank, b, cfg.N, g)
            if members is not None:
                x, lab = x[members], lab[members]
            z = model(x, lab)
            target = lab[:, :, -1]
            acc += ((z * target) > 0).float().sum(1)
            loss += _loss(z, target).sum(1)
            done += b
        out[f"{kind}_acc"] = acc / cfg.n_eval
        out[f"{kind}_loss"] = loss / cfg.n_eval
    if "iwl" in cfg.evals:  # members with K = infinity have no training set to memorise
        inf = bank.infinite_mask() if members is None else bank.infinite_mask()[members]
        for k in ("iwl_acc", "iwl_loss"):
            out[k] = torch.where(inf, torch.full_like(out[k], float("nan")), out[k])
    return out


def sampling_seed(cfg: RunConfig) -> int:
    """Seed of the generator that draws a run's training sequences (depends on every member's seed)."""
    return int(np.sum(np.asarray(cfg.seeds) * 1_000_003)) % 2**62 + cfg.E


# what a checkpoint's state must hold (besides one "param.<name>" per model parameter)
_CHECKPOINT_KEYS = ("step", "next_eval", "loss_n", "wall_s", "members", "active", "loss_sum", "g_state",
                    "np_nonfinite", "np_stopped_at")


class TimeLimitReached(Exception):
    """train() saved a checkpoint and stopped because its deadline passed; the same call resumes it."""


def train(cfg: RunConfig, device=None, progress: bool = True, desc: str | None = None,
          checkpoint: Path | str | None = None, checkpoint_every: float = 300.0,
          deadline: float | None = None) -> dict:
    """Train the ensemble described by `cfg`; return numpy arrays.

    Returned keys: ``steps (T,)``; ``icl_acc, icl_loss, iwl_acc, iwl_loss, train_loss`` and every probe
    quantity as ``(E, T)`` (NaN after a member stopped); ``t_icl (E,)`` first evaluated step with ICL
    accuracy > 0.95 (NaN if never); ``final_*`` (E,) the last evaluated values; ``stopped_at (E,)``;
    ``nonfinite (E,)`` True where the loss became non-finite (that member is then frozen and reported);
    ``wall_s`` the training time summed over every resumed piece.

    ``checkpoint``: a path stem (see :mod:`icl_kinetics.checkpoint`). When given, the run resumes from the
    checkpoint found there (refused if written for another config), saves one after an evaluation at most every
    ``checkpoint_every`` seconds, and, when ``time.monotonic()`` passes ``deadline``, saves one and raises
    :class:`TimeLimitReached`. On CPU a resumed run is bit-identical to an uninterrupted one. The caller removes
    the checkpoint once it has stored the result.
    """
    device = pick_device(device)
    E = cfg.E
    model = models.build(cfg.model, E, cfg.D, cfg.width, cfg.seeds,
                         **({"beta0": cfg.beta0} if cfg.model == "minimal" else {})).to(device)
    full_bank = data.ItemBank.create(cfg.Ks, cfg.D, cfg.seeds, cfg.data_seed, device, pool=cfg.pool)
    bank = full_bank
    g = torch.Generator(device=device).manual_seed(sampling_seed(cfg))
    wd_attn_full = torch.tensor(cfg.wd_attn, dtype=torch.float32, device=device)
    members = torch.arange(E, device=device)  # rows of the full ensemble still computed (see _compact)

    def param_decay():
        """([(parameter, its decay factor 1 - lr wd per row)], any row frozen): the factor is exactly 1 for frozen
        rows and shaped to broadcast over the parameter; recomputed whenever the active rows change."""
        groups, n, on = model.param_groups(), len(members), active.float()
        wd = [(p, wd_attn_full[members]) for p in groups["attn"]] + \
             [(p, torch.full((n,), cfg.wd_mlp, device=device)) for p in groups["mlp"]]
        decays = [(p, (1 - cfg.lr * w * on).view((n,) + (1,) * (p.dim() - 1))) for p, w in wd]
        return decays, not bool(active.all())  # ..., whether some row is frozen

    eval_steps = list(range(0, cfg.steps + 1, cfg.eval_every))
    if eval_steps[-1] != cfg.steps:
        eval_steps.append(cfg.steps)
    T = len(eval_steps)
    rec: dict[str, np.ndarray] = {}
    active = torch.ones(E, dtype=torch.bool, device=device)  # over the rows still computed
    nonfinite = np.zeros(E, dtype=bool)  # over the full ensemble
    stopped_at = np.full(E, cfg.steps, dtype=np.int64)
    loss_sum = torch.zeros(E, device=device)
    loss_n = 0
    start, next_eval, wall_before = 1, 1, 0.0

    def record(i, step):
        nonlocal loss_sum, loss_n
        rows = members.cpu().numpy()
        vals = evaluate(model, full_bank, cfg, device, members=None if len(rows) == E else members)
        for name in cfg.probes:
            vals.update(PROBES[name](model, bank))
        vals["train_loss"] = loss_sum / loss_n if loss_n else torch.full((len(rows),), float("nan"), device=device)
        loss_sum, loss_n = torch.zeros(len(rows), device=device), 0
        for k, v in vals.items():
            arr = rec.setdefault(k, np.full((E, T), np.nan))
            arr[rows, i] = np.where(active.cpu().numpy(), v.detach().float().cpu().numpy(), np.nan)
        if cfg.early_stop is not None and "icl_acc" in vals:
            done = active & (vals["icl_acc"] > cfg.early_stop)
            stopped_at[rows[done.cpu().numpy()]] = step
            active.logical_and_(~done)

    def snapshot(step):  # everything the loop below reads, after `step` is complete
        state = {"step": step, "next_eval": next_eval, "loss_n": loss_n, "wall_s": wall_before + time.time() - t0,
                 "members": members.cpu(), "active": active.cpu(), "loss_sum": loss_sum.cpu(),
                 "g_state": g.get_state(), "np_nonfinite": nonfinite, "np_stopped_at": stopped_at}
        state.update({f"param.{k}": v.detach().cpu() for k, v in model.state_dict().items()})
        state.update({f"np_rec.{k}": v for k, v in rec.items()})
        ckpt.save(Path(checkpoint), cfg.to_dict(), state, step, cfg.steps, state["wall_s"])

    required = _CHECKPOINT_KEYS + tuple(f"param.{k}" for k in model.state_dict())
    saved = ckpt.load(Path(checkpoint), cfg.to_dict(), required) if checkpoint is not None else None
    t0 = time.time()
    if saved is None:
        record(0, 0)
    else:
        start, next_eval, loss_n, wall_before = saved["step"] + 1, saved["next_eval"], saved["loss_n"], saved["wall_s"]
        members, active = saved["members"].to(device), saved["active"].to(device)
        loss_sum = saved["loss_sum"].to(device)
        g.set_state(saved["g_state"])
        nonfinite[:], stopped_at[:] = saved["np_nonfinite"], saved["np_stopped_at"]
        rec = {k[len("np_rec."):]: v.copy() for k, v in saved.items() if k.startswith("np_rec.")}
        if len(members) < E:
            _compact(model, members)
            bank = full_bank.subset(members)
        try:
            model.load_state_dict({k[len("param."):]: v for k, v in saved.items() if k.startswith("param.")})
        except RuntimeError as e:  # shapes that do not fit the members it says it holds
            raise ResultsError(f"checkpoint {ckpt.paths(Path(checkpoint))[0]} does not fit this run "
                               f"({' '.join(str(e).split())[:120]}); delete it to restart that sub-run") from None
    params, any_frozen = param_decay()
    last_save = time.monotonic()
    bar = tqdm(total=cfg.steps, initial=start - 1, disable=not progress, desc=desc or cfg.model, mininterval=2.0)
    with bar, ckpt.deferred_interrupts(enabled=checkpoint is not None) as interrupts:  # the bar ends its line on errors
        for step in range(start, cfg.steps + 1):
            if not active.any():  # every member stopped at the previous evaluation
                bar.update(cfg.steps - bar.n)
                break
            x, lab = data.sample_train(bank, cfg.batch, cfg.N, g, cfg.balanced)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                z = model(x, lab)
            per_member = _loss(z.float(), lab[:, :, -1]).mean(1)  # (E_active,), in fp32
            bad = ~torch.isfinite(per_member)
            if bad.any():
                newly = (bad & active).cpu().numpy()
                nonfinite[members.cpu().numpy()[newly]] = True
                stopped_at[members.cpu().numpy()[newly]] = step
                active &= ~bad
                params, any_frozen = param_decay()
            model.zero_grad(set_to_none=True)
            torch.where(active, per_member, torch.zeros_like(per_member)).sum().backward()
            with torch.no_grad():  # SGD with per-member weight decay: p <- p (1 - lr wd) - lr grad, active rows only
                frozen = ~active if any_frozen else None
                for p, decay in params:
                    if frozen is not None:
                        p.grad[frozen] = 0.0  # a frozen member takes no step (its gradient may be NaN)
                    p.mul_(decay)
                    p.add_(p.grad, alpha=-cfg.lr)
            loss_sum += torch.where(active, per_member.detach(), torch.zeros_like(per_member))
            loss_n += 1
            bar.update(1)
            if step == eval_steps[next_eval]:
                record(next_eval, step)  # may stop members (early stop)
                next_eval += 1
                params, any_frozen = param_decay()
                if "icl_acc" in rec and active.any():
                    bar.set_postfix(icl=f"{np.nanmean(rec['icl_acc'][:, next_eval - 1]):.3f}",
                                    active=int(active.sum()))
                if active.any() and active.sum() <= COMPACT_AT * len(members):  # drop stopped members
                    keep = active.nonzero().squeeze(1)
                    _compact(model, keep)
                    members, active, loss_sum = members[keep], active[keep], loss_sum[keep]
                    bank = full_bank.subset(members)
                    params, any_frozen = param_decay()
                if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every and step < cfg.steps:
                    snapshot(step)
                    last_save = time.monotonic()
            timed_out = deadline is not None and time.monotonic() >= deadline
            if (timed_out or interrupts) and step < cfg.steps and active.any():
                if checkpoint is None:
                    raise ValueError("a deadline needs a checkpoint path to save the run to")
                snapshot(step)
                bar.close()
                if interrupts:
                    raise KeyboardInterrupt(f"interrupted at step {step} of {cfg.steps}; checkpoint {checkpoint}")
                raise TimeLimitReached(f"stopped at step {step} of {cfg.steps}; checkpoint {checkpoint}")
    bar.close()
    out = {"steps": np.asarray(eval_steps, dtype=np.int64)}
    out.update(rec)
    if "icl_acc" in rec:
        out["t_icl"] = stats.first_crossing(out["steps"], rec["icl_acc"], ICL_THRESHOLD, strict=True)
    for k, v in rec.items():
        out[f"final_{k}"] = last_finite(v)
    out["stopped_at"] = stopped_at
    out["nonfinite"] = nonfinite
    out["wall_s"] = np.asarray(wall_before + time.time() - t0)
    return out


# Stopped members (early stop or non-finite loss) are frozen; once at most this fraction of the computed rows
# is still active, the frozen rows are dropped from the computation. Each remaining member keeps its
# parameters and evaluation set; its training batches then come from a smaller draw of the same generator.
COMPACT_AT = 0.75


@torch.no_grad()
def _compact(model, keep: torch.Tensor) -> None:
    """Keep only rows `keep` of every parameter (all parameters carry the ensemble dimension first)."""
    for name, p in list(model.named_parameters()):
        owner, _, attr = name.rpartition(".")
        setattr(model.get_submodule(owner), attr, torch.nn.Parameter(p.detach()[keep].clone()))
    model.E = len(keep)


def last_finite(curve: np.ndarray) -> np.ndarray:
    """Per row of curve (E, T): the last non-NaN value."""
    ok = ~np.isnan(curve)
    idx = curve.shape[1] - 1 - ok[:, ::-1].argmax(1)
    return np.where(ok.any(1), curve[np.arange(curve.shape[0]), idx], np.nan)
