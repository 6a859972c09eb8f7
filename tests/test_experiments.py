import datetime as _dt
import json
import os
import subprocess
import sys

import numpy as np
import torch
import pytest

from icl_kinetics import experiments as ex


@pytest.fixture
def store(tmp_path):
    return tmp_path / "results"


def test_every_experiment_has_valid_profiles():
    assert ex.REGISTRY, "no experiments registered"
    for name, exp in ex.REGISTRY.items():
        for prof in exp.profiles:
            runs = exp.runs(prof)  # constructing RunConfig validates it
            assert runs, (name, prof)


def test_smoke_profiles_are_small():
    for name, exp in ex.REGISTRY.items():
        work = sum(c.E * c.steps for c in exp.runs("smoke").values())
        assert work <= 20_000, f"{name}: smoke profile too large ({work} member-steps)"


def test_run_save_load_roundtrip(store):
    res = ex.run("phenomenology", "smoke", out=store, progress=False)
    meta = json.loads((store / "phenomenology" / "smoke.json").read_text())
    for key in ("git_commit", "device", "torch_version", "wall_time_s", "date", "package_version", "runs"):
        assert key in meta
    back = ex.load("phenomenology", "smoke", out=store)
    for run, vals in res.runs.items():
        for k, v in vals.items():
            np.testing.assert_array_equal(back[run][k], v)
    assert not list((store / "phenomenology").glob("*.tmp"))
    assert not list(store.rglob("*.lock"))  # issue 33.7: before, a .smoke.lock stayed in every results folder


def test_corrupt_and_mismatched_results_are_reported(store):
    ex.run("phenomenology", "smoke", out=store, progress=False)
    npz = store / "phenomenology" / "smoke.npz"
    js = store / "phenomenology" / "smoke.json"
    meta = json.loads(js.read_text())
    run = next(iter(meta["runs"]))
    meta["runs"][run]["steps"] += 1
    js.write_text(json.dumps(meta))
    with pytest.raises(ex.ResultsError, match=r"different configuration.*steps.*python -m icl_kinetics run"):
        ex.load("phenomenology", "smoke", out=store)
    npz.write_bytes(b"garbage")
    with pytest.raises(ex.ResultsError, match="corrupt"):
        ex.load("phenomenology", "smoke", out=store)
    js.write_text("{not json")
    with pytest.raises(ex.ResultsError, match="corrupt"):
        ex.load("phenomenology", "smoke", out=store)


def test_load_or_run_never_silently_retrains_a_bad_cpu_store(store):
    d = store / "phenomenology"
    d.mkdir(parents=True)
    (d / "cpu.json").write_text("{not json")
    (d / "cpu.npz").write_bytes(b"garbage")
    with pytest.raises(ex.ResultsError, match="corrupt.*python -m icl_kinetics run phenomenology --profile cpu"):
        ex.load_or_run("phenomenology", "cpu", out=store)


def test_missing_results_message(store):
    with pytest.raises(ex.ResultsError, match="no stored results.*python -m icl_kinetics run phenomenology"):
        ex.load("phenomenology", "cpu", out=store)


def test_unknown_names():
    with pytest.raises(KeyError, match="unknown experiment 'nope'.*phenomenology"):
        ex.get("nope")
    with pytest.raises(ValueError, match="unknown profile 'huge'.*smoke, cpu, paper"):
        ex.resolve_profile("huge")


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("ICL_PROFILE", "smoke")
    assert ex.resolve_profile() == "smoke"
    monkeypatch.delenv("ICL_PROFILE")
    assert ex.resolve_profile() == "cpu"


def _cli(*args, tmp=None):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "icl_kinetics", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_cli_errors_are_clear_and_write_nothing(store):
    r = _cli("run", "nope", "--out", str(store))
    assert r.returncode == 2 and "unknown experiment 'nope'" in r.stderr and "Traceback" not in r.stderr
    r = _cli("run", "phenomenology", "--profile", "huge", "--out", str(store))
    assert r.returncode == 2 and "unknown profile 'huge'" in r.stderr
    assert not store.exists()


def test_cli_list_and_run(store):
    r = _cli("list")
    assert r.returncode == 0 and "phenomenology" in r.stdout
    r = _cli("run", "phenomenology", "--profile", "smoke", "--out", str(store))
    assert r.returncode == 0, r.stderr
    assert (store / "phenomenology" / "smoke.npz").exists()


