"""Running, storing and loading the experiments of :mod:`icl_kinetics.catalog` (re-exported here: the registry,
the profiles and `get`): `run` trains the sub-runs of an experiment at a profile, one verified shard each, and
stores the merged result; `load_or_run`, `load`, `load_optional` read it back (never training under
``ICL_NO_TRAIN``); `progress` says where an unfinished experiment stands.

Results live in ``results/<experiment>/<profile>.npz`` with ``<profile>.json`` beside it (full configs,
package version, git commit, device, torch version, wall time, date, checksum of the npz).
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from dataclasses import dataclass

import filelock
import torch

from . import __version__
from . import store as _store
from . import checkpoint
from .store import (  # noqa: F401 (stored_meta, DamagedResultError: re-exported)
    RESULTS_DIR, DamagedResultError, Result, ResultsError, git_commit, result_paths, save, stored_meta)
from .catalog import (  # noqa: F401 (re-exported: the registry and the profiles)
    BASE_PROFILES, CPU, DEFAULT_PROFILE, EPOCH, NET_EPOCH, PAPER, PAPER_NET, PROFILES, REGISTRY, SMOKE,
    Experiment, context_lengths, even, get, grid, register, resolve_profile)
from .config import RunConfig, expected_arrays, with_overrides  # noqa: F401 (re-exported)
from .train import TimeLimitReached, pick_device, train


# ----------------------------------------------------------------------------- results
def configs(name: str, profile: str | None = None, overrides: dict | None = None) -> dict:
    """{sub-run: RunConfig} of experiment `name` at `profile`, with `overrides` ({field: value}, what ``run --set``
    changes; :func:`config.parse_overrides` reads them from ``key=value`` texts) applied to every sub-run. A
    ValueError of one line when a changed sub-run is not a valid run."""
    exp = get(name)
    profile = resolve_profile(profile)
    runs = exp.runs(profile)
    if not overrides:
        return runs
    return {k: with_overrides(c, overrides, f"sub-run {k} of {name} at profile {profile}") for k, c in runs.items()}


def load(name: str, profile: str | None = None, out=None, overrides: dict | None = None) -> Result:
    """Load stored results, checking they exist, are intact and match the experiment's current config (with
    `overrides` applied: a result stored by ``run --set``)."""
    profile = resolve_profile(profile)
    expected = {k: v.to_dict() for k, v in configs(name, profile, overrides).items()}
    return _store.load(name, profile, expected, out)


def stored_result(name: str, profile: str | None = None, out=None, overrides: dict | None = None) -> Result | None:
    """The stored result of `name` at `profile`, checked as :func:`load` checks it: None when none is stored (no
    json; an npz alone is a first writer killed before its json), the Result when it loads and matches the code,
    else ResultsError: a DamagedResultError naming the file and how to restore it, or a different configuration
    with the command that trains it again. Never trains."""
    profile = resolve_profile(profile)
    if not result_paths(name, profile, out or RESULTS_DIR)[2].exists():
        return None
    return load(name, profile, out, overrides)


def already_stored(result: Result, out=None) -> str:
    """The one line `run` says when it trains nothing because `result` is stored and matches the code."""
    npz = result_paths(result.experiment, result.profile, out or RESULTS_DIR)[1]
    wd = _store.workdir(result.experiment, result.profile, out)
    unfinished = wd.shards.exists() or wd.checkpoints.exists()
    return (f"{result.experiment}/{result.profile}: already stored in {npz} (date {result.meta.get('date', '?')}) "
            "and made by the current configuration; nothing trained ("
            + ("an unfinished retrain's work is beside it: --retrain continues it" if unfinished else
               "--retrain trains it again") + ")")


def run(name: str, profile: str | None = None, device: str | None = None, out=None,
        progress: bool = True, only=None, time_limit: float | None = None,
        checkpoint_every: float = 300.0, retrain: bool = False, overrides: dict | None = None) -> Result | None:
    """Train every run of an experiment at a profile and store the results.

    A result already stored is never trained over unless ``retrain``: when it matches the code, `run` says so in
    one line and returns it; when it is damaged or was made by another configuration, ResultsError (how to
    restore it, or the command with --retrain). A retrain replaces the stored result only once the new one is
    complete (its work goes to the shards and checkpoints beside it; an interrupted retrain leaves it intact).

    Resumable at two levels, in the experiment's work folder beside its result (:func:`store.workdir`): each
    finished sub-run is saved at once as a shard and reused by the same command, and a sub-run in training
    checkpoints every ``checkpoint_every`` seconds (:mod:`icl_kinetics.checkpoint`) and resumes from there.
    ``time_limit`` (minutes): stop cleanly, with a checkpoint, once this much time has passed; every call
    trains at least one step, so repeating the command always gets further. ``only``: train just these
    sub-runs (shards that separate processes can train side by side). Two processes never train the same
    sub-run at once (the second waits, then reuses it). The result is stored, and returned, only when every
    sub-run is finished, else None.

    ``overrides`` ({field: value}): changed settings for every sub-run (``run --set``, into a results folder of
    its own); the stored json records them under ``overrides`` and the changed configs under ``runs``, and
    :func:`load` with the same overrides reads the result back.
    """
    exp = get(name)
    profile = resolve_profile(profile)
    subruns = configs(name, profile, overrides)  # validated on construction: an impossible config fails first
    dev = pick_device(device)
    if not retrain:
        stored = stored_result(name, profile, out, overrides)
        if stored is not None:
            print(already_stored(stored, out))
            return stored
    before = _stored_id(name, profile, out)  # a retrain's stored result, told apart from one stored meanwhile
    commit = git_commit()  # the code that trains, not whatever HEAD is when training ends
    if profile == "paper" and dev.type == "cpu":
        print(f"warning: the paper profile of {name!r} is sized for a GPU; on this CPU it will take very long")
    wd = _store.workdir(name, profile, out)
    t0 = time.time()
    deadline = None if time_limit is None else time.monotonic() + 60.0 * time_limit
    runs, prov, trained = {}, {}, False  # arrays and provenance (wall_s, git_commit, device, ...) per sub-run
    for i, (run_name, cfg) in enumerate(subruns.items()):
        done = _store.load_shard(wd, run_name, cfg.to_dict())
        if done is None and only is not None and run_name not in only:
            continue  # another shard's job
        if done is None and trained and deadline is not None and time.monotonic() >= deadline:
            print(f"{name}: time limit reached before {run_name}; run the same command to continue")
            return None
        if done is None:
            try:
                done = _train_shard(wd, name, run_name, cfg, dev, commit, progress, checkpoint_every, deadline,
                                    f"{name}/{run_name} [{i + 1}/{len(subruns)}]", before)
            except _StoredMeanwhile:
                return _stored_by_another(name, profile, out, before, overrides)
            if done is None:
                return None  # time limit
            trained = True
        else:
            print(f"{name}/{run_name}: reusing the finished sub-run in {wd.shards}")
        runs[run_name], prov[run_name] = done
    for run_name, cfg in subruns.items():  # sub-runs that other shards finished while this one trained
        if run_name not in runs:
            done = _store.load_shard(wd, run_name, cfg.to_dict())
            if done is not None:
                runs[run_name], prov[run_name] = done
    if len(runs) < len(subruns):
        return _stored_by_another(name, profile, out, before, overrides)
    runs = {k: runs[k] for k in subruns}
    walls = {k: float(prov[k]["wall_s"]) for k in subruns}
    meta = {
        "experiment": name, "profile": profile, "description": exp.description, "chapter": exp.chapter,
        "runs": {k: v.to_dict() for k, v in subruns.items()},
        "package_version": __version__, "git_commit": commit, "run_git_commit": {k: prov[k]["git_commit"] for k in subruns},
        "device": _device_name(dev), "run_device": {k: prov[k].get("device", "unknown") for k in subruns},
        "run_torch_version": {k: prov[k].get("torch_version", "unknown") for k in subruns},  # older shards: unknown
        "run_date": {k: prov[k].get("date", "unknown") for k in subruns},
        "cpu": platform.processor() or platform.machine(), "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__, "wall_time_s": sum(walls.values()), "run_wall_time_s": walls,
        "session_wall_time_s": time.time() - t0,
        "date": _utc_now(),
    }
    if overrides:
        meta["overrides"] = {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()}
    result = Result(name, profile, meta, runs)
    save(result, out)
    _store.remove_work(wd)
    return result


def _utc_now() -> str:
    """The time now, UTC, ISO 8601 to the second (a result's and a shard's date)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _train_shard(wd, name, run_name, cfg, dev, commit, progress, checkpoint_every, deadline, desc, before=None):
    """Train one sub-run under its lock and save it as a shard: (arrays, provenance), or None at the time
    limit. A process that finds the sub-run being trained by another waits for it, then reuses its shard.
    ``before``: :func:`_stored_id` when the run began (a retrain's old result is not one stored meanwhile)."""
    lock = _acquire(wd, name, run_name)
    try:
        done = _store.load_shard(wd, run_name, cfg.to_dict())  # finished by the process we waited for
        if done is not None:
            print(f"{name}/{run_name}: finished by another process; reusing it")
            return done
        if lock.waited and _stored_id(name, wd.profile, wd.out) not in (None, before):
            raise _StoredMeanwhile  # the process we waited for finished, merged and stored everything
        try:
            arrays = train(cfg, device=dev, progress=progress, checkpoint=wd.checkpoint(run_name),
                           checkpoint_every=checkpoint_every, deadline=deadline, desc=desc)
        except TimeLimitReached as e:
            print(f"{name}/{run_name}: time limit reached, {e}; run the same command to continue")
            return None
        prov = {"wall_s": float(arrays.pop("wall_s")), "git_commit": commit, "device": _device_name(dev),
                "torch_version": torch.__version__, "date": _utc_now()}
        _store.save_shard(wd, run_name, cfg.to_dict(), arrays, prov)
        checkpoint.remove(wd.checkpoint(run_name))
        return arrays, prov
    finally:
        lock.release()


