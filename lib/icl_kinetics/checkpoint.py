"""Checkpoints inside a training run: save atomically, load only into the configuration that wrote them.

A checkpoint holds everything :func:`icl_kinetics.train.train` needs to continue exactly where it stopped: the
parameters of the members still computed, every random generator's state, the step, the records so far and the
bookkeeping of stopped members. On CPU a run resumed from a checkpoint gives arrays bit-identical to a run
that was never interrupted (``tests/test_resume.py``).

Files: ``<name>.ckpt.pt`` and ``<name>.ckpt.json`` beside it, both written through the one atomic writer
(:func:`icl_kinetics.files.write_files`, both files or neither), so a run killed while writing leaves the previous checkpoint intact.

* ``.ckpt.pt`` is a header line ``ICLCKPT <format> <sha256>`` followed by a ``torch.save`` of tensors and
  plain Python values only (it loads with ``weights_only=True``); the sha256 covers everything after the
  header, so a flipped byte or a truncated file is refused, never resumed from.
* ``.ckpt.json`` (step, steps, wall time: what ``list`` reports without unpickling anything) carries the
  tensor file's sha256 and a checksum of its own fields: an edited or stale sidecar is not reported.
"""
from __future__ import annotations

import contextlib
import io
import json
import signal
import threading
from pathlib import Path

import numpy as np
import torch

from .errors import ResultsError
from .files import sha256_bytes, write_files

FORMAT = 2  # bump when the layout of a checkpoint changes; older ones are refused with a clear message
MAGIC = b"ICLCKPT"


def paths(stem: Path) -> tuple[Path, Path]:
    """(tensor file, progress sidecar) of the checkpoint `stem` (a path without suffix)."""
    stem = Path(stem)
    return stem.with_name(stem.name + ".ckpt.pt"), stem.with_name(stem.name + ".ckpt.json")


def _discard(pt: Path) -> str:
    return f"delete {pt} and the .ckpt.json beside it to restart that sub-run from step 0"


def _sidecar(step: int, steps: int, wall_s: float, pt_sha256: str) -> dict:
    body = {"step": int(step), "steps": int(steps), "wall_s": float(wall_s), "pt_sha256": pt_sha256}
    return dict(body, sha256=sha256_bytes(json.dumps(body, sort_keys=True).encode()))


def save(stem: Path, config: dict, state: dict, step: int, steps: int, wall_s: float) -> None:
    """Write the checkpoint `stem`: `state` (tensors, numpy arrays, plain values; arrays are stored as tensors).
    A full disk or a read-only folder is one ResultsError line; the previous checkpoint is then kept."""
    payload = {"format": FORMAT, "config": config,
               "state": {k: torch.from_numpy(np.ascontiguousarray(v)) if isinstance(v, np.ndarray) else v
                         for k, v in state.items()}}
    buf = io.BytesIO()
    torch.save(payload, buf)
    body = buf.getvalue()
    digest = sha256_bytes(body)
    pt, js = paths(stem)
    write_files({pt: MAGIC + f" {FORMAT} {digest}\n".encode() + body,
                 js: json.dumps(_sidecar(step, steps, wall_s, digest)).encode()})  # both or neither


def _read(pt: Path) -> tuple[bytes, bytes]:
    """(header line, body) of a checkpoint file; ResultsError when it is not one or fails its checksum."""
    try:
        blob = pt.read_bytes()
    except OSError as e:
        raise ResultsError(f"checkpoint {pt} is unreadable ({e.strerror or e}); {_discard(pt)}") from None
    head, _, body = blob.partition(b"\n")
    parts = head.split(b" ")
    if len(parts) != 3 or parts[0] != MAGIC:
        raise ResultsError(f"checkpoint {pt} is not a checkpoint of this code's format {FORMAT} (no valid "
                           f"header); {_discard(pt)}")
    if parts[1] != str(FORMAT).encode():
        raise ResultsError(f"checkpoint {pt} has format {parts[1].decode(errors='replace')}, this code reads "
                           f"format {FORMAT}; {_discard(pt)}")
    if sha256_bytes(body) != parts[2].decode(errors="replace"):
        raise ResultsError(f"checkpoint {pt} is corrupt (its checksum does not match); {_discard(pt)}")
    return head, body


def load(stem: Path, config: dict, required: tuple = ()) -> dict | None:
    """The state saved at `stem` for exactly `config`, or None when there is no checkpoint.

    ResultsError (one line, with what to do) for a file that fails its checksum, is unreadable, was written for
    another configuration, or lacks one of the `required` state keys: a checkpoint is never silently mixed
    into a different run, nor resumed from when damaged.
    """
    pt, _ = paths(stem)
    if not pt.exists():
        return None
    _, body = _read(pt)
    try:
        payload = torch.load(io.BytesIO(body), map_location="cpu", weights_only=True)
        fmt, stored, state = payload["format"], payload["config"], payload["state"]
    except Exception as e:  # torch raises many types for a foreign file
        raise ResultsError(f"checkpoint {pt} is unreadable ({type(e).__name__}); {_discard(pt)}") from None
    if fmt != FORMAT or not isinstance(stored, dict) or not isinstance(state, dict):
        raise ResultsError(f"checkpoint {pt} has an unexpected layout; {_discard(pt)}")
    if stored != config:
        diff = [f"{k}: checkpoint {stored.get(k)!r} != current {config.get(k)!r}"
                for k in sorted(set(stored) | set(config)) if stored.get(k) != config.get(k)]
        raise ResultsError(f"checkpoint {pt} was written for a different configuration ({'; '.join(diff)}); "
                           "run the command that wrote it, or delete it to start this sub-run over")
    missing = [k for k in required if k not in state]
    if missing:
        raise ResultsError(f"checkpoint {pt} lacks {', '.join(missing)}; {_discard(pt)}")
    return {k: v.numpy() if isinstance(v, torch.Tensor) and k.startswith("np_") else v
            for k, v in state.items()}


def progress(stem: Path) -> dict | None:
    """{'step', 'steps', 'wall_s'} of the checkpoint `stem`, or None when there is none or it cannot be
    vouched for: a sidecar that is unreadable, fails its own checksum, or belongs to another tensor file (the
    tensor file's header is read, not its body)."""
    pt, js = paths(stem)
    try:
        p = json.loads(js.read_text())
        if not isinstance(p, dict) or _sidecar(p["step"], p["steps"], p["wall_s"], p["pt_sha256"]) != p:
            return None
        with open(pt, "rb") as f:
            head = f.readline(256).rstrip(b"\n").split(b" ")
        if len(head) != 3 or head[2].decode(errors="replace") != p["pt_sha256"]:
            return None
        return {k: p[k] for k in ("step", "steps", "wall_s")}
    except (OSError, ValueError, KeyError, TypeError, OverflowError):  # e.g. a step of Infinity
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