def test_no_train_guard_turns_missing_results_into_an_error(store, monkeypatch):
    monkeypatch.setenv("ICL_NO_TRAIN", "1")
    with pytest.raises(ex.ResultsError, match="ICL_NO_TRAIN.*python -m icl_kinetics run phenomenology --profile cpu"):
        ex.load_or_run("phenomenology", "cpu", out=store)
    assert not (store / "phenomenology").exists()


def test_shards_train_separately_then_assemble(tmp_path):
    """`only` trains a subset of sub-runs (a shard) and stores nothing while others are missing; the shard that
    finishes last assembles the result from the finished sub-runs without retraining them."""
    out = tmp_path / "results"
    assert ex.run("kstar_vs_n", "smoke", out=out, progress=False, only=["N4"]) is None
    assert not (out / "kstar_vs_n" / "smoke.json").exists()
    shards = out / "kstar_vs_n" / "smoke.shards"  # the work folder belongs to the results folder
    first = np.load(shards / "N4.npz")["icl_acc"]
    record = json.loads((shards / "N4.json").read_text())  # each shard carries its own provenance
    assert record["torch_version"] == torch.__version__ and record["wall_s"] > 0
    assert _dt.datetime.fromisoformat(record["date"]).tzinfo is not None  # an ISO date with its time zone (UTC)
    res = ex.run("kstar_vs_n", "smoke", out=out, progress=False, only=["N6"])
    assert set(res.runs) == {"N4", "N6"}
    assert res.meta["run_torch_version"] == {"N4": torch.__version__, "N6": torch.__version__}
    assert res.meta["run_date"]["N4"] == record["date"]
    np.testing.assert_array_equal(res["N4"]["icl_acc"], first)
    assert not shards.exists()  # shards removed once stored
    assert ex.load("kstar_vs_n", "smoke", out=out).runs.keys() == {"N4", "N6"}


def test_load_optional_is_none_when_not_stored_and_never_trains(tmp_path):
    out = tmp_path / "results"
    assert ex.load_optional("ticl_vs_n", "smoke", out) is None
    assert not out.exists()  # nothing was trained or written
    ex.run("ticl_vs_n", "smoke", out=out, progress=False)
    assert ex.load_optional("ticl_vs_n", "smoke", out).experiment == "ticl_vs_n"


# ------------------------------------------------------------------ issue 33: a stored result is never trained over
def _fake_train(calls, interrupt_at=None):
    """train() returning arrays of the config's shapes at once (no compute), KeyboardInterrupt at call
    `interrupt_at`."""
    def fake(cfg, **kw):
        calls.append(cfg)
        if len(calls) == interrupt_at:
            raise KeyboardInterrupt
        return {**{k: np.full(s, float(len(calls))) for k, s in ex.expected_arrays(cfg).items()},
                "wall_s": np.asarray(1.0)}
    return fake


def _cli_main(argv):
    import contextlib
    import io
    from icl_kinetics import __main__ as cli
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue(), err.getvalue()


def _committed_copy(out, name, profile):
    import shutil
    (out / name).mkdir(parents=True)
    for suffix in (".npz", ".json"):
        shutil.copy(ex.RESULTS_DIR / name / f"{profile}{suffix}", out / name)
    return {p.name: p.read_bytes() for p in (out / name).iterdir()}


def test_run_of_a_stored_result_says_so_and_trains_nothing(store, monkeypatch):
    """Issue 33.4: `run long_tail_pool --profile cpu --out <a copy of results/>` retrained it from scratch (115 s
    here, hours at paper_net) with no notice, and would have replaced the committed result."""
    before = _committed_copy(store, "long_tail_pool", "cpu")
    calls = []
    monkeypatch.setattr(ex, "train", _fake_train(calls, interrupt_at=1))
    rc, stdout, stderr = _cli_main(["run", "long_tail_pool", "--profile", "cpu", "--out", str(store)])
    assert rc == 0 and not calls and not stderr, stderr
    assert stdout.count("\n") == 1 and "long_tail_pool/cpu: already stored in" in stdout and "--retrain" in stdout
    assert {p.name: p.read_bytes() for p in (store / "long_tail_pool").iterdir()} == before  # nothing else written
    # --retrain trains; interrupted, the stored result is intact (its work is kept beside it)
    rc, stdout, stderr = _cli_main(["run", "long_tail_pool", "--profile", "cpu", "--out", str(store), "--retrain"])
    assert rc == 130 and len(calls) == 1 and "error: interrupted" in stderr
    for name, blob in before.items():
        assert (store / "long_tail_pool" / name).read_bytes() == blob
    assert ex.load("long_tail_pool", "cpu", store).meta["wall_time_s"] > 100