class _StoredMeanwhile(Exception):
    """Raised inside `run` when the experiment was stored by another process while this one waited."""


def _acquire(wd, name: str, run_name: str):
    """The lock of sub-run `run_name`, waiting (and saying so) while another process holds it. The other
    process may finish the whole experiment meanwhile and remove the work folder with the lock file in it:
    the lock is then made again. The returned lock's ``waited`` says whether this process had to wait."""
    lock, waited = wd.lock(run_name), False
    while True:
        try:
            lock.acquire(timeout=0 if not waited else -1)
            lock.waited = waited
            return lock
        except filelock.Timeout:
            print(f"{name}/{run_name}: another process is training this sub-run; waiting for it to finish",
                  flush=True)
            waited = True
        except FileNotFoundError:  # the folder of the lock file was removed by a finished merge
            lock, waited = wd.lock(run_name), True


def _stored_id(name: str, profile: str, out):
    """What identifies the result stored now (date, checksum), None when there is none."""
    meta = stored_meta(name, profile, out)
    return None if meta is None else (meta.get("date"), meta.get("meta_sha256"))


def _stored_by_another(name: str, profile: str, out, before=None, overrides=None) -> Result | None:
    """The stored result when another process merged and stored every sub-run while this one trained, else
    None (some sub-runs are still to be trained, or the stored result is still the one there before, `before`:
    :func:`_stored_id` when this run began)."""
    if _stored_id(name, profile, out) in (None, before):
        return None
    try:
        result = load(name, profile, out, overrides)
    except ResultsError:
        return None
    print(f"{name}/{profile}: every sub-run was finished and stored by another process (date "
          f"{result.meta.get('date', '?')})")
    return result


