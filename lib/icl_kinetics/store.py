"""The results store: ``<out>/<experiment>/<profile>.npz`` with ``<profile>.json`` beside it.

The json holds the full run configurations and the provenance (package version, git commit, device, torch
version, wall time, date) and the checksum of the npz. :func:`load` checks that both files exist, are intact
and were produced by the configuration the caller expects.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .train import RunConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = Path(os.environ.get("ICL_RESULTS", REPO_ROOT / "results"))


class ResultsError(RuntimeError):
    """Stored results are missing, corrupt or were produced by a different configuration."""


@dataclass
class Result:
    experiment: str
    profile: str
    meta: dict
    runs: dict = field(default_factory=dict)  # run name -> {key: np.ndarray}

    def configs(self) -> dict:
        return {k: RunConfig.from_dict(v) for k, v in self.meta["runs"].items()}

    def __getitem__(self, run: str) -> dict:
        return self.runs[run]


def _paths(name, profile, out):
    d = Path(out) / name
    return d, d / f"{profile}.npz", d / f"{profile}.json"


def _git_commit() -> str:
    """HEAD of the repository, with '+dirty' when library files differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout

    try:
        head = git("rev-parse", "HEAD").strip() or "unknown"
        return head + ("+dirty" if git("status", "--porcelain", "--", "lib").strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save(result: Result, out=None) -> Path:
    """Write npz then json atomically (temporary files renamed into place); returns the json path."""
    d, npz, js = _paths(result.experiment, result.profile, out or RESULTS_DIR)
    d.mkdir(parents=True, exist_ok=True)
    arrays = {f"{run}/{k}": np.asarray(v) for run, vals in result.runs.items() for k, v in vals.items()}
    with tempfile.NamedTemporaryFile(dir=d, suffix=".npz.tmp", delete=False) as f:
        np.savez_compressed(f, **arrays)
        tmp_npz = Path(f.name)
    meta = dict(result.meta, npz_sha256=_sha256(tmp_npz))
    with tempfile.NamedTemporaryFile("w", dir=d, suffix=".json.tmp", delete=False) as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        tmp_js = Path(f.name)
    os.replace(tmp_npz, npz)
    os.replace(tmp_js, js)
    return js


def stored_meta(name: str, profile: str, out=None) -> dict | None:
    """The metadata of stored results (without checking them), or None when there are none or it is unreadable."""
    js = _paths(name, profile, out or RESULTS_DIR)[2]
    try:
        return json.loads(js.read_text())
    except (OSError, json.JSONDecodeError):
        return None


def load(name: str, profile: str, expected: dict, out=None) -> Result:
    """Load stored results, checking they exist, are intact and match `expected` ({run name: config dict})."""
    d, npz, js = _paths(name, profile, out or RESULTS_DIR)
    regen = f"regenerate with: python -m icl_kinetics run {name} --profile {profile}"
    if not js.exists() or not npz.exists():
        raise ResultsError(f"no stored results for {name!r} at profile {profile!r} ({npz}); {regen}")
    try:
        meta = json.loads(js.read_text())
    except json.JSONDecodeError as e:
        raise ResultsError(f"corrupt results metadata {js}: {e}; {regen}") from e
    if meta.get("npz_sha256") != _sha256(npz):
        raise ResultsError(f"corrupt results: {npz} does not match the checksum in {js}; {regen}")
    if meta.get("runs") != expected:
        diffs = _config_diff(meta.get("runs", {}), expected)
        raise ResultsError(f"stored results for {name!r}/{profile!r} were made with a different configuration "
                           f"({'; '.join(diffs[:5])}); {regen}")
    runs: dict = {}
    with np.load(npz) as z:
        for key in z.files:
            run, k = key.split("/", 1)
            runs.setdefault(run, {})[k] = z[key]
    return Result(name, profile, meta, runs)


def _config_diff(stored: dict, expected: dict) -> list:
    diffs = []
    for run in sorted(set(stored) | set(expected)):
        if run not in stored or run not in expected:
            diffs.append(f"run {run!r} only in {'stored' if run in stored else 'current'} config")
            continue
        for k in sorted(set(stored[run]) | set(expected[run])):
            if stored[run].get(k) != expected[run].get(k):
                diffs.append(f"{run}.{k}: stored {stored[run].get(k)!r} != current {expected[run].get(k)!r}")
    return diffs
