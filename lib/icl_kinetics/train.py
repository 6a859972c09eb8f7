"""Ensembled training: E members trained at once with plain SGD, periodic ICL/IWL evaluation.

Members share N, the architecture and the optimiser settings; they may differ in seed (initialisation and
labels), in K and in the attention weight decay. Time is measured in iterations (SGD steps).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import checkpoint as ckpt
from . import data, models, stats
from .config import ICL_THRESHOLD, RunConfig, eval_steps  # noqa: F401 (RunConfig re-exported: the trainer's input)
from .errors import ResultsError


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
    """Accuracy and loss on each of `cfg.evals` (config.EVAL_NAMES) on a fixed evaluation set (regenerated from the
    same seed each time; the kinds are drawn in the order of `cfg.evals`, so adding a kind after the others leaves
    theirs unchanged).

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
            if kind == "iwl":
                x, lab = data.sample_iwl_eval(bank, b, cfg.N, g)
            else:  # "icl": contexts like the training ones; "icl_standard", "icl_conflict": those contexts
                contexts = ("balanced" if cfg.balanced else "standard") if kind == "icl" else kind[4:]
                x, lab = data.sample_icl_eval(cfg.E, b, cfg.N, cfg.D, g, device, contexts=contexts)
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
    run = _Ensemble(cfg, pick_device(device))
    if checkpoint is None or not run.restore(Path(checkpoint)):
        run.record(0)
    last_save = time.monotonic()
    bar = tqdm(total=cfg.steps, initial=run.start - 1, disable=not progress, desc=desc or cfg.model, mininterval=2.0)
    with bar, ckpt.deferred_interrupts(enabled=checkpoint is not None) as interrupts:  # the bar ends its line on errors
        for step in range(run.start, cfg.steps + 1):
            if not run.active.any():  # every member stopped at the previous evaluation
                bar.update(cfg.steps - bar.n)
                break
            x, lab = data.sample_train(run.bank, cfg.batch, cfg.N, run.g, cfg.balanced)  # (E, B, N, D), (E, B, N)
            with torch.autocast(run.device.type, dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
                z = run.model(x, lab)  # (E, B): the logit of the target's label
            per_member = _loss(z.float(), lab[:, :, -1]).mean(1)  # (E_active,), in fp32
            run.freeze_nonfinite(per_member, step)
            run.model.zero_grad(set_to_none=True)
            torch.where(run.active, per_member, torch.zeros_like(per_member)).sum().backward()
            run.sgd_update(per_member)
            bar.update(1)
            if step == run.eval_steps[run.next_eval]:
                run.record(step)  # records; may stop members (early stop) and drop them from the computation
                postfix = run.postfix()
                if postfix:
                    bar.set_postfix(**postfix)
                if checkpoint is not None and time.monotonic() - last_save >= checkpoint_every and step < cfg.steps:
                    run.save(Path(checkpoint), step)
                    last_save = time.monotonic()
            timed_out = deadline is not None and time.monotonic() >= deadline
            if (timed_out or interrupts) and step < cfg.steps and run.active.any():
                run.stop(checkpoint, step, bool(interrupts))  # saves a checkpoint and raises
    return run.result()


class _Ensemble:
    """The state of one training run and its bookkeeping, for :func:`train`: the model and its data, the records,
    which members are still trained (early stop, non-finite loss), and the checkpoint of all of it.

    ``members``: rows of the full ensemble still computed (stopped rows are dropped by `_compact`); ``active``:
    over those rows, the members still training; ``nonfinite``, ``stopped_at``: over the full ensemble."""

    def __init__(self, cfg: RunConfig, device: torch.device):
        self.cfg, self.device, E = cfg, device, cfg.E
        self.model = models.build(cfg.model, E, cfg.D, cfg.width, cfg.seeds,
                                  **({"beta0": cfg.beta0} if cfg.model == "minimal" else {})).to(device)
        self.full_bank = self.bank = data.ItemBank.create(cfg.Ks, cfg.D, cfg.seeds, cfg.data_seed, device, pool=cfg.pool)
        self.g = torch.Generator(device=device).manual_seed(sampling_seed(cfg))
        self.wd_attn = torch.tensor(cfg.wd_attn, dtype=torch.float32, device=device)
        self.members = torch.arange(E, device=device)
        self.active = torch.ones(E, dtype=torch.bool, device=device)
        self.nonfinite = np.zeros(E, dtype=bool)
        self.stopped_at = np.full(E, cfg.steps, dtype=np.int64)
        self.loss_sum, self.loss_n = torch.zeros(E, device=device), 0  # training loss since the last evaluation
        self.eval_steps = eval_steps(cfg)
        self.rec: dict[str, np.ndarray] = {}  # name -> (E, T) over the full ensemble
        self.start, self.next_eval, self.wall_before, self.t0 = 1, 1, 0.0, time.time()
        self.update_decay()

    def update_decay(self) -> None:
        """[(parameter, its decay factor 1 - lr wd per row)] and whether any row is frozen: the factor is exactly 1
        for frozen rows and shaped to broadcast over the parameter; recomputed whenever the active rows change."""
        cfg, n, on = self.cfg, len(self.members), self.active.float()
        groups = self.model.param_groups()
        wd = [(p, self.wd_attn[self.members]) for p in groups["attn"]] + \
             [(p, torch.full((n,), cfg.wd_mlp, device=self.device)) for p in groups["mlp"]]
        self.decays = [(p, (1 - cfg.lr * w * on).view((n,) + (1,) * (p.dim() - 1))) for p, w in wd]
        self.any_frozen = not bool(self.active.all())

    def sgd_update(self, per_member: torch.Tensor) -> None:
        """SGD with per-member weight decay, p <- p (1 - lr wd) - lr grad, on the active rows only; adds the
        step's loss to the running training loss."""
        with torch.no_grad():
            frozen = ~self.active if self.any_frozen else None
            for p, decay in self.decays:
                if frozen is not None:
                    p.grad[frozen] = 0.0  # a frozen member takes no step (its gradient may be NaN)
                p.mul_(decay)
                p.add_(p.grad, alpha=-self.cfg.lr)
        self.loss_sum += torch.where(self.active, per_member.detach(), torch.zeros_like(per_member))
        self.loss_n += 1

    def freeze_nonfinite(self, per_member: torch.Tensor, step: int) -> None:
        """Stop (and report in ``nonfinite``) every member whose loss became non-finite at `step`."""
        bad = ~torch.isfinite(per_member)
        if bad.any():
            newly = self.members.cpu().numpy()[(bad & self.active).cpu().numpy()]
            self.nonfinite[newly], self.stopped_at[newly] = True, step
            self.active &= ~bad
            self.update_decay()

    def record(self, step: int) -> None:
        """Record every evaluated quantity at `step` (the next evaluation, or 0 before training), stop the members
        past ``early_stop`` and, once few rows are active, drop the stopped ones from the computation."""
        cfg, rows = self.cfg, self.members.cpu().numpy()
        i = 0 if step == 0 else self.next_eval
        vals = evaluate(self.model, self.full_bank, cfg, self.device,
                        members=None if len(rows) == cfg.E else self.members)
        for name in cfg.probes:
            vals.update(PROBES[name](self.model, self.bank))
        vals["train_loss"] = (self.loss_sum / self.loss_n if self.loss_n else
                              torch.full((len(rows),), float("nan"), device=self.device))
        self.loss_sum, self.loss_n = torch.zeros(len(rows), device=self.device), 0
        for k, v in vals.items():
            arr = self.rec.setdefault(k, np.full((cfg.E, len(self.eval_steps)), np.nan))
            arr[rows, i] = np.where(self.active.cpu().numpy(), v.detach().float().cpu().numpy(), np.nan)
        if cfg.early_stop is not None and "icl_acc" in vals:
            done = self.active & (vals["icl_acc"] > cfg.early_stop)
            self.stopped_at[rows[done.cpu().numpy()]] = step
            self.active.logical_and_(~done)
        self.update_decay()
        if step == 0:
            return
        self.next_eval += 1
        if self.active.any() and self.active.sum() <= COMPACT_AT * len(self.members):
            keep = self.active.nonzero().squeeze(1)
            _compact(self.model, keep)
            self.members, self.active, self.loss_sum = self.members[keep], self.active[keep], self.loss_sum[keep]
            self.bank = self.full_bank.subset(self.members)
            self.update_decay()

    def postfix(self) -> dict:
        """What the progress bar shows after an evaluation: mean ICL accuracy of the members still training."""
        if "icl_acc" not in self.rec or not self.active.any():
            return {}
        return dict(icl=f"{np.nanmean(self.rec['icl_acc'][:, self.next_eval - 1]):.3f}", active=int(self.active.sum()))

    def save(self, stem: Path, step: int) -> None:
        """A checkpoint of everything the training loop reads, after `step` is complete."""
        state = {"step": step, "next_eval": self.next_eval, "loss_n": self.loss_n,
                 "wall_s": self.wall_before + time.time() - self.t0, "members": self.members.cpu(),
                 "active": self.active.cpu(), "loss_sum": self.loss_sum.cpu(), "g_state": self.g.get_state(),
                 "np_nonfinite": self.nonfinite, "np_stopped_at": self.stopped_at}
        state.update({f"param.{k}": v.detach().cpu() for k, v in self.model.state_dict().items()})
        state.update({f"np_rec.{k}": v for k, v in self.rec.items()})
        ckpt.save(stem, self.cfg.to_dict(), state, step, self.cfg.steps, state["wall_s"])

    def restore(self, stem: Path) -> bool:
        """Resume from the checkpoint at `stem` if there is one (verified; refused if written for another config)."""
        required = _CHECKPOINT_KEYS + tuple(f"param.{k}" for k in self.model.state_dict())
        saved = ckpt.load(stem, self.cfg.to_dict(), required)
        self.t0 = time.time()
        if saved is None:
            return False
        dev = self.device
        self.start, self.next_eval, self.loss_n = saved["step"] + 1, saved["next_eval"], saved["loss_n"]
        self.wall_before = saved["wall_s"]
        self.members, self.active = saved["members"].to(dev), saved["active"].to(dev)
        self.loss_sum = saved["loss_sum"].to(dev)
        self.g.set_state(saved["g_state"])
        self.nonfinite[:], self.stopped_at[:] = saved["np_nonfinite"], saved["np_stopped_at"]
        self.rec = {k[len("np_rec."):]: v.copy() for k, v in saved.items() if k.startswith("np_rec.")}
        if len(self.members) < self.cfg.E:
            _compact(self.model, self.members)
            self.bank = self.full_bank.subset(self.members)
        try:
            self.model.load_state_dict({k[len("param."):]: v for k, v in saved.items() if k.startswith("param.")})
        except RuntimeError as e:  # shapes that do not fit the members it says it holds
            raise ResultsError(f"checkpoint {ckpt.paths(stem)[0]} does not fit this run "
                               f"({' '.join(str(e).split())[:120]}); delete it to restart that sub-run") from None
        self.update_decay()
        return True

    def stop(self, checkpoint, step: int, interrupted: bool) -> None:
        """Save a checkpoint at `step` and raise: KeyboardInterrupt on a signal, TimeLimitReached at the deadline."""
        if checkpoint is None:
            raise ValueError("a deadline needs a checkpoint path to save the run to")
        self.save(Path(checkpoint), step)
        if interrupted:
            raise KeyboardInterrupt(f"interrupted at step {step} of {self.cfg.steps}; checkpoint {checkpoint}")
        raise TimeLimitReached(f"stopped at step {step} of {self.cfg.steps}; checkpoint {checkpoint}")

    def result(self) -> dict:
        """The arrays :func:`train` returns."""
        out = {"steps": np.asarray(self.eval_steps, dtype=np.int64)}
        out.update(self.rec)
        if "icl_acc" in self.rec:
            out["t_icl"] = stats.first_crossing(out["steps"], self.rec["icl_acc"], ICL_THRESHOLD, strict=True)
        for k, v in self.rec.items():
            out[f"final_{k}"] = stats.last_finite(v)
        out["stopped_at"] = self.stopped_at
        out["nonfinite"] = self.nonfinite
        out["wall_s"] = np.asarray(self.wall_before + time.time() - self.t0)
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