def _device_name(dev: torch.device) -> str:
    return str(dev) if dev.type != "cuda" else f"{dev} ({torch.cuda.get_device_name(dev)})"


def load_or_run(name: str, profile: str | None = None, out=None, device=None) -> Result:
    """What notebooks call: the stored results when they exist and match, else train and store them.

    A mismatching or corrupt store is never retrained at the cpu or paper profile: the error says how to
    restore or regenerate it. At the smoke profile (seconds to train, what the tests run) it is trained again,
    with one line saying why. Missing results are trained, unless the environment variable ``ICL_NO_TRAIN`` is
    set (``make book`` sets it), which turns a missing result into an error.
    """
    profile = resolve_profile(profile)
    d, npz, js = result_paths(name, profile, out or RESULTS_DIR)
    if no_train() and profile != "smoke" and not (js.exists() and npz.exists()):
        raise ResultsError(f"no stored results for {name!r} at profile {profile!r} and ICL_NO_TRAIN is set; "
                           f"regenerate with: python -m icl_kinetics run {name} --profile {profile}")
    retrain = False
    if js.exists() or npz.exists():
        try:
            return load(name, profile, out)
        except ResultsError as e:
            if profile != "smoke":
                raise
            print(f"{name}/{profile}: the stored result is unusable, training it again (smoke profile): "
                  f"{' '.join(str(e).split(';')[0].split())}")
            retrain = True
    return run(name, profile, device=device, out=out, progress=profile != "smoke", retrain=retrain)


