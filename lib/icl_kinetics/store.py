"""The results store: ``<out>/<experiment>/<profile>.npz`` with ``<profile>.json`` beside it, and the work of
an experiment not yet stored, in the same folder (:func:`workdir`): its finished sub-runs (shards) and the
checkpoints of the sub-runs in training.

The json holds the full run configurations and the provenance (package version, git commit, device, torch
version, wall time, date), the checksum of the npz (``npz_sha256``) and the checksum of its own fields
(``meta_sha256``). :func:`load` checks that both files exist, are intact and were produced by the configuration
the caller expects; :func:`save` writes them atomically under a lock.
"""
from __future__ import annotations

import io
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import filelock
import numpy as np

from .errors import DamagedResultError, ResultsError  # noqa: F401  (re-exported: store.ResultsError)
from .files import LockTimeout, exclusive_lock, remove_stale_temporaries, sha256_bytes, write_files
from .config import RunConfig, expected_arrays

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = Path(os.environ.get("ICL_RESULTS") or REPO_ROOT / "results")  # ICL_RESULTS: build from another folder


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

    def single(self) -> tuple:
        """(config, arrays) of a result with exactly one sub-run (a ValueError names them otherwise)."""
        if len(self.runs) != 1:
            raise ValueError(f"{self.experiment}/{self.profile} has {len(self.runs)} sub-runs "
                             f"({', '.join(self.runs)}); name one")
        (name, arrays), = self.runs.items()
        return self.configs()[name], arrays


def result_paths(name, profile, out):
    d = Path(out) / name
    return d, d / f"{profile}.npz", d / f"{profile}.json"


