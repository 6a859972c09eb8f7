"""The results store: ``<out>/<experiment>/<profile>.npz`` with ``<profile>.json`` beside it.

The json holds the full run configurations and the provenance (package version, git commit, device, torch
version, wall time, date), the checksum of the npz (``npz_sha256``) and the checksum of its own fields
(``meta_sha256``). :func:`load` checks that both files exist, are intact and were produced by the configuration
the caller expects; :func:`save` writes them atomically under a lock.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import numpy as np

from .errors import ResultsError  # noqa: F401  (re-exported: store.ResultsError)
from .train import RunConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = Path(os.environ.get("ICL_RESULTS", REPO_ROOT / "results"))


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


def _meta_sha256(meta: dict) -> str:
    """Checksum of the json's fields (the provenance included), without the ``meta_sha256`` field itself.

    Computed on the canonical JSON text (sorted keys, no whitespace) of the JSON round trip, so that the value
    written by :func:`save` is the value :func:`load` recomputes from the file."""
    body = {k: v for k, v in json.loads(json.dumps(meta)).items() if k != "meta_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _file_mode() -> int:
    """0666 minus the process umask (0644 under the usual umask 022): results are readable by other users."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _lock(d: Path, profile: str) -> filelock.FileLock:
    return filelock.FileLock(str(d / f".{profile}.lock"))


def _state(path: Path):
    """What identifies the current version of a file (None when there is none)."""
    try:
        st = path.stat()
        return st.st_mtime_ns, st.st_size, st.st_ino
    except OSError:
        return None


def check_writable(out=None) -> Path:
    """The results directory `out` (created if missing), or a ResultsError saying why results cannot be
    written there. Call it before any compute, so that a run does not train to the end and then fail."""
    d = Path(out or RESULTS_DIR)
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".write-check.", suffix=".tmp"):
            pass
    except OSError as e:
        raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from e
    return d


def save(result: Result, out=None, lock_timeout: float = 3600.0) -> Path:
    """Write npz then json atomically; returns the json path.

    Both files are written to temporary files that are renamed into place while holding a lock on
    ``<out>/<experiment>/.<profile>.lock``, so two processes saving the same result serialise and the stored
    json/npz pair always belongs together. A writer that has to wait, or that finds the result changed by
    another process since it called save, says so on stderr (the last writer's result is kept). Temporary
    files are removed on failure, and leftovers of a killed writer are removed by the next one. Files are
    written with mode 0666 minus the umask (0644 usually). The json carries ``npz_sha256`` (the npz's checksum)
    and ``meta_sha256`` (its own fields', the provenance included).
    """
    d, npz, js = _paths(result.experiment, result.profile, out or RESULTS_DIR)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from e
    arrays = {f"{run}/{k}": np.asarray(v) for run, vals in result.runs.items() for k, v in vals.items()}
    before = _state(js)
    lock = _lock(d, result.profile)
    try:
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:  # (a subclass of OSError)
            print(f"{js}: another process is writing this result; waiting for it to finish", file=sys.stderr)
            lock.acquire(timeout=lock_timeout)
    except filelock.Timeout:
        raise ResultsError(f"{js}: gave up after {lock_timeout:.0f} s waiting for another process writing "
                           f"this result (lock {lock.lock_file})") from None
    except OSError as e:
        raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from e
    try:
        if before != _state(js):
            other = stored_meta(result.experiment, result.profile, out) or {}
            print(f"{js}: another process stored this result while this one ran (date {other.get('date', '?')}, "
                  f"device {other.get('device', '?')}); replacing it with this run's result", file=sys.stderr)
        for stale in d.glob(f".{result.profile}.*.tmp"):  # left by a writer that was killed (we hold the lock)
            stale.unlink(missing_ok=True)
        tmps = []
        try:
            mode = _file_mode()
            with tempfile.NamedTemporaryFile(dir=d, prefix=f".{result.profile}.", suffix=".npz.tmp",
                                             delete=False) as f:
                tmps.append(Path(f.name))
                np.savez_compressed(f, **arrays)
            meta = {k: v for k, v in result.meta.items() if k != "meta_sha256"}
            meta["npz_sha256"] = _sha256(tmps[0])
            meta["meta_sha256"] = _meta_sha256(meta)
            with tempfile.NamedTemporaryFile("w", dir=d, prefix=f".{result.profile}.", suffix=".json.tmp",
                                             delete=False, encoding="utf-8") as f:
                tmps.append(Path(f.name))
                json.dump(meta, f, indent=1, sort_keys=True)
            for t in tmps:
                os.chmod(t, mode)
            os.replace(tmps[0], npz)
            os.replace(tmps[1], js)
        except OSError as e:  # disk full, permissions changed under us ...: a user's problem, not a bug
            raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from e
        finally:
            for t in tmps:
                t.unlink(missing_ok=True)
    finally:
        lock.release()
    return js


