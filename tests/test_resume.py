"""Checkpoints inside a run (issue 12): an interrupted run resumes to arrays bit-identical to an uninterrupted one."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from icl_kinetics import checkpoint
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


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
    with pytest.raises(ResultsError, match="unreadable.*delete it"):
        train(cfg, progress=False, checkpoint=tmp_path / "run")


# The same run through the command line, in a subprocess that registers a test experiment of the size above.
SCRIPT = """
import sys, torch
from icl_kinetics import experiments, __main__
from icl_kinetics.train import RunConfig
torch.set_num_threads(1)
CFG = {cfg!r}
experiments.register("resume_test", "test", "none")(lambda profile: {{
    "a": RunConfig(**dict(CFG, steps=CFG["steps"] // 4)), "b": RunConfig(**CFG)}})
sys.exit(__main__.main(sys.argv[1:]))
"""


def _cli(tmp_path, *args, wait=True):
    script = tmp_path / "cli.py"
    script.write_text(SCRIPT.format(cfg=CFG))
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, str(script), "run", "resume_test", "--profile", "smoke", *args]
    if not wait:
        return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


def _arrays(out: Path) -> dict:
    with np.load(out / "resume_test" / "smoke.npz") as z:
        return {k: z[k] for k in z.files}


def test_resume_after_sigkill_is_bit_identical(tmp_path):
    ref = _cli(tmp_path, "--out", str(tmp_path / "ref"))
    assert ref.returncode == 0, ref.stdout + ref.stderr
    out = tmp_path / "killed"
    proc = _cli(tmp_path, "--out", str(out), "--checkpoint-every", "0", wait=False)
    sidecar = checkpoint.paths(tmp_path / "runs" / "resume_test" / "smoke" / "b")[1]
    deadline = time.time() + 300
    while not (sidecar.exists() and checkpoint.progress(sidecar.with_name("b")) and
               checkpoint.progress(sidecar.with_name("b"))["step"] >= 100):
        assert proc.poll() is None, "the run finished before it could be killed: " + proc.stdout.read()
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (tmp_path / "runs" / "resume_test" / "smoke" / "a.npz").exists()  # the finished sub-run is kept
    assert not (out / "resume_test" / "smoke.npz").exists()
    again = _cli(tmp_path, "--out", str(out))
    assert again.returncode == 0, again.stdout + again.stderr
    assert "reusing the finished sub-run" in again.stdout
    _same(_arrays(tmp_path / "ref"), _arrays(out))
    assert not (tmp_path / "runs" / "resume_test" / "smoke").exists()  # checkpoints and sub-runs cleaned up


def test_resume_after_time_limit_slices(tmp_path):
    """--time-limit stops cleanly (exit 0, a checkpoint, progress printed); repeating the command finishes."""
    ref = _cli(tmp_path, "--out", str(tmp_path / "ref"))
    assert ref.returncode == 0, ref.stdout + ref.stderr
    out, slices = tmp_path / "sliced", 0
    while not (out / "resume_test" / "smoke.npz").exists():
        r = _cli(tmp_path, "--out", str(out), "--time-limit", "0.01")  # 0.6 s per slice
        assert r.returncode == 0, r.stdout + r.stderr
        slices += 1
        assert slices < 60
        if not (out / "resume_test" / "smoke.npz").exists():
            assert "steps done; run `python -m icl_kinetics run resume_test" in r.stdout
    assert slices > 1
    _same(_arrays(tmp_path / "ref"), _arrays(out))