def git_commit() -> str:
    """HEAD of the repository, with '+dirty' when library files differ from it."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10).stdout

    try:
        head = git("rev-parse", "HEAD").strip() or "unknown"
        return head + ("+dirty" if git("status", "--porcelain", "--", "lib").strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _meta_sha256(meta: dict) -> str:
    """Checksum of the json's fields (the provenance included), without the ``meta_sha256`` field itself.

    Computed on the canonical JSON text (sorted keys, no whitespace) of the JSON round trip, so that the value
    written by :func:`save` is the value :func:`load` recomputes from the file."""
    body = {k: v for k, v in json.loads(json.dumps(meta)).items() if k != "meta_sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return sha256_bytes(text.encode())


def _npz_bytes(arrays: dict, compressed: bool = False) -> bytes:
    buf = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buf, **arrays)
    return buf.getvalue()


def _lock_path(d: Path, profile: str) -> Path:
    """The lock of a result's writers (:func:`files.exclusive_lock`: removed when released)."""
    return d / f".{profile}.lock"


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
    ``<out>/<experiment>/.<profile>.lock`` (removed when released), so two processes saving the same result
    serialise and the stored json/npz pair always belongs together. A writer that has to wait, or that finds the
    result changed by another process since it called save, says so on stderr (the last writer's result is kept).
    Temporary files are removed on failure, and leftovers of a killed writer are removed by the next one. Files are
    written with mode 0666 minus the umask (0644 usually). The json carries ``npz_sha256`` (the npz's checksum) and
    ``meta_sha256`` (its own fields', the provenance included).
    """
    d, npz, js = result_paths(result.experiment, result.profile, out or RESULTS_DIR)
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from None
    arrays = {f"{run}/{k}": np.asarray(v) for run, vals in result.runs.items() for k, v in vals.items()}
    before = _state(js)

    def say_waiting():
        print(f"{js}: another process is writing this result; waiting for it to finish", file=sys.stderr)
    lock_path = _lock_path(d, result.profile)
    try:
        with exclusive_lock(lock_path, lock_timeout, say_waiting):
            if before != _state(js):
                other = stored_meta(result.experiment, result.profile, out) or {}
                print(f"{js}: another process stored this result while this one ran (date {other.get('date', '?')}, "
                      f"device {other.get('device', '?')}); replacing it with this run's result", file=sys.stderr)
            remove_stale_temporaries(d, result.profile)  # .<profile>.*.tmp of a killed writer (we hold the lock)
            blob = _npz_bytes(arrays, compressed=True)
            meta = {k: v for k, v in result.meta.items() if k != "meta_sha256"}
            meta["npz_sha256"] = sha256_bytes(blob)
            meta["meta_sha256"] = _meta_sha256(meta)
            write_files({npz: blob, js: json.dumps(meta, indent=1, sort_keys=True).encode("utf-8")})  # both or none
    except LockTimeout:
        raise ResultsError(f"{js}: gave up after {lock_timeout:.0f} s waiting for another process writing "
                           f"this result (lock {lock_path})") from None
    except ResultsError:
        raise
    except OSError as e:  # the lock file cannot be made (write_files' own errors are ResultsError already)
        raise ResultsError(f"cannot write results to {d}: {e.strerror or e}") from e
    return js


def stored_meta(name: str, profile: str, out=None) -> dict | None:
    """The metadata of stored results (without checking them), or None when there are none or it is unreadable."""
    js = result_paths(name, profile, out or RESULTS_DIR)[2]
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # ValueError: not JSON, not UTF-8
        return None
    return meta if isinstance(meta, dict) else None


def _command(name: str, profile: str, out) -> str:
    cmd = f"python -m icl_kinetics run {shlex.quote(name)} --profile {shlex.quote(profile)}"
    if out is not None and Path(out).resolve() != Path(RESULTS_DIR).resolve():
        cmd += f" --out {shlex.quote(str(out))}"
    return cmd


def _regen(name: str, profile: str, out, retrain: bool = False) -> str:
    """How to (re)generate a result: the run command, with --retrain when a stored result would be replaced."""
    return f"regenerate with: {_command(name, profile, out)}" + (" --retrain" if retrain else "")


def restore_hint(name: str, profile: str, out) -> str:
    """How to get a damaged stored result back: from git when it is committed, else by training it again."""
    _, npz, js = result_paths(name, profile, out or RESULTS_DIR)
    return (f"restore it with `git checkout -- {shlex.quote(str(npz))} {shlex.quote(str(js))}` if it is "
            f"committed, or train it again with `{_command(name, profile, out)} --retrain`")


def _read_pair(js: Path, npz: Path, restore: str, attempts: int = 3):
    """(meta, npz bytes) read consistently: a writer renames the npz then the json into place, so a reader can
    see the old json with the new npz for a moment; a checksum mismatch is retried before it counts. Anything
    unusable is a DamagedResultError ending with `restore` (how to restore it)."""
    for attempt in range(attempts):
        try:
            text = js.read_bytes()
            blob = npz.read_bytes()
        except OSError as e:
            raise DamagedResultError(f"cannot read stored results {js.parent}: {e.strerror or e}; {restore}") from e
        try:
            meta = json.loads(text.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise DamagedResultError(f"corrupt results metadata {js}: not UTF-8 text ({e.reason}); {restore}") from e
        except json.JSONDecodeError as e:
            raise DamagedResultError(f"corrupt results metadata {js}: {e}; {restore}") from e
        if not isinstance(meta, dict):
            raise DamagedResultError(f"corrupt results metadata {js}: expected a JSON object, found "
                                     f"{type(meta).__name__}; {restore}")
        if meta.get("npz_sha256") == sha256_bytes(blob):
            return meta, blob
        if attempt + 1 < attempts:
            time.sleep(0.1)
    raise DamagedResultError(f"corrupt results: {npz} does not match the checksum in {js}; {restore}")


def load(name: str, profile: str, expected: dict, out=None) -> Result:
    """Load stored results, checking they exist, are intact and match `expected` ({run name: config dict}).

    Every way a stored result can be unusable raises ResultsError: missing (with the command that generates
    it); made by a different configuration (with the command that trains it again); and, as DamagedResultError,
    damaged (unreadable, not JSON, not UTF-8, the checksum of the npz or of the json's own fields failing, an
    unreadable npz, a json whose npz is missing), with how to restore it. A json without ``meta_sha256``
    (written before it existed) is accepted: its provenance fields are not covered by a checksum. An npz
    without its json (a first writer killed between its two renames) is not stored."""
    d, npz, js = result_paths(name, profile, out or RESULTS_DIR)
    restore = restore_hint(name, profile, out)
    if not js.exists():
        raise ResultsError(f"no stored results for {name!r} at profile {profile!r} ({npz}); "
                           f"{_regen(name, profile, out)}")
    if not npz.exists():
        raise DamagedResultError(f"no stored results for {name!r} at profile {profile!r}: {npz} is missing beside "
                                 f"{js}; {restore}")
    meta, blob = _read_pair(js, npz, restore)
    stored_runs = meta.get("runs")
    if not isinstance(stored_runs, dict) or not all(isinstance(v, dict) for v in stored_runs.values()):
        raise DamagedResultError(f"corrupt results metadata {js}: no valid 'runs' field; {restore}")
    if stored_runs != expected:
        diffs = _config_diff(stored_runs, expected)
        raise ResultsError(f"stored results for {name!r}/{profile!r} were made with a different configuration "
                           f"({'; '.join(diffs[:5])}); {_regen(name, profile, out, retrain=True)}")
    if "meta_sha256" in meta and meta["meta_sha256"] != _meta_sha256(meta):
        raise DamagedResultError(f"corrupt results metadata {js}: its fields were edited after it was written "
                                 f"(meta_sha256 does not match); {restore}")
    runs: dict = {}
    try:
        with np.load(io.BytesIO(blob)) as z:
            for key in z.files:
                run, k = key.split("/", 1)
                runs.setdefault(run, {})[k] = z[key]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise DamagedResultError(f"corrupt results: cannot read {npz} ({type(e).__name__}: {e}); {restore}") from e
    return Result(name, profile, meta, runs)


# ----------------------------------------------------------------------------- work of unfinished experiments
@dataclass(frozen=True)
class WorkDir:
    """Where an experiment not yet stored keeps its work, beside its result in ``<out>/<experiment>/``, so that
    every results folder (``--out``) has its own:

    * ``shards``: finished sub-runs, ``<sub-run>.npz`` + ``.json`` (config, provenance, checksums); small
      records, committed with ``results/`` so that the next sitting, on any machine, continues from them;
    * ``checkpoints``: the sub-runs in training (:mod:`icl_kinetics.checkpoint`) and their locks; git-ignored;
    * ``jobs``: submitit's logs and pickles; git-ignored.
    """
    shards: Path
    checkpoints: Path
    jobs: Path
    profile: str = ""
    out: object = None  # the results folder (None: results/)

    def checkpoint(self, run_name: str) -> Path:
        return self.checkpoints / run_name

    def lock(self, run_name: str) -> filelock.FileLock:
        """Held while a process trains `run_name`; a second process training the same sub-run waits."""
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(self.checkpoints / f".{run_name}.lock"))


def workdir(name: str, profile: str, out=None) -> WorkDir:
    d = Path(out or RESULTS_DIR) / name
    return WorkDir(d / f"{profile}.shards", d / f"{profile}.ckpt", d / f"{profile}.submitit", profile, out)


def _shard_paths(wd: WorkDir, run_name: str) -> tuple[Path, Path]:
    return wd.shards / f"{run_name}.npz", wd.shards / f"{run_name}.json"


def save_shard(wd: WorkDir, run_name: str, config: dict, arrays: dict, provenance: dict) -> None:
    """Store a finished sub-run: its arrays, and a json with its config, provenance and both checksums."""
    npz, js = _shard_paths(wd, run_name)
    blob = _npz_bytes({k: np.asarray(v) for k, v in arrays.items()})
    meta = dict(provenance, config=config, npz_sha256=sha256_bytes(blob))
    meta["meta_sha256"] = _meta_sha256(meta)
    write_files({npz: blob, js: json.dumps(meta, indent=1, sort_keys=True).encode("utf-8")})  # npz renamed first


def load_shard(wd: WorkDir, run_name: str, config: dict) -> tuple[dict, dict] | None:
    """(arrays, provenance) of the finished sub-run `run_name` made with `config`, or None when there is none.

    An npz without its json is a writer killed between the two writes: not finished (None). Everything else
    that is not a sound shard of exactly `config` raises one ResultsError line saying how to discard it; a
    damaged or foreign shard is never used."""
    npz, js = _shard_paths(wd, run_name)
    if not js.exists():
        return None
    discard = f"delete {js} and {npz.name} (rm -r if it is a folder) to train that sub-run again"
    for path in (js, npz):
        try:
            if path is js:
                meta = json.loads(js.read_text(encoding="utf-8"))
            else:
                blob = npz.read_bytes()
        except (OSError, ValueError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            raise ResultsError(f"finished sub-run {path} is unreadable ({why}); {discard}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("config"), dict):
        raise ResultsError(f"finished sub-run {js} is corrupt (not a sub-run record); {discard}")
    if meta.get("meta_sha256") != _meta_sha256(meta) or meta.get("npz_sha256") != sha256_bytes(blob):
        raise ResultsError(f"finished sub-run {js} is corrupt (a checksum does not match); {discard}")
    if meta["config"] != config:
        diffs = _config_diff({run_name: meta["config"]}, {run_name: config})
        raise ResultsError(f"finished sub-run {js} was made with a different configuration "
                           f"({'; '.join(diffs[:6])}); {discard}")
    try:
        with np.load(io.BytesIO(blob)) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ResultsError(f"finished sub-run {npz} is unreadable ({type(e).__name__}); {discard}") from None
    problems = shard_problems(arrays, meta.get("wall_s"), RunConfig.from_dict(config))
    if problems:
        raise ResultsError(f"finished sub-run {npz} does not hold what its config implies ({'; '.join(problems[:4])}"
                           f"{'; ...' if len(problems) > 4 else ''}); {discard}")
    return arrays, {k: v for k, v in meta.items() if k not in ("config", "npz_sha256", "meta_sha256")}


def shard_problems(arrays: dict, wall_s, cfg: RunConfig) -> list[str]:
    """What is wrong with a finished sub-run's arrays and wall time against its config (empty when nothing): every
    array of :func:`config.expected_arrays` present with its shape, no other, and a finite wall time >= 0 (an
    older code version's shard, or an edited one, whose checksums were made to match)."""
    expected = expected_arrays(cfg)
    problems = [f"{k} missing" for k in expected if k not in arrays]
    problems += [f"{k} has shape {tuple(np.shape(arrays[k]))}, not {shape}" for k, shape in expected.items()
                 if k in arrays and tuple(np.shape(arrays[k])) != shape]
    problems += [f"unexpected array {k}" for k in arrays if k not in expected]
    if isinstance(wall_s, bool) or not isinstance(wall_s, (int, float)) or not math.isfinite(wall_s) or wall_s < 0:
        problems.append(f"wall_s {wall_s!r} is not a finite number of seconds")
    return problems


def remove_work(wd: WorkDir) -> None:
    """Remove the shards and checkpoints of an experiment once its result is stored (job logs are kept)."""
    for d in (wd.shards, wd.checkpoints):
        shutil.rmtree(d, ignore_errors=True)


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