def test_a_retrain_replaces_the_stored_result_only_when_complete(store, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(ex, "train", _fake_train(calls))
    first = ex.run("kstar_vs_n", "smoke", out=store, progress=False)
    js = store / "kstar_vs_n" / "smoke.json"
    stored = js.read_bytes()
    monkeypatch.setattr(ex, "train", _fake_train(calls, interrupt_at=len(calls) + 2))  # in the second sub-run
    with pytest.raises(KeyboardInterrupt):
        ex.run("kstar_vs_n", "smoke", out=store, progress=False, retrain=True)
    assert js.read_bytes() == stored and ex.load("kstar_vs_n", "smoke", store).meta["date"] == first.meta["date"]
    capsys.readouterr()
    n = len(calls)
    assert ex.run("kstar_vs_n", "smoke", out=store, progress=False).meta["date"] == first.meta["date"]
    assert len(calls) == n and "an unfinished retrain's work is beside it" in capsys.readouterr().out
    monkeypatch.setattr(ex, "train", _fake_train(calls))
    new = ex.run("kstar_vs_n", "smoke", out=store, progress=False, retrain=True)
    assert len(calls) == n + 1  # the finished sub-run of the interrupted retrain is reused
    back = ex.load("kstar_vs_n", "smoke", store)["N6"]["icl_acc"]  # the retrain's, stored
    assert (back == new["N6"]["icl_acc"]).all() and not (back == first["N6"]["icl_acc"]).any()
    assert not (store / "kstar_vs_n" / "smoke.shards").exists()


def test_run_of_a_damaged_or_mismatched_stored_result_is_one_line_and_trains_nothing(store, monkeypatch):
    """Issue 33.2 for `run`: a damaged stored result names the file and how to restore it; one made by another
    configuration needs --retrain."""
    _committed_copy(store, "long_tail_pool", "cpu")
    npz = store / "long_tail_pool" / "cpu.npz"
    blob = bytearray(npz.read_bytes())
    blob[5000:5002] = bytes(b ^ 0xFF for b in blob[5000:5002])
    npz.write_bytes(bytes(blob))
    calls = []
    monkeypatch.setattr(ex, "train", _fake_train(calls))
    rc, _, stderr = _cli_main(["run", "long_tail_pool", "--profile", "cpu", "--out", str(store)])
    assert rc == 2 and not calls and stderr.count("\n") == 1, stderr
    assert f"{npz} does not match the checksum" in stderr and f"git checkout -- {npz}" in stderr
    _committed_copy(store / "other", "long_tail_pool", "cpu")
    js = store / "other" / "long_tail_pool" / "cpu.json"
    js.write_text(js.read_text().replace('"lr": 0.05', '"lr": 0.04'))
    rc, _, stderr = _cli_main(["run", "long_tail_pool", "--profile", "cpu", "--out", str(store / "other")])
    assert rc == 2 and not calls and "different configuration" in stderr and stderr.strip().endswith("--retrain")


def test_load_or_run_at_smoke_trains_a_damaged_result_again_and_says_so(store, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(ex, "train", _fake_train(calls))
    ex.run("ticl_vs_n", "smoke", out=store, progress=False)
    (store / "ticl_vs_n" / "smoke.npz").write_bytes(b"garbage")
    capsys.readouterr()
    assert ex.load_or_run("ticl_vs_n", "smoke", out=store).runs and len(calls) == 4
    assert "ticl_vs_n/smoke: the stored result is unusable, training it again" in capsys.readouterr().out


def test_only_help_names_the_shards_folder(capsys):
    from icl_kinetics import __main__ as cli
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "under runs/" not in text and "<profile>.shards/" in text  # issue 33.7