def stored_meta(name: str, profile: str, out=None) -> dict | None:
    """The metadata of stored results (without checking them), or None when there are none or it is unreadable."""
    js = _paths(name, profile, out or RESULTS_DIR)[2]
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: not JSON, not UTF-8
        return None
    return meta if isinstance(meta, dict) else None


def _regen(name: str, profile: str, out) -> str:
    cmd = f"python -m icl_kinetics run {shlex.quote(name)} --profile {shlex.quote(profile)}"
    if out is not None and Path(out).resolve() != Path(RESULTS_DIR).resolve():
        cmd += f" --out {shlex.quote(str(out))}"
    return f"regenerate with: {cmd}"


def _read_pair(js: Path, npz: Path, regen: str, attempts: int = 3):
    """(meta, npz bytes) read consistently: a writer renames the npz then the json into place, so a reader can
    see the old json with the new npz for a moment; a checksum mismatch is retried before it counts."""
    for attempt in range(attempts):
        try:
            text = js.read_bytes()
            blob = npz.read_bytes()
        except OSError as e:
            raise ResultsError(f"cannot read stored results {js.parent}: {e.strerror or e}; {regen}") from e
        try:
            meta = json.loads(text.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ResultsError(f"corrupt results metadata {js}: not UTF-8 text ({e.reason}); {regen}") from e
        except json.JSONDecodeError as e:
            raise ResultsError(f"corrupt results metadata {js}: {e}; {regen}") from e
        if not isinstance(meta, dict):
            raise ResultsError(f"corrupt results metadata {js}: expected a JSON object, found "
                               f"{type(meta).__name__}; {regen}")
        if meta.get("npz_sha256") == hashlib.sha256(blob).hexdigest():
            return meta, blob
        if attempt + 1 < attempts:
            time.sleep(0.1)
    raise ResultsError(f"corrupt results: {npz} does not match the checksum in {js}; {regen}")


def load(name: str, profile: str, expected: dict, out=None) -> Result:
    """Load stored results, checking they exist, are intact and match `expected` ({run name: config dict}).

    Every way a stored result can be unusable (missing, unreadable, not JSON, not UTF-8, checksum of the npz or
    of the json's own fields failing, an unreadable npz, a different configuration) raises ResultsError with
    the command that regenerates it. A json without ``meta_sha256`` (written before it existed) is accepted:
    its provenance fields are not covered by a checksum."""
    d, npz, js = _paths(name, profile, out or RESULTS_DIR)
    regen = _regen(name, profile, out)
    if not js.exists() or not npz.exists():
        raise ResultsError(f"no stored results for {name!r} at profile {profile!r} ({npz}); {regen}")
    meta, blob = _read_pair(js, npz, regen)
    stored_runs = meta.get("runs")
    if not isinstance(stored_runs, dict) or not all(isinstance(v, dict) for v in stored_runs.values()):
        raise ResultsError(f"corrupt results metadata {js}: no valid 'runs' field; {regen}")
    if stored_runs != expected:
        diffs = _config_diff(stored_runs, expected)
        raise ResultsError(f"stored results for {name!r}/{profile!r} were made with a different configuration "
                           f"({'; '.join(diffs[:5])}); {regen}")
    if "meta_sha256" in meta and meta["meta_sha256"] != _meta_sha256(meta):
        raise ResultsError(f"corrupt results metadata {js}: its fields were edited after it was written "
                           f"(meta_sha256 does not match); {regen}")
    runs: dict = {}
    try:
        with np.load(io.BytesIO(blob)) as z:
            for key in z.files:
                run, k = key.split("/", 1)
                runs.setdefault(run, {})[k] = z[key]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ResultsError(f"corrupt results: cannot read {npz} ({type(e).__name__}: {e}); {regen}") from e
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
