"""The command line under bad input (issue 14, points 1, 2 and the `list` part of 5): every failure a user can
cause is one line on stderr and a non-zero exit, found before any compute; a real bug keeps its traceback.

Most tests call `main()` in-process with the compute (experiments.run, bench.run) replaced by a stub, so an
input that slipped through validation shows up as a stub call; one test runs the real process.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from test_reliability import FUZZ, time_limit

from icl_kinetics import __main__ as cli
from icl_kinetics import bench, experiments, store

CUDA = torch.cuda.is_available()


class Stub:
    """Stands in for a compute function; records whether it was reached."""

    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return store.Result("x", "smoke", {"wall_time_s": 0.0, "device": "cpu"})


def call(argv, monkeypatch=None):
    """(return code, stdout, stderr, stub) of `main(argv)` with the compute stubbed out."""
    stub = Stub()
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(experiments, "run", stub)
        mp.setattr(bench, "run", stub)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), time_limit():
            try:
                rc = cli.main(argv)
            except SystemExit as e:  # argparse: a usage line and one error line, exit 2
                rc = e.code
    return rc, out.getvalue(), err.getvalue(), stub


def assert_one_line_error(rc, stdout, stderr, stub, *fragments):
    assert rc == 2, (rc, stderr)
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert not stub.calls, "validation let the input through to the compute"
    assert not stdout.strip(), stdout  # nothing was timed or trained


# --------------------------------------------------------------------------------------- point 1: --device
@pytest.mark.parametrize("device, fragment", [
    ("foo", "not a device name"),
    ("cuda:x", "not a device name"),
    ("", "not a device name"),
    ("meta", "cpu, cuda or mps only"),
    ("cuda", "CUDA is not available"),
    ("cuda:3", "CUDA is not available"),
])
def test_bad_device_is_one_line_before_training(device, fragment, tmp_path):
    if CUDA and fragment == "CUDA is not available":
        device, fragment = "cuda:99", "CUDA device(s)"
    for argv in (["run", "phenomenology", "--profile", "smoke", "--device", device, "--out", str(tmp_path / "r")],
                 ["bench", "--device", device]):
        assert_one_line_error(*call(argv), "device", fragment)
    assert not (tmp_path / "r").exists()


# --------------------------------------------------------------------------------------- point 2: --out, bench
def test_out_under_a_file_fails_before_training(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x")
    assert_one_line_error(*call(["run", "phenomenology", "--profile", "smoke", "--out", str(f / "results")]),
                          "cannot write results", str(f))
    assert_one_line_error(*call(["run", "phenomenology", "--profile", "smoke", "--out", str(f)]),
                          "cannot write results")
    assert_one_line_error(*call(["run", "phenomenology", "--profile", "smoke", "--out", " "]), "empty path")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
def test_out_not_writable_fails_before_training(tmp_path):
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        assert_one_line_error(*call(["run", "phenomenology", "--profile", "smoke", "--out", str(d)]),
                              "cannot write results")
    finally:
        d.chmod(0o700)


def test_missing_out_is_created_and_the_run_goes_ahead(tmp_path):
    out = tmp_path / "new" / "results"
    rc, stdout, stderr, stub = call(["run", "phenomenology", "--profile", "smoke", "--out", str(out)])
    assert rc == 0 and len(stub.calls) == 1 and out.is_dir(), stderr
    assert not list(out.iterdir())  # the write check leaves nothing behind


@pytest.mark.parametrize("steps", ["0", "-1", "1000000000"])
def test_bench_steps_rejected_before_any_timing(steps):
    assert_one_line_error(*call(["bench", "--steps", steps]), "steps")  # printed 3 timing rows before


def test_bench_run_checks_its_arguments_first(capsys):
    for kw in (dict(steps=0), dict(steps=4, members=(0,)), dict(steps=4, sizes=("huge",)), dict(steps=True)):
        with pytest.raises(ValueError):
            bench.run("cpu", **kw)
    assert capsys.readouterr().out == ""


def test_argparse_errors_exit_2_without_traceback():
    rc, out, err, stub = call(["bench", "--steps", "x"])
    assert rc == 2 and "invalid int value" in err and "Traceback" not in err and not stub.calls


# --------------------------------------------------------------------------------------- list (point 5)
def test_list_survives_incomplete_and_unreadable_stored_metadata(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)
    (tmp_path / "phenomenology").mkdir()
    (tmp_path / "phenomenology" / "cpu.json").write_text(json.dumps({"device": "cpu"}))  # no wall_time_s
    (tmp_path / "minimal_model").mkdir()
    (tmp_path / "minimal_model" / "cpu.json").write_text("[1, 2]")
    (tmp_path / "memorization").mkdir()
    (tmp_path / "memorization" / "cpu.json").write_bytes(b"\xff\xfe")
    rc, out, err, _ = call(["list"])
    assert rc == 0, err  # was: error: wall_time_s
    # issue 18.9: list reports only what loads; each unusable file is named on a line of its own
    for name in ("phenomenology", "minimal_model", "memorization"):
        block = next(b for b in out.split("\n\n") if b.startswith(name + " "))
        assert "cpu: " in block and "not stored" in block.split("cpu: ")[1].split("\n")[0], block
        assert "unusable: " in block, block
    assert "stored:" not in out.replace("not stored:", "")


# --------------------------------------------------------------------------------------- during the compute
def test_store_error_during_run_is_one_line(tmp_path, monkeypatch):
    def failing_run(*a, **k):
        raise store.ResultsError("cannot write results to /x: No space left on device")
    monkeypatch.setattr(experiments, "run", failing_run)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["run", "phenomenology", "--profile", "smoke", "--out", str(tmp_path)])
    assert rc == 1 and err.getvalue().strip() == "error: cannot write results to /x: No space left on device"


def test_interrupt_is_one_line(tmp_path, monkeypatch):
    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(experiments, "run", interrupted)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = cli.main(["run", "phenomenology", "--profile", "smoke", "--out", str(tmp_path)])
    assert rc == 130 and err.getvalue().startswith("error: interrupted") and len(err.getvalue().splitlines()) == 1


@pytest.mark.parametrize("bug", [KeyError("some_key"), ValueError("a bug"), ZeroDivisionError()])
def test_a_real_bug_keeps_its_traceback(tmp_path, monkeypatch, bug):
    """Only validation errors are turned into one line: the same exception types raised by the compute are bugs."""
    def buggy(*a, **k):
        raise bug
    monkeypatch.setattr(experiments, "run", buggy)
    with pytest.raises(type(bug)):
        cli.main(["run", "phenomenology", "--profile", "smoke", "--out", str(tmp_path)])


# --------------------------------------------------------------------------------------- fuzzed flags
names = st.sampled_from(["phenomenology", "memorization", "nope", "", "PHENOMENOLOGY", "../x"])
profiles = st.sampled_from([None, "smoke", "cpu", "paper", "huge", ""])
devices = st.sampled_from([None, "cpu", "cpu:0", "auto", "cuda", "cuda:1", "foo", "", "meta", "-1", "cuda:-1"])


@FUZZ
@given(name=names, profile=profiles, device=devices, out_kind=st.sampled_from(["new", "file", "under_file", None]),
       steps=st.one_of(st.integers(-3, 200_000), st.sampled_from(["x", "1.5", "", "1e3"])))
def test_fuzz_cli_flags(tmp_path_factory, name, profile, device, out_kind, steps):
    """Any combination of flags: exit 0 having reached the (stubbed) compute, or exit 2 with one error line and
    the compute never reached. Never a traceback, never a hang."""
    base = tmp_path_factory.mktemp("cli")
    (base / "f").write_text("x")
    out = {"new": base / "results", "file": base / "f", "under_file": base / "f" / "results", None: None}[out_kind]
    argv = ["run", name] + (["--profile", profile] if profile is not None else []) \
        + (["--device", device] if device is not None else []) + (["--out", str(out)] if out is not None else [])
    if out is None:  # never write into the repository's results/: validate a fresh directory instead
        argv += ["--out", str(base / "default")]
    for args in (argv, ["bench", "--steps", str(steps)] + (["--device", device] if device is not None else [])):
        rc, stdout, stderr, stub = call(args)
        assert "Traceback" not in stderr
        if rc == 0:
            assert len(stub.calls) == 1 and not stderr.strip()
        else:
            assert rc == 2 and not stub.calls, (args, rc, stderr)
            lines = [ln for ln in stderr.strip().splitlines() if not ln.startswith(("usage:", " "))]  # argparse usage block
            assert len(lines) == 1 and "error: " in lines[0], stderr


def test_the_process_prints_one_line_and_no_traceback(tmp_path):
    """The real process (no stubs): each bad flag ends in one stderr line, exit 2, in seconds."""
    f = tmp_path / "f"
    f.write_text("x")
    cases = [["run", "phenomenology", "--profile", "smoke", "--device", "cuda:3" if not CUDA else "cuda:99"],
             ["run", "phenomenology", "--profile", "smoke", "--out", str(f / "results")]]
    procs = [subprocess.Popen([sys.executable, "-m", "icl_kinetics", *c], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=tmp_path) for c in cases]
    for c, p in zip(cases, procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 2, (c, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and err.startswith("error: "), (c, err)
        assert out == "", (c, out)
