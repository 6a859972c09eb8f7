"""`python -m icl_kinetics run EXP --set key=value --out DIR` (issue 31): one setting changed for every sub-run of an
experiment. Every refusal is one line on stderr, exit 2, before any compute, with nothing written; a smoke run of
the cheapest experiment (`memorization`: the MLP alone, well under a second) stores a result whose recorded
configs hold the new values and whose json lists them under ``overrides``."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from icl_kinetics import __main__ as cli
from icl_kinetics import config, experiments, store

EXP = "memorization"  # the cheapest experiment at the smoke profile
ROOT = Path(__file__).resolve().parents[1]


def call(argv, stub_compute=True):
    """(return code, stdout, stderr, calls) of `main(argv)`; with `stub_compute`, training is replaced by a stub
    that records its calls, so an input that slips through the checks shows up as a call."""
    calls, out, err = [], io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        if stub_compute:
            mp.setattr(experiments, "run", lambda *a, **k: calls.append((a, k)))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main(argv)
            except SystemExit as e:  # argparse's own errors
                rc = e.code
    return rc, out.getvalue(), err.getvalue(), calls


def files_under(d: Path) -> list:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")) if d.exists() else []


def refused(argv, *fragments):
    """Assert `argv` is refused in one line holding every fragment, with exit 2 and no compute."""
    rc, stdout, stderr, calls = call(argv)
    lines = stderr.strip().splitlines()
    assert rc == 2, (rc, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert not calls and not stdout.strip(), "the input got through to the compute"
    return lines[0]


@pytest.mark.parametrize("sets, fragments", [
    (["foo=1"], ["'foo' is not a setting", "lr", "steps", "wd_attn"]),             # unknown key, valid keys listed
    (["lr"], ["expected key=value"]),                                              # no '='
    (["lr=abc"], ["lr takes a number", "'abc'", "--set lr="]),                     # unreadable values
    (["N=1.5"], ["N takes a whole number", "'1.5'"]),
    (["balanced=maybe"], ["balanced takes true or false"]),
    (["Ks=64,x"], ["Ks takes even whole numbers"]),
    (["lr=-1"], ["lr=-1.0", "must be a finite number > 0", "sub-run mlp"]),         # values validation refuses
    (["lr=nan"], ["must be a finite number > 0"]),
    (["N=0"], ["N=0", "must be an integer >= 2"]),
    (["Ks=63"], ["must be an even integer"]),
    (["seeds=0,1"], ["one entry per member"]),
    (["lr=0.02", "lr=0.03"], ["lr is given twice"]),
])
def test_bad_setting_is_one_line_and_writes_nothing(tmp_path, sets, fragments):
    out = tmp_path / "r"
    argv = ["run", EXP, "--profile", "smoke", "--out", str(out)]
    for s in sets:
        argv += ["--set", s]
    refused(argv, *fragments)
    assert not out.exists()


def test_set_needs_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = files_under(ROOT / "results" / EXP)
    refused(["run", EXP, "--profile", "smoke", "--set", "lr=0.02"], "--set changes the experiment's settings",
            "give --out DIR outside results/")
    assert files_under(tmp_path) == [] and files_under(ROOT / "results" / EXP) == before


@pytest.mark.parametrize("out", ["results", "./results/", "results/../results", "results/elsewhere",
                                 str(ROOT / "results"), str(ROOT / "results" / EXP)])
def test_set_into_the_stored_results_folder_is_refused(out, monkeypatch):
    monkeypatch.chdir(ROOT)
    before = files_under(ROOT / "results" / EXP)
    refused(["run", EXP, "--profile", "smoke", "--set", "lr=0.02", "--out", out], "stored results' folder",
            "give --out DIR outside results/")
    assert files_under(ROOT / "results" / EXP) == before
    assert not (ROOT / "results" / "elsewhere").exists()


def test_set_into_the_default_results_folder_elsewhere_is_refused(tmp_path, monkeypatch):
    """With ICL_RESULTS pointing elsewhere, that folder is the stored results' folder too."""
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path / "stored")
    refused(["run", EXP, "--profile", "smoke", "--set", "lr=0.02", "--out", str(tmp_path / "stored")],
            "stored results' folder")
    assert files_under(tmp_path) == []


def test_parse_and_apply_overrides():
    assert config.parse_overrides(["lr=2e-2", "steps=1e3", "Ks=none,64", "balanced=yes", "early_stop=none",
                                   "probes="]) == {"lr": 0.02, "steps": 1000, "Ks": (None, 64), "balanced": True,
                                                   "early_stop": None, "probes": ()}
    cfg = experiments.get(EXP).runs("smoke")["mlp"]
    new = config.with_overrides(cfg, {"wd_attn": (0.01,), "width": 8})  # one value: every member's
    assert new.wd_attn == (0.01,) * cfg.E and new.width == 8 and new.seeds == cfg.seeds


def test_smoke_run_with_set_records_the_new_values(tmp_path, one_thread):
    out = tmp_path / "mine"
    argv = ["run", EXP, "--profile", "smoke", "--device", "cpu", "--set", "lr=0.02", "--set", "steps=20",
            "--set", "wd_mlp=1e-4", "--out", str(out)]
    rc, stdout, stderr, _ = call(argv, stub_compute=False)
    assert rc == 0, stderr
    assert "--set lr=0.02 --set steps=20" in stdout
    meta = json.loads((out / EXP / "smoke.json").read_text())
    (cfg,) = meta["runs"].values()
    assert (cfg["lr"], cfg["steps"], cfg["wd_mlp"]) == (0.02, 20, 1e-4)
    assert meta["overrides"] == {"lr": 0.02, "steps": 20, "wd_mlp": 1e-4}
    overrides = {"lr": 0.02, "steps": 20, "wd_mlp": 1e-4}
    result = experiments.load(EXP, "smoke", out, overrides=overrides)
    assert result["mlp"]["steps"][-1] == 20  # trained for the new number of steps
    with pytest.raises(store.ResultsError, match="different configuration"):
        experiments.load(EXP, "smoke", out)  # not what the catalog says
    # the same command again trains nothing; other settings into the same folder are one line
    rc, stdout, stderr, calls = call(argv)
    assert rc == 0 and "already stored" in stdout and not calls
    refused(["run", EXP, "--profile", "smoke", "--set", "lr=0.03", "--out", str(out)], "made with other settings",
            "lr=0.02", "--retrain")


def test_overrides_from_python():
    """experiments.configs takes the same changes as a dict: a plain number for a per-member field goes to every
    member, and an unknown key is one line."""
    runs = experiments.configs(EXP, "smoke", {"wd_attn": 0.02, "lr": 0.1})
    (cfg,) = runs.values()
    assert cfg.wd_attn == (0.02,) * cfg.E and cfg.lr == 0.1
    with pytest.raises(ValueError, match="'learning_rate': not a setting of a run; the settings are model"):
        experiments.configs(EXP, "smoke", {"learning_rate": 0.1})
