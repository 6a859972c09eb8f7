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
