"""Shards of an experiment through submitit: parallel local processes or a SLURM job array.

A shard is one sub-run of an experiment (one :class:`~icl_kinetics.train.RunConfig`: a value of N, a kind of
context, ...). Every shard is ``experiments.run(name, profile, only=[sub-run])``: it checkpoints while it
trains, saves its finished arrays in ``<out>/<experiment>/<profile>.shards/``, and the shard that finishes last
merges all of them into the one stored result (with each shard's commit, device and wall time).

* ``local``: submitit's ``LocalExecutor``, at most one process per core at a time; waits for the shards and
  returns the stored result. submitit's job processes write to their logs, never to the terminal, so a Ctrl-C
  is the command's one line, not their tracebacks.
* ``slurm``: submitit's ``SlurmExecutor`` submits one job array and returns at once. On preemption or timeout
  SLURM signals the job (USR2, ``signal_delay_s`` before the kill); submitit then calls
  :meth:`ShardJob.checkpoint`, which requeues the same call, and the requeued shard resumes from its last
  checkpoint (at most ``checkpoint_every`` seconds of work are lost).

Jobs' logs and pickles live in ``<out>/<experiment>/<profile>.submitit/`` (:func:`store.workdir`). When every
shard is already finished, any executor merges and stores the result at once, without submitting anything.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from pathlib import Path

import torch

try:
    import submitit
    Checkpointable = submitit.helpers.Checkpointable
except ImportError:  # a machine without submitit (the GPU campaign's): `run` works, --executor does not
    submitit, Checkpointable = None, object

from . import experiments, store
from .errors import ShardError

EXECUTORS = ("local", "slurm")


class ShardJob(Checkpointable):
    """One shard, callable in a submitit job; ``checkpoint`` (inherited) resubmits the same arguments."""

    def __call__(self, name: str, profile: str, run_name: str, out, device, checkpoint_every: float,
                 threads: int, retrain: bool = False, overrides: dict | None = None) -> str:
        torch.set_num_threads(threads)
        experiments.run(name, profile, device=device, out=out, progress=False, only=[run_name],
                        checkpoint_every=checkpoint_every, retrain=retrain, overrides=overrides)
        return run_name


def folder(name: str, profile: str, out=None) -> Path:
    """submitit's logs and pickles: beside the shards, kept when the merge removes them."""
    return store.workdir(name, profile, out).jobs


def check_slurm() -> None:
    """ValueError unless SLURM's commands are on this machine (what submitit's SLURM executor calls)."""
    if shutil.which("srun") is None:
        raise ValueError("--executor slurm: SLURM is not installed here (no srun on PATH); run on a SLURM "
                         "login node, or use --executor local")


def make_executor(kind: str, log_folder: Path, timeout_min: int = 24 * 60, partition: str | None = None,
                  gpus: int = 0, cpus: int = 1, n_shards: int = 1):
    """A configured submitit executor. ValueError for an unknown kind or a SLURM call without a partition."""
    if submitit is None:
        raise ValueError(f"--executor {kind}: submitit is not installed here; pip install submitit, or run the "
                         "sub-runs one by one with --only")
    if kind == "local":
        ex = submitit.LocalExecutor(folder=log_folder)
        ex.update_parameters(timeout_min=timeout_min, gpus_per_node=gpus)
        return ex
    if kind == "slurm":
        if not partition:
            raise ValueError("--executor slurm needs --partition NAME (the SLURM partition to submit to)")
        check_slurm()
        ex = submitit.SlurmExecutor(folder=log_folder)
        ex.update_parameters(partition=partition, time=timeout_min, cpus_per_task=cpus, ntasks_per_node=1,
                             gpus_per_node=gpus or None, signal_delay_s=120, array_parallelism=n_shards,
                             job_name="icl_kinetics")
        return ex
    raise ValueError(f"unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}")


def pending(name: str, profile: str, out=None, overrides: dict | None = None) -> list[str]:
    """The sub-runs of an experiment without a finished shard (like `run`, an executor trains every sub-run
    again once the experiment is stored and its shards cleaned up). A damaged shard: ResultsError."""
    wd = store.workdir(name, profile, out)
    return [r for r, cfg in experiments.configs(name, profile, overrides).items()
            if store.load_shard(wd, r, cfg.to_dict()) is None]


def submit(name: str, profile: str, kind: str = "local", out=None, device=None, partition: str | None = None,
           gpus: int = 0, timeout_min: int = 24 * 60, checkpoint_every: float = 300.0,
           max_parallel: int | None = None, retrain: bool = False, overrides: dict | None = None):
    """Run the unfinished shards of an experiment through a submitit executor (``retrain``: as `run`'s, for a
    stored experiment; the stored result is replaced once the last shard merges).

    local: runs at most `max_parallel` (default: one per core) shard processes at a time, waits, and returns
    the stored result (a failed or killed job is a ShardError naming it and its log). slurm: returns the
    submitted jobs (the last shard to finish stores the result). ``overrides``: as `run`'s (``run --set``).
    """
    profile = experiments.resolve_profile(profile)
    todo = pending(name, profile, out, overrides)
    if not todo:  # every shard finished (the merge may have failed, e.g. on a full disk): merge here
        return experiments.run(name, profile, device=device, out=out, progress=False, retrain=retrain,
                               overrides=overrides)
    threads = 1 if device in (None, "cpu") else torch.get_num_threads()
    jobs = folder(name, profile, out)
    ex = make_executor(kind, jobs, timeout_min, partition, gpus, threads, len(todo))
    args = [(name, profile, r, None if out is None else str(out), device, checkpoint_every, threads, retrain,
             overrides) for r in todo]
    if kind == "slurm":
        return ex.map_array(ShardJob(), *zip(*args))
    width = max_parallel or os.cpu_count() or 1
    queue, running, shard_of = list(args), [], {}
    while queue or running:  # at most `width` shard processes at a time
        while queue and len(running) < width:
            a = queue.pop(0)
            with _output_to(jobs / "controller.log"):  # submitit's job controller inherits this output
                running.append(ex.submit(ShardJob(), *a))
            shard_of[running[-1].job_id] = a[2]
        time.sleep(0.2)
        for job in [j for j in running if j.done()]:
            running.remove(job)
            try:
                job.result()
            except (submitit.core.utils.FailedJobError, submitit.core.utils.UncompletedJobError) as e:
                for other in running:
                    other.cancel()
                lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
                cause = next((ln for ln in reversed(lines) if "Error" in ln or "error" in ln or "Interrupt" in ln),
                             lines[-1] if lines else "")
                raise ShardError(f"shard {shard_of[job.job_id]} of {name}/{profile} failed: {cause[:300]}; "
                                 f"its log: {job.paths.stderr}") from None
    return experiments.load(name, profile, out, overrides)


@contextlib.contextmanager
def _output_to(log: Path):
    """Processes started in the block write their stdout and stderr to `log` (appended), not to this process's:
    submitit's local job controller prints a traceback when a Ctrl-C reaches it, and the command's own output
    is one line. This process's output is back when the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)
