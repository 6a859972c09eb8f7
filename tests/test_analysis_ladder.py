"""The scale ladder (issue 21): rung data from stored results or finished shards, and the trend rule."""
import numpy as np
import pytest

from icl_kinetics import experiments
from icl_kinetics.analysis import bimodality, ladder, scaling


def test_rung_data_is_partial_from_shards_and_complete_when_stored(tmp_path):
    out = tmp_path / "results"
    assert ladder.rung_data("ticl_vs_n", "smoke", out).status == "not run"
    experiments.run("ticl_vs_n", "smoke", out=out, progress=False, only=["N4"])
    d = ladder.rung_data("ticl_vs_n", "smoke", out)
    assert d.status == "partial: 1 of 2 shards finished" and set(d.runs) == {"N4"}
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
                        0.7).startswith("not decided yet: one rung has a value")
    toward = ladder.trend([_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", 0.71, 0.69, 0.73)], 0.7)
    assert "toward" in toward and "do not overlap" in toward and "not decided" not in toward
    away = ladder.trend([_rung("cpu", 0.72, 0.71, 0.73), _rung("paper_net", 0.80, 0.78, 0.82)], 0.7)
    assert "away from" in away and "not decided" not in away
    assert "overlap (not decided)" in ladder.trend(
        [_rung("cpu", 0.77, 0.70, 0.80), _rung("paper_net", 0.75, 0.72, 0.78)], 0.7)
    assert ladder.trend([_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", 0.71, 0.69, 0.73, "partial: 4 of 8")],
                        0.7).startswith("not decided yet: one rung has a value")
    # a partial rung above the complete ones is named and left out; the trend reads the complete ones
    three = ladder.trend([_rung("cpu", 0.77, 0.75, 0.78), _rung("paper_net", 0.71, 0.69, 0.73),
                          _rung("paper", 0.9, 0.8, 1.0, "partial: 3 of 6")], 0.7)
    assert "toward" in three and "not read yet: the paper's settings (partial: 3 of 6)" in three
    # every complete rung's distance is named, the middle one too
    assert "0.07 at the cpu scale, 0.01 at the paper's network" in three
    assert "distance to the theory's value" in ladder.trend(
        [_rung("cpu", 4.4, 4.3, 4.5), _rung("paper_net", 4.9, 4.8, 5.0)], 5.0, ladder.reference("lr clock ratio"))
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
    assert r.note.startswith("expected 5") or r.note.endswith("acquired ICL at both learning rates"), r


def test_clock_ratio_is_the_geometric_mean_of_interpolated_per_seed_ratios(monkeypatch):
    cfg = experiments.get("ticl_clock").runs("smoke")["N6_lr0.01"]  # seeds 0, 1, 2 at lr 0.01
    ref_cfg = experiments.get("ticl_vs_n").runs("smoke")["N6"]      # seeds 0, 1, 2 at lr 0.05
    steps = np.array([0.0, 100.0, 200.0, 300.0, 400.0, 500.0])
    ramp = lambda t_cross: np.clip(0.5 + 0.45 * steps / t_cross, 0, 1)  # noqa: E731 (crosses 0.95 at t_cross)
    # lr 0.01: seeds cross at 450 and 360 (between evaluations) and never; lr 0.05: at 90, 90 and 60
    slow = {"steps": steps, "icl_acc": np.array([ramp(450), ramp(360), np.full(6, 0.5)])}
    fast = {"steps": steps, "icl_acc": np.array([ramp(90), ramp(90), ramp(60)])}
    ref = ladder.RungData("ticl_vs_n", "smoke", {"N6": fast}, {"N6": ref_cfg}, 2, False)
    monkeypatch.setattr(ladder, "rung_data", lambda *a: ref)
    d = ladder.RungData("ticl_clock", "smoke", {"N6_lr0.01": slow}, {"N6_lr0.01": cfg}, 1, True)
    r = ladder.clock_rung(d)
    assert r.value == pytest.approx(np.sqrt(5.0 * 4.0))  # the ratios 5 and 4, not rounded to the 100-step grid
    assert r.lo < r.value < r.hi  # t interval on 2 log ratios: 1 degree of freedom, wide
    assert r.note == "expected 5 (the ratio of the learning rates); 1 seed censored at either rate left out"


def test_a_rung_adds_the_sweep_it_reuses_once_that_is_stored(tmp_path, monkeypatch):
    """catalog.REUSES: another experiment's stored sweep, pooled, is one more sub-run N<its N>; the rung is complete
    only when both are stored, and a sweep that would shadow a sub-run of the experiment's own is refused."""
    from icl_kinetics import catalog
    out = tmp_path / "results"
    monkeypatch.setitem(catalog.REUSES, ("ticl_clock", "smoke"), "phenomenology")
    monkeypatch.setattr(ladder, "check_reusable", lambda *a: None)  # the two differ in lr; the check is tested below
    experiments.run("ticl_clock", "smoke", out=out, progress=False)
    d = ladder.rung_data("ticl_clock", "smoke", out)
    assert set(d.runs) == {"N6_lr0.01"} and d.status == "partial: 1 of 2 shards finished"
    experiments.run("phenomenology", "smoke", out=out, progress=False)
    d = ladder.rung_data("ticl_clock", "smoke", out)
    ph = experiments.load("phenomenology", "smoke", out)
    assert d.status == "complete" and set(d.runs) == {"N6_lr0.01", "N6"}
    assert d.configs["N6"].Ks == ph.configs()["sweep"].Ks
    assert np.array_equal(d.runs["N6"]["final_icl_acc"], ph["sweep"]["final_icl_acc"])
    monkeypatch.setitem(catalog.REUSES, ("kstar_vs_n", "smoke"), "phenomenology")  # kstar_vs_n smoke has N6 too
    with pytest.raises(ValueError, match="defines N6 itself"):
        ladder.rung_data("kstar_vs_n", "smoke", out)


def test_a_reused_sweep_must_be_trained_like_the_experiments_own():
    """Same settings, and the same budget and evaluation grid per unit of N; the paper_net reuse passes."""
    own = experiments.get("kstar_vs_n").runs("paper_net")["N50"]
    reused = experiments.get("phenomenology").runs("paper_net")["K1000"]
    ladder.check_reusable(reused, own, "phenomenology")  # 93,800 steps at N = 100 = 46,900 at N = 50, x 2
    import dataclasses
    for change in (dict(steps=own.steps * 4), dict(lr=0.01), dict(n_eval=500), dict(early_stop=None)):
        with pytest.raises(ValueError, match="not the same sweep"):
            ladder.check_reusable(dataclasses.replace(reused, **change), own, "phenomenology")


def test_paper_net_kstar_grid_is_centred_as_its_rule_says():
    """The constants behind kstar_vs_n's paper_net K grids, recomputed from the runs they were fixed from: the
    sigmoid K* of phenomenology's paper_net sweep without K = 1668 (not finished when the grid was fixed) and nu of
    memorization's paper_net run."""
    from icl_kinetics import catalog
    ph = ladder.rung_data("phenomenology", "paper_net", with_dense=False)  # the sweep the grid was fixed from
    assert ph.stored or len(ph.runs) >= 9, ph.status
    nine = {k: v for k, v in ph.runs.items() if k != "K1668"}
    d = ladder.RungData("phenomenology", "paper_net", nine, {k: ph.configs[k] for k in nine}, 9, True)
    assert round(ladder.kstar_rung(d).value) == catalog.PAPER_NET_KSTAR_100 == 8189
    nu = ladder.nu_rung(ladder.rung_data("memorization", "paper_net"), n_boot=50).value
    assert round(nu, 3) == catalog.PAPER_NET_NU == 0.754
    cfgs = catalog.get("kstar_vs_n").runs("paper_net")
    for name, cfg in cfgs.items():
        Ks = np.array(sorted(set(cfg.Ks)), float)
        centre = np.exp(np.log(Ks).mean())
        assert abs(centre / catalog.kstar_predicted(cfg.N) - 1) < 0.01 and len(Ks) == 6 and cfg.E == 24
        assert cfg.steps == 938 * cfg.N and (cfg.D, cfg.width, cfg.lr) == (63, 512, 0.05)
    assert catalog.get("phenomenology").runs("paper_net")["K1000"].steps == 938 * 100  # the reused N = 100 sweep


def test_mlp_clock_pairs_members_by_k_and_seed(monkeypatch):
    """The MLP clock: per (K, seed) member, I_K(inf) in iterations at lr 0.01 over lr 0.05 (tail estimates given
    here); members not converged at both rates are left out and counted."""
    slow_cfg = experiments.get("memorization_clock").runs("cpu")["K64_lr0.01"]  # K = 64, seeds 0, 1, 2; lr 0.01
    fast_cfg = experiments.get("memorization").runs("cpu")["mlp"]
    tables = {
        0.01: dict(K=np.array([64] * 3), seed=np.array([0, 1, 2]), value=np.array([100.0, 110.0, 90.0]),
                   converged=np.array([True, True, False])),
        0.05: dict(K=np.array([64, 64, 64, 128]), seed=np.array([2, 1, 0, 1000]),
                   value=np.array([95.0, 100.0, 100.0, 300.0]), converged=np.array([True, True, True, True]))}
    monkeypatch.setattr(ladder, "pooled", lambda runs, cfgs: (None, next(iter(cfgs.values()))))
    monkeypatch.setattr(ladder, "memorization_table", lambda run, cfg: tables[cfg.lr])
    ref = ladder.RungData("memorization", "cpu", {"mlp": {}}, {"mlp": fast_cfg}, 1, True)
    monkeypatch.setattr(ladder, "rung_data", lambda *a: ref)
    d = ladder.RungData("memorization_clock", "cpu", {"K64_lr0.01": {}}, {"K64_lr0.01": slow_cfg}, 2, False)
    r = ladder.mlp_clock_rung(d)
    # seed 0: (100 / 0.01) / (100 / 0.05) = 5; seed 1: (110 / 0.01) / (100 / 0.05) = 5.5; seed 2 not converged
    assert np.isclose(r.value, 5.25) and 5.0 <= r.lo <= r.hi <= 5.5
    assert "2 of 3 paired members" in r.units and r.note.startswith("expected 5")
    assert "holds" not in r.note and "waits for every K" in r.note  # a partial rung decides nothing
    done = ladder.mlp_clock_rung(ladder.RungData("memorization_clock", "cpu", d.runs, d.configs, 1, True))
    assert "the clock holds: ratio 5.25" in done.note  # the criterion, once complete ([5.0, 5.5] within [4.5, 5.5])


def _khalf_cpu_as_two_shards():
    """The stored cpu bimodality_khalf run (96 seeds), its config and run split into two shards of 48 seeds."""
    import dataclasses
    cfg, run = experiments.load("bimodality_khalf", "cpu").single()
    half = cfg.E // 2
    cfgs = {f"s{j}": dataclasses.replace(cfg, **{f: tuple(getattr(cfg, f)[j * half:(j + 1) * half])
                                                 for f in ("Ks", "seeds", "wd_attn")}) for j in (0, 1)}
    runs = {f"s{j}": {k: (v if k == "steps" else v[j * half:(j + 1) * half]) for k, v in run.items()} for j in (0, 1)}
    return cfg, run, cfgs, runs


def test_khalf_evidence_decides_only_on_the_complete_run():
    from icl_kinetics.analysis import bimodality
    cfg, run, cfgs, runs = _khalf_cpu_as_two_shards()
    partial = ladder.RungData("bimodality_khalf", "paper_net", {"s0": runs["s0"]}, {"s0": cfgs["s0"]}, 2, False)
    assert ladder.khalf_evidence(partial) == "too few runs: the runs at the paper's network are partial: 1 of 2 shards finished"
    whole = ladder.khalf_evidence(ladder.RungData("bimodality_khalf", "paper_net", runs, cfgs, 2, True))
    assert isinstance(whole, tuple) and whole[0] == bimodality.bimodal_evidence(run, cfg)


def test_never_bar_rung_reads_finished_shards_as_partial():
    from icl_kinetics.analysis import bimodality
    _, _, cfgs, runs = _khalf_cpu_as_two_shards()  # the first 48 seeds as the one finished shard
    cfg0, run0, half = cfgs["s0"], runs["s0"], cfgs["s0"].E
    r = ladder.chance_rung(ladder.RungData("bimodality_khalf", "paper_net", {"s0": run0}, {"s0": cfg0}, 2, False))
    e = bimodality.early_or_never(run0, cfg0)
    assert r.status == "partial: 1 of 2 shards finished" and r.value == e["n_chance"] / e["n_never"]
    assert f"{half} seeds" in r.units
    none = ladder.chance_rung(ladder.RungData("bimodality_khalf", "paper_net", {}, {}, 2, False))
    assert np.isnan(none.value) and "no shard" in none.note


def test_khalf_design_recomputes_the_k_it_was_placed_at(monkeypatch):
    none = ladder.RungData("bimodality_khalf", "paper_net", {}, {}, 4, False)
    d = bimodality.khalf_design(none)
    assert (d.K, d.N, d.D, d.width, d.seeds, d.shards, d.budget) == (5042, 50, 63, 512, 96, 4, 46_900)
    assert abs(d.k_half - 5042.52) < 0.01 and d.sweep_budget == d.budget
    assert d.state == "not started: none of its 4 shards has finished" and [c.split()[-1] for c in d.commands] == [f"K5042_s{j}" for j in range(4)]
    cfg = experiments.get("bimodality_khalf").runs("paper_net")["K5042_s0"]
    one = ladder.RungData("bimodality_khalf", "paper_net", {"K5042_s0": {}}, {"K5042_s0": cfg}, 4, False)
    assert bimodality.khalf_design(one).state == "partial: 1 of 4 shards finished"
    monkeypatch.setattr(bimodality, "k_half_on_grid", lambda run, cfg: 6000.4)  # a sweep placing it elsewhere
    with pytest.raises(ValueError, match="K_half at 6000.4"):
        bimodality.khalf_design(none)


def _damaged_copy(out, name, profile, offset=5000):
    """A copy of the committed result of `name` at `profile` in `out`, two bytes of its npz flipped at `offset`."""
    import shutil
    from icl_kinetics import store
    d = out / name
    d.mkdir(parents=True, exist_ok=True)
    for suffix in (".npz", ".json"):
        shutil.copy(store.RESULTS_DIR / name / f"{profile}{suffix}", d / f"{profile}{suffix}")
    npz = d / f"{profile}.npz"
    blob = bytearray(npz.read_bytes())
    blob[offset] ^= 0xFF
    blob[offset + 1] ^= 0xFF
    npz.write_bytes(bytes(blob))
    return npz


def test_a_damaged_stored_result_is_an_error_not_not_run(tmp_path):
    """Issue 33.3: a damaged memorization paper_net result read as "not run" (retrain it: 3.3 core-hours), and a
    damaged reused sweep made the kstar_vs_n rung "partial". Now one line naming the file and how to restore it."""
    npz = _damaged_copy(tmp_path, "memorization", "paper_net")
    with pytest.raises(experiments.DamagedResultError) as e:
        ladder.rung_data("memorization", "paper_net", tmp_path)
    line = str(e.value)
    assert str(npz) in line and f"git checkout -- {npz}" in line and "\n" not in line, line
    _damaged_copy(tmp_path, "phenomenology", "paper_net")  # the sweep kstar_vs_n reuses at N = 100
    with pytest.raises(experiments.DamagedResultError, match="phenomenology/paper_net.npz does not match"):
        ladder.rung_data("kstar_vs_n", "paper_net", tmp_path)


def test_shards_of_seeds_pool_by_n_for_the_t_icl_exponent(tmp_path):
    """The paper rung's sweep splits its seeds into shards (N6_s0, N6_s1 at smoke): the exponent pools them per N,
    ordered by seed, so the seeds pair across N; one shard of two N finished gives no slope and says why."""
    out = tmp_path / "results"
    experiments.run("ticl_paper_lr", "smoke", out=out, progress=False, only=["N6_s1"])
    d = ladder.rung_data("ticl_paper_lr", "smoke", out)
    assert "needs 2" in ladder.ticl_exponent_rung(d).note
    experiments.run("ticl_paper_lr", "smoke", out=out, progress=False)
    d = ladder.rung_data("ticl_paper_lr", "smoke", out)
    times, seeds = ladder.times_by_n(d)
    assert sorted(times) == [4, 6] and scaling.same_seeds(seeds) and all(len(t) == 4 for t in times.values())
    assert d.status == "complete" and "4, 4 seeds" in ladder.ticl_exponent_rung(d).units
