"""Checkpoints inside a run (issue 12): an interrupted run resumes to arrays bit-identical to an uninterrupted one."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from icl_kinetics import checkpoint, store
from icl_kinetics.store import ResultsError
from icl_kinetics.train import RunConfig, TimeLimitReached, train

# Small enough for seconds, large enough that members reach the early stop at different evaluations, so that
# resumes happen before and after the ensemble is compacted (4 of 6 stopped at step ~260 in a trial run).
CFG = dict(model="transformer1", D=8, N=4, width=16, lr=0.1, batch=32, Ks=(None, 64, None, None, 64, None),
           seeds=tuple(range(6)), wd_attn=(0.0, 0.0, 0.0, 0.01, 0.0, 0.0), steps=400, eval_every=20, n_eval=64,
           early_stop=0.8)


def _same(a: dict, b: dict):
    assert set(a) - {"wall_s"} == set(b) - {"wall_s"}
    for k in a:
        if k != "wall_s":
            assert np.array_equal(a[k], b[k], equal_nan=True), k


pytestmark = pytest.mark.usefixtures("one_thread")


def test_resume_after_every_step_is_bit_identical(tmp_path):
    cfg = RunConfig(**CFG)
    ref = train(cfg, progress=False)
    assert len(np.unique(ref["stopped_at"])) > 1 and ref["stopped_at"].min() < cfg.steps  # compaction happens
    pieces = 0
    while True:  # a deadline in the past: every call trains one step, checkpoints and stops
        try:
            out = train(cfg, progress=False, checkpoint=tmp_path / "run", deadline=0.0)
            break
        except TimeLimitReached:
            pieces += 1
    assert pieces >= ref["stopped_at"].max() - 1
    _same(ref, out)
    assert checkpoint.progress(tmp_path / "run")["step"] == pieces  # the last checkpoint is left to the caller


def test_resume_refuses_a_checkpoint_of_another_config(tmp_path):
    cfg = RunConfig(**CFG)
    with pytest.raises(TimeLimitReached):
        train(cfg, progress=False, checkpoint=tmp_path / "run", deadline=0.0)
    other = RunConfig(**dict(CFG, lr=0.2))
    with pytest.raises(ResultsError, match="different configuration.*lr: checkpoint 0.1 != current 0.2"):
        train(other, progress=False, checkpoint=tmp_path / "run")


def test_resume_refuses_a_corrupt_checkpoint(tmp_path):
    cfg = RunConfig(**CFG)
    with pytest.raises(TimeLimitReached):
        train(cfg, progress=False, checkpoint=tmp_path / "run", deadline=0.0)
    pt, _ = checkpoint.paths(tmp_path / "run")
    pt.write_bytes(pt.read_bytes()[:100])
    with pytest.raises(ResultsError, match="corrupt.*delete"):
        train(cfg, progress=False, checkpoint=tmp_path / "run")


# The same run through the command line, in a subprocess that registers a test experiment of the size above.
# Two hooks make it decide by what the test controls, never by the machine's speed: KILL_AFTER_STEP kills the
# process (SIGKILL) right after a checkpoint at or past that step has landed; FAKE_CLOCK makes time.monotonic
# advance by that many seconds per call, so a --time-limit slice is a fixed amount of work.
SCRIPT = """
import os, signal, sys, time, torch
from icl_kinetics import checkpoint, experiments, __main__
from icl_kinetics.train import RunConfig
torch.set_num_threads(1)
CFG = {cfg!r}
if os.environ.get("KILL_AFTER_STEP"):
    real_save = checkpoint.save
    def save_then_die(stem, config, state, step, steps, wall_s):
        real_save(stem, config, state, step, steps, wall_s)
        if stem.name == "b" and step >= int(os.environ["KILL_AFTER_STEP"]):
            os.kill(os.getpid(), signal.SIGKILL)
    checkpoint.save = save_then_die
if os.environ.get("FAKE_CLOCK"):
    clock = [0.0]
    def fake_monotonic():
        clock[0] += float(os.environ["FAKE_CLOCK"])
        return clock[0]
    time.monotonic = fake_monotonic
experiments.register("resume_test", "test", "none")(lambda profile: {{
    "a": RunConfig(**dict(CFG, steps=CFG["steps"] // 4)), "b": RunConfig(**CFG)}})
sys.exit(__main__.main(sys.argv[1:]))
"""


def _cli(tmp_path, *args, **env):
    script = tmp_path / "cli.py"
    script.write_text(SCRIPT.format(cfg=CFG))
    env = dict(os.environ, OMP_NUM_THREADS="1", **env)
    cmd = [sys.executable, str(script), "run", "resume_test", "--profile", "smoke", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def _arrays(out: Path) -> dict:
    with np.load(out / "resume_test" / "smoke.npz") as z:
        return {k: z[k] for k in z.files}


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    ref = _cli(tmp_path, "--out", str(tmp_path / "ref"))
    assert ref.returncode == 0, ref.stdout + ref.stderr
    out = tmp_path / "killed"
    wd = store.workdir("resume_test", "smoke", out)
    killed = _cli(tmp_path, "--out", str(out), "--checkpoint-every", "0", KILL_AFTER_STEP="100")
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert checkpoint.progress(wd.checkpoint("b"))["step"] >= 100
    assert (wd.shards / "a.npz").exists()  # the finished sub-run is kept
    assert not (out / "resume_test" / "smoke.npz").exists()
    again = _cli(tmp_path, "--out", str(out))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reusing the finished sub-run" in again.stdout
    _same(_arrays(tmp_path / "ref"), _arrays(out))
    assert not wd.shards.exists() and not wd.checkpoints.exists()  # checkpoints and shards cleaned up


def test_resume_after_time_limit_slices(tmp_path):
    """--time-limit stops cleanly (exit 0, a checkpoint, progress printed); repeating the command finishes. The
    clock is fake (0.005 s per reading), so each 0.6 s slice is the same fixed amount of work on any machine."""
    ref = _cli(tmp_path, "--out", str(tmp_path / "ref"))
    assert ref.returncode == 0, ref.stdout + ref.stderr
    out, slices = tmp_path / "sliced", 0
    while not (out / "resume_test" / "smoke.npz").exists():
        r = _cli(tmp_path, "--out", str(out), "--time-limit", "0.01", FAKE_CLOCK="0.005")  # 120 readings a slice
        assert r.returncode == 0, r.stdout + r.stderr
        slices += 1
        assert slices < 20
        if not (out / "resume_test" / "smoke.npz").exists():
            assert "steps done; run `python -m icl_kinetics run resume_test" in r.stdout
    assert slices > 2
    _same(_arrays(tmp_path / "ref"), _arrays(out))


def test_every_time_limited_call_makes_progress(tmp_path):
    """A limit too small for any work still trains at least one step per call, also when the call first reuses
    finished sub-runs (before: 0 of 80 steps done on every call, or stuck at the second sub-run)."""
    out, seen = tmp_path / "tiny", []
    for _ in range(3):
        r = _cli(tmp_path, "--out", str(out), "--time-limit", "1e-9")
        assert r.returncode == 0, r.stdout + r.stderr
        seen.append(r.stdout)
    steps = [int(x.split(" of ")[0].rsplit(" ", 1)[-1]) for x in seen]
    assert steps[0] >= 1 and steps[1] > steps[0] and steps[2] > steps[1], seen
