"""Shards through submitit (issue 12): the local executor end to end at the smoke profile, the SLURM job script."""
import numpy as np
import pytest
import submitit
from submitit.slurm.test_slurm import mocked_slurm

from icl_kinetics import __main__, checkpoint, executors, experiments, store

EXP = "ticl_vs_n"  # two sub-runs (N = 4, 6) at the smoke profile: two shards


pytestmark = pytest.mark.usefixtures("one_thread")


def _same(a, b):
    for run in a.runs:
        assert set(a[run]) == set(b[run])
        for k in a[run]:
            assert np.array_equal(a[run][k], b[run][k], equal_nan=True), (run, k)


def test_submitit_local_executor_runs_shards_and_merges(tmp_path):
    ref = experiments.run(EXP, "smoke", out=tmp_path / "ref" / "results", progress=False)
    res = executors.submit(EXP, "smoke", "local", out=tmp_path / "shards" / "results", device="cpu")
    _same(ref, res)
    assert set(res.meta["run_device"]) == set(res.meta["run_git_commit"]) == set(res.meta["run_wall_time_s"]) \
        == {"N4", "N6"}
    assert not (tmp_path / "shards" / "results" / EXP / "smoke.shards").exists(), "shards are cleaned up after the merge"
    assert list(executors.folder(EXP, "smoke", tmp_path / "shards" / "results").glob("*_log.out"))  # job logs


def test_shard_resume_and_reuse_under_submitit(tmp_path):
    """One shard finished earlier, the other interrupted with a checkpoint: the executor trains only the
    interrupted one, from its checkpoint, and merges; the result equals an uninterrupted run bit for bit."""
    ref = experiments.run(EXP, "smoke", out=tmp_path / "ref" / "results", progress=False)
    out = tmp_path / "shards" / "results"
    assert experiments.run(EXP, "smoke", out=out, progress=False, only=["N4"]) is None
    cfg = experiments.get(EXP).runs("smoke")["N6"]
    stem = store.workdir(EXP, "smoke", out).checkpoint("N6")
    from icl_kinetics.train import TimeLimitReached, train
    with pytest.raises(TimeLimitReached):
        train(cfg, progress=False, checkpoint=stem, deadline=0.0)
    assert checkpoint.progress(stem)["step"] == 1
    assert executors.pending(EXP, "smoke", out) == ["N6"]
    res = executors.submit(EXP, "smoke", "local", out=out, device="cpu")
    _same(ref, res)
    logs = list(executors.folder(EXP, "smoke", out).glob("*_log.out"))
    assert len(logs) == 1 and "ticl_vs_n/N4: reusing" in logs[0].read_text()  # one job: N6, which merged N4


def test_shard_job_requeues_the_same_call():
    """submitit's checkpoint hook (called on preemption/timeout) resubmits the shard with the same arguments;
    the requeued job resumes from the run's own checkpoint."""
    job = executors.ShardJob()
    args = (EXP, "smoke", "N4", None, "cpu", 300.0, 1)
    delayed = job.checkpoint(*args)
    assert isinstance(delayed, submitit.helpers.DelayedSubmission)
    assert delayed.function is job and delayed.args == args


def test_submitit_slurm_job_array_script(tmp_path):
    """No SLURM here: submitit's own mock of sbatch; the generated job script is what a cluster would run."""
    with mocked_slurm():
        jobs = executors.submit(EXP, "smoke", "slurm", out=tmp_path / "results", partition="gpu", gpus=1,
                                timeout_min=90)
        script = jobs[0].paths.submission_file.read_text()
    assert len(jobs) == 2
    for line in ("#SBATCH --partition=gpu", "#SBATCH --gpus-per-node=1", "#SBATCH --array=0-1%2",
                 "#SBATCH --signal=USR2@120", "#SBATCH --time=90", "#SBATCH --job-name=icl_kinetics"):
        assert line in script, line
    assert "submitit.core._submit" in script


def test_submitit_cli_refuses_bad_executor_flags(capsys):
    assert __main__.main(["run", EXP, "--profile", "smoke", "--executor", "slurm"]) == 2
    assert "--executor slurm needs --partition" in capsys.readouterr().err
    assert __main__.main(["run", EXP, "--profile", "smoke", "--executor", "local", "--only", "N4"]) == 2
    assert "leave out --only" in capsys.readouterr().err
    assert __main__.main(["run", EXP, "--profile", "smoke", "--partition", "gpu"]) == 2
    assert "add --executor slurm" in capsys.readouterr().err


def test_ctrl_c_under_the_local_executor_is_one_line(tmp_path):
    """Issue 33.7: a Ctrl-C (SIGINT to the terminal's process group) printed submitit's job controller tracebacks
    after the command's one-line error; they now go to the controller's log beside the job logs."""
    import os
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "results"
    p = subprocess.Popen([sys.executable, "-m", "icl_kinetics", "run", EXP, "--profile", "cpu", "--device", "cpu",
                          "--out", str(out), "--executor", "local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, start_new_session=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                         # a pytest-xdist worker ignores SIGINT, and a child would inherit that: restore the default
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    jobs = executors.folder(EXP, "cpu", out)
    for _ in range(1200):  # until a shard job is training (its lock is taken); a hang guard
        if list((out / EXP / "cpu.ckpt").glob(".*.lock")) or p.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGINT)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 130, stdout + stderr
    assert stderr.startswith("error: interrupted") and stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert (jobs / "controller.log").exists()
