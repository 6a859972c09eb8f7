"""Checkpoints inside a training run: save atomically, load only into the configuration that wrote them.

A checkpoint holds everything :func:`icl_kinetics.train.train` needs to continue exactly where it stopped: the
parameters of the members still computed, every random generator's state, the step, the records so far and the
bookkeeping of stopped members. On CPU a run resumed from a checkpoint gives arrays bit-identical to a run
that was never interrupted (``tests/test_resume.py``).

Files: ``<name>.ckpt.pt`` (``torch.save`` of tensors and plain Python values only, so it loads with
``weights_only=True``) and ``<name>.ckpt.json`` beside it (step, steps, wall time: what ``list`` reports
without unpickling anything). Both are written to a temporary file and renamed into place, so a run killed
while writing leaves the previous checkpoint intact.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import tempfile
import threading
from pathlib import Path

import numpy as np
import torch

from .errors import ResultsError

FORMAT = 1  # bump when the layout of a checkpoint changes; older ones are refused with a clear message


def paths(stem: Path) -> tuple[Path, Path]:
    """(tensor file, progress sidecar) of the checkpoint `stem` (a path without suffix)."""
    stem = Path(stem)
    return stem.with_name(stem.name + ".ckpt.pt"), stem.with_name(stem.name + ".ckpt.json")


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(stem: Path, config: dict, state: dict, step: int, steps: int, wall_s: float) -> None:
    """Write the checkpoint `stem`: `state` (tensors, numpy arrays, plain values; arrays are stored as tensors)."""
    payload = {"format": FORMAT, "config": config,
               "state": {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
                         for k, v in state.items()}}
    pt, js = paths(stem)
    _atomic(pt, lambda f: torch.save(payload, f))
    progress = {"step": int(step), "steps": int(steps), "wall_s": float(wall_s)}
    _atomic(js, lambda f: f.write(json.dumps(progress).encode()))


def load(stem: Path, config: dict) -> dict | None:
    """The state saved at `stem` for exactly `config`, or None when there is no checkpoint.

    ResultsError (one line, with what to do) for an unreadable file or one written for another configuration:
    a checkpoint is never silently mixed into a different run.
    """
    pt, _ = paths(stem)
    if not pt.exists():
        return None
    try:
        payload = torch.load(pt, map_location="cpu", weights_only=True)
        fmt, stored = payload["format"], payload["config"]
    except Exception as e:  # torch raises many types for a truncated or foreign file
        raise ResultsError(f"checkpoint {pt} is unreadable ({type(e).__name__}); delete it to restart that "
                           "sub-run from step 0") from None
    if fmt != FORMAT:
        raise ResultsError(f"checkpoint {pt} has format {fmt}, this code reads format {FORMAT}; delete it to "
                           "restart that sub-run from step 0")
    if stored != config:
        diff = [f"{k}: checkpoint {stored.get(k)!r} != current {config.get(k)!r}"
                for k in sorted(set(stored) | set(config)) if stored.get(k) != config.get(k)]
        raise ResultsError(f"checkpoint {pt} was written for a different configuration ({'; '.join(diff)}); "
                           "run the command that wrote it, or delete it to start this sub-run over")
    return {k: v.numpy() if isinstance(v, torch.Tensor) and k.startswith("np_") else v
            for k, v in payload["state"].items()}


def progress(stem: Path) -> dict | None:
    """{'step', 'steps', 'wall_s'} of the checkpoint `stem`, or None (no checkpoint, or an unreadable sidecar)."""
    _, js = paths(stem)
    try:
        p = json.loads(js.read_text())
        return {k: p[k] for k in ("step", "steps", "wall_s")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove(stem: Path) -> None:
    for p in paths(stem):
        p.unlink(missing_ok=True)


@contextlib.contextmanager
def deferred_interrupts(enabled: bool = True):
    """While active, SIGINT and SIGTERM are noted in the yielded list instead of stopping the process, so the
    training loop can finish its step, save a checkpoint and then stop. A second signal stops at once.
    Only in the main thread (signal handlers cannot be set elsewhere); otherwise a no-op."""
    received: list[int] = []
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield received
        return

    def note(signum, frame):
        if received:
            raise KeyboardInterrupt
        received.append(signum)

    previous = {s: signal.signal(s, note) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