def no_train() -> bool:
    """Whether the environment variable ``ICL_NO_TRAIN`` is set to a true value (unset, empty, 0, false, no
    and off are false)."""
    return os.environ.get("ICL_NO_TRAIN", "").strip().lower() not in ("", "0", "false", "no", "off")


def load_optional(name: str, profile: str | None = None, out=None) -> Result | None:
    """Stored results of another experiment that a page can do without (a reference curve, an illustration):
    the Result, or None when it is not stored or was made by another configuration. A damaged one is not "not
    stored": DamagedResultError, naming the file and how to restore it. Never trains."""
    try:
        return load(name, profile, out)
    except DamagedResultError:
        raise
    except ResultsError:
        return None


def finished_shards(name: str, profile: str, out=None) -> dict:
    """{sub-run: arrays} of the verified finished shards of an experiment not yet stored (the work committed
    across sittings); a damaged shard raises ResultsError. Never trains."""
    wd = _store.workdir(name, profile, out)
    shards = {}
    for run_name, cfg in get(name).runs(profile).items():
        done = _store.load_shard(wd, run_name, cfg.to_dict())
        if done is not None:
            shards[run_name] = done[0]
    return shards


@dataclass(frozen=True)
class Progress:
    """Where an experiment stands at a profile, every part verified as `load` verifies it.

    ``stored``: a result that loads (checksums and config match); ``done``/``total``: steps, summed over the
    sub-runs (a stored result or a sound finished sub-run counts in full, a sub-run in training by its
    verified checkpoint); ``problems``: one line per file that exists but cannot be used."""
    stored: bool
    done: int
    total: int
    problems: tuple = ()


def progress(name: str, profile: str, out=None, overrides: dict | None = None) -> Progress:
    subruns = configs(name, profile, overrides)
    total = sum(c.steps for c in subruns.values())
    problems = []
    if any(p.exists() for p in result_paths(name, profile, out or RESULTS_DIR)[1:]):  # npz or json
        try:
            load(name, profile, out, overrides)
            return Progress(True, total, total)
        except ResultsError as e:
            problems.append(str(e))
    wd, done = _store.workdir(name, profile, out), 0
    for run_name, cfg in subruns.items():
        try:
            shard = _store.load_shard(wd, run_name, cfg.to_dict())
        except ResultsError as e:
            shard = None
            problems.append(str(e))
        if shard is not None:
            done += cfg.steps
        else:
            p = checkpoint.progress(wd.checkpoint(run_name))
            done += min(p["step"], cfg.steps) if p else 0
    return Progress(False, done, total, tuple(problems))
