"""The scale ladder (issue 21): rung data from stored results or finished shards, and the trend rule."""
import numpy as np

from icl_kinetics import experiments
from icl_kinetics.analysis import ladder


def test_rung_data_is_partial_from_shards_and_complete_when_stored(tmp_path):
    out = tmp_path / "results"
    assert ladder.rung_data("ticl_vs_n", "smoke", out).status == "not run"
    experiments.run("ticl_vs_n", "smoke", out=out, progress=False, only=["N4"])
    d = ladder.rung_data("ticl_vs_n", "smoke", out)
    assert d.status == "partial: 1 of 2 sub-runs finished" and set(d.runs) == {"N4"}
    r = ladder.ticl_exponent_rung(d)
    assert not np.isfinite(r.value) and "needs 2" in r.note  # one N: no slope, and it says why
    experiments.run("ticl_vs_n", "smoke", out=out, progress=False)
    assert ladder.rung_data("ticl_vs_n", "smoke", out).status == "complete"
    assert ladder.rung_data("balanced", "paper_net", out).status == "not run"  # a profile it does not define


def _rung(profile, value, lo, hi, status="complete", stat="nu"):
    return ladder.Rung(stat, profile, value, lo, hi, status, "", "")


def test_trend_reads_only_complete_rungs_with_separate_intervals():
    nan = float("nan")
    assert ladder.trend([_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", nan, nan, nan, "not run")],
                        0.7).startswith("not decided yet: 1 rung(s)")
    toward = ladder.trend([_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", 0.71, 0.69, 0.73)], 0.7)
    assert "toward" in toward and "do not overlap" in toward and "not decided" not in toward
    away = ladder.trend([_rung("cpu", 0.72, 0.71, 0.73), _rung("paper_net", 0.80, 0.78, 0.82)], 0.7)
    assert "away from" in away and "not decided" not in away
    assert "not decided: intervals overlap" in ladder.trend(
        [_rung("cpu", 0.77, 0.70, 0.80), _rung("paper_net", 0.75, 0.72, 0.78)], 0.7)
    assert "not decided: paper_net partial" in ladder.trend(
        [_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", 0.71, 0.69, 0.73, "partial: 4 of 8")], 0.7)
    k = ladder.trend([_rung("cpu", 500, 400, 650, stat="K*"), _rung("paper_net", 8000, 6000, 11000, stat="K*")], 1e4)
    assert "decades" in k and "toward" in k


def test_clock_ratio_pairs_seeds_across_learning_rates(tmp_path):
    out = tmp_path / "results"
    d = ladder.rung_data("ticl_clock", "smoke", out)
    assert "no run" in ladder.clock_rung(d).note
    experiments.run("ticl_clock", "smoke", out=out, progress=False)
    r = ladder.clock_rung(ladder.rung_data("ticl_clock", "smoke", out))
    assert "not finished" in r.note  # the lr 0.05 reference is missing
    experiments.run("ticl_vs_n", "smoke", out=out, progress=False)
    r = ladder.clock_rung(ladder.rung_data("ticl_clock", "smoke", out))
    assert r.note.startswith("expected 5") or r.note == "no seed acquired ICL at either learning rate", r


def test_clock_ratio_is_the_median_per_seed_ratio(monkeypatch):
    cfg = experiments.get("ticl_clock").runs("smoke")["N6_lr0.01"]  # seeds 0, 1, 2 at lr 0.01
    ref_cfg = experiments.get("ticl_vs_n").runs("smoke")["N6"]      # seeds 0, 1, 2 at lr 0.05
    slow = {"t_icl": np.array([500.0, 1000.0, np.nan])}
    fast = {"t_icl": np.array([100.0, 250.0, 200.0])}
    ref = ladder.RungData("ticl_vs_n", "smoke", {"N6": fast}, {"N6": ref_cfg}, 2, False)
    monkeypatch.setattr(ladder, "rung_data", lambda *a: ref)
    d = ladder.RungData("ticl_clock", "smoke", {"N6_lr0.01": slow}, {"N6_lr0.01": cfg}, 1, True)
    r = ladder.clock_rung(d)
    assert r.value == 5.0  # median of 5, 4 and inf (the seed that never acquired at lr 0.01)
    assert r.lo <= 5.0 <= r.hi and r.note == "expected 5 (the ratio of the learning rates)"
