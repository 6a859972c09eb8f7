"""Tests of outcomes across seeds (lib/icl_kinetics/analysis/outcomes.py, chapters 09, 10 and 12) on synthetic
data whose answers are known by construction."""
import numpy as np
import pytest
from scipy import stats

from icl_kinetics import analysis as A


def test_bimodality_stats_two_clusters_vs_unimodal():
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.normal(0.5, 0.02, 30), rng.normal(0.995, 0.003, 18)])
    s = A.bimodality_stats(two, n_boot=300)
    assert s["bc"] > A.BC_UNIFORM and s["bc_ci"][0] > A.BC_UNIFORM
    assert s["n_mid"] == 0 and s["n_low"] == 30 and s["n_high"] == 18 and s["frac_mid_ci"][1] < 0.1
    uni = rng.normal(0.75, 0.05, 48)
    u = A.bimodality_stats(uni, n_boot=300)
    assert u["bc"] < A.BC_UNIFORM
    assert u["n_mid"] > 30 and u["frac_mid"] > 0.6


def test_bimodality_stats_degenerate():
    s = A.bimodality_stats([0.5, 0.5, 0.5, 0.5, np.nan])
    assert s["n"] == 4 and np.isnan(s["bc"]) and s["n_low"] == 4
    assert np.isnan(A.bimodality_stats([0.5, 0.9])["bc"])


def test_compare_acquisition_times_detects_shift_and_late_acquirers():
    rng = np.random.default_rng(1)
    t_inf = rng.lognormal(np.log(2000), 0.2, 60)
    t_same = np.concatenate([rng.lognormal(np.log(2000), 0.2, 30), [np.nan] * 20])
    c = A.compare_acquisition_times(t_same, t_inf, n_boot=300)
    assert c["n_k"] == 30 and c["ratio_ci"][0] < 1 < c["ratio_ci"][1] and c["mannwhitney_p"] > 0.01
    assert c["frac_beyond_inf_q90"] < 0.3
    t_slow = rng.lognormal(np.log(6000), 0.2, 30)
    c = A.compare_acquisition_times(t_slow, t_inf, n_boot=300)
    assert c["ratio"] == pytest.approx(3, rel=0.25) and c["ratio_ci"][0] > 2 and c["mannwhitney_p"] < 1e-6
    assert c["frac_beyond_inf_q90"] > 0.9
    assert np.isnan(A.compare_acquisition_times([np.nan], t_inf)["ratio"])


def test_acquisition_vs_k_counts_and_k_half():
    K = np.repeat([100, 200, 400], 4)
    acc = np.array([0.5, 0.5, 0.5, 0.8, 0.5, 0.9, 0.99, 0.7, 0.99, 0.99, 0.76, np.nan])
    t = A.acquisition_vs_k(K, acc)
    assert list(t["K"]) == [100, 200, 400] and list(t["n"]) == [4, 4, 4] and list(t["k"]) == [1, 2, 3]
    assert np.all(t["lo"] <= t["p"]) and np.all(t["p"] <= t["hi"])
    assert A.k_half(t) == 200
    assert np.isposinf(A.k_half(A.acquisition_vs_k(K, np.full(12, 0.5))))


def test_stratified_permutation_test_detects_fewer_successes():
    rng = np.random.default_rng(3)
    strata = np.tile(np.repeat(np.arange(6), 5), 2)
    group = np.repeat([0, 1], 30).astype(bool)
    p_succ = np.tile(np.repeat(np.linspace(0.2, 1.0, 6), 5), 2)
    outcome = rng.random(60) < np.where(group, 0.2 * p_succ, p_succ)
    r = A.stratified_permutation_test(strata, group, outcome, n_perm=2000)
    assert r["diff"] < 0 and r["p_less"] < 0.01
    same = A.stratified_permutation_test(strata, group, rng.random(60) < p_succ, n_perm=2000)
    assert same["p_less"] > 0.01
    assert np.isnan(A.stratified_permutation_test(strata, group, np.ones(60, bool), n_perm=100)["p_less"])


def test_suboptimal_plateaus_finds_stuck_runs_only():
    steps = np.arange(0, 20001, 250)
    T = len(steps)
    acc = np.full((4, T), 0.5)
    acc[0, 20:] = 0.75                                        # stuck at 0.75 from iteration 5000 on
    acc[1, 20:] = np.linspace(0.6, 0.94, T - 20)             # still climbing
    acc[2, 30:] = 0.999                                       # acquired
    acc[3, 40:] = np.nan                                      # stopped early after a plateau at chance
    acc[3, 30:40] = 0.99
    p = A.suboptimal_plateaus(steps, acc)
    assert list(p["mask"]) == [True, False, False, False]
    assert p["duration"][0] == 15000 and p["level"][0] == pytest.approx(0.75)


def test_skewness_ci():
    rng = np.random.default_rng(0)
    sym = rng.standard_normal(300)
    s, ci, n = A.skewness_ci(sym, n_boot=400)
    assert n == 300 and ci[0] < 0 < ci[1]
    sk, ci2, _ = A.skewness_ci(rng.exponential(1.0, 300), n_boot=400)  # true skewness 2
    assert ci2[0] > 1 and sk == pytest.approx(2, abs=0.6)
    s3, ci3, n3 = A.skewness_ci(np.array([1.0, np.inf, np.nan, 2.0]))  # two finite values
    assert n3 == 2 and np.isnan(s3) and np.isnan(ci3[0])


def test_lognormal_skewness_matches_scipy():
    for sd in (0.2, 0.5, 1.0):
        assert A.lognormal_skewness(sd) == pytest.approx(float(stats.lognorm(sd).stats(moments="s")), rel=1e-9)


def test_log_normality():
    rng = np.random.default_rng(3)
    r = A.log_normality(rng.lognormal(2.0, 0.4, 500))
    assert r["sd"] == pytest.approx(0.4, rel=0.1) and r["sd_ci"][0] < 0.4 < r["sd_ci"][1]
    assert r["mu"] == pytest.approx(2.0, abs=0.06)
    assert r["shapiro_p"] > 0.01
    # log of a uniform is far from normal
    assert A.log_normality(np.exp(rng.uniform(0, 1, 500)))["shapiro_p"] < 1e-3
    assert np.isnan(A.log_normality([1.0, np.inf])["sd"])


def test_early_or_never_counts_late_acquirers_and_non_acquirers_at_chance():
    """Six seeds, budget 100: two acquire early, one late, one never and stays at chance, two never and sit on a
    plateau. A first-crossing time: an acquirer's final value (at the early-stop ceiling or not) does not enter."""
    from types import SimpleNamespace
    from icl_kinetics.analysis.bimodality import early_or_never, early_or_never_choices
    steps = np.arange(0, 101, 10)
    curve = lambda at, lo: np.where(steps >= at, 0.995, lo) if at is not None else np.full(len(steps), lo)
    acc = np.array([curve(20, 0.5), curve(30, 0.5), curve(80, 0.5), curve(None, 0.52), curve(None, 0.8),
                    curve(None, 0.62)])
    run = dict(steps=steps, icl_acc=acc, final_icl_acc=acc[:, -1])
    e = early_or_never(run, SimpleNamespace(E=6, steps=100))
    assert (e["n_acq"], e["n_late"], e["n_never"], e["n_chance"]) == (3, 1, 3, 1)
    assert 0 <= e["late_ci"][0] < 1 / 3 < e["late_ci"][1] <= 1
    ch = early_or_never_choices(run, SimpleNamespace(E=6, steps=100))
    assert ch["at chance: final accuracy <= 0.65"].stats["chance_ci"] != e["chance_ci"]  # 0.62 now counts as chance
    assert ch["late: after a third of the budget"].stats["late_ci"] == e["late_ci"]  # 80 is late under both
    assert all(c.why and c.decides for c in ch.values())


def test_bimodality_khalf_k_follows_its_written_rule():
    """The K of the third Fig 6c run recomputed from the two earlier stored runs, as its definition says."""
    from icl_kinetics import catalog, experiments
    from icl_kinetics.analysis.bimodality import k_half_between
    first = experiments.load("bimodality_kstar", "cpu").single()[::-1]
    second = experiments.load("bimodality", "cpu").single()[::-1]
    assert catalog.even(k_half_between(first, second)) == catalog.CPU_K_HALF_INTERPOLATED == 784
    cfg, = catalog.get("bimodality_khalf").runs("cpu").values()
    assert set(cfg.Ks) == {784} and cfg.E == 96 and cfg.seeds == second[1].seeds


def test_solutions_tell_copying_from_counting_and_compare_with_the_stored_run():
    """Balanced-trained arm: of 4 runs, 3 acquire on balanced contexts; 2 of them copy (conflict accuracy near 1),
    1 counts labels (near 0). The standard arm and the stored result it must equal are the same arrays."""
    from icl_kinetics.analysis.balanced import solutions
    from icl_kinetics.store import Result
    from synthetic import minimal_cfg
    cfg = minimal_cfg(model="transformer1", N=10, Ks=(64,) * 4, seeds=(0, 1, 2, 3), wd_attn=(0.0,) * 4,
                      probes=(), evals=("icl", "iwl", "icl_standard", "icl_conflict"))

    def arm(own, standard, conflict):
        a = dict(final_icl_acc=np.array(own), final_icl_standard_acc=np.array(standard),
                 final_icl_conflict_acc=np.array(conflict))
        a.update(icl_acc=a["final_icl_acc"][:, None], iwl_acc=np.zeros((4, 1)), train_loss=np.ones((4, 1)))
        return a
    runs = {"standard": arm([1, 1, 0.5, 0.5], [1, 1, 0.5, 0.5], [1, 1, 0.5, 0.5]),
            "balanced": arm([1.0, 0.99, 1.0, 0.5], [0.98, 0.97, 0.3, 0.5], [0.99, 0.95, 0.02, 0.5])}
    meta = {"runs": {k: cfg.to_dict() for k in runs}}
    stored = Result("balanced", "cpu", meta, {k: dict(v) for k, v in runs.items()})
    sol = solutions(Result("balanced_solution", "cpu", meta, runs), stored)
    assert (sol.n_acquired, sol.n_copy, sol.n_count) == (3, 2, 1)
    assert sol.n_acquired_standard == 2 and sol.n_copy_standard == 2 and sol.same_as_balanced == "yes"
    assert sol.copy_lo < 2 / 3 < sol.copy_hi
    assert len(sol.choices) == 2  # no lr 0.01 arm: two copy thresholds at lr 0.05
    runs["balanced"]["train_loss"] = np.zeros((4, 1))
    assert solutions(Result("balanced_solution", "cpu", meta, runs), stored).same_as_balanced.startswith("no; ")


def test_k_half_on_grid_interpolates_the_empirical_logit_at_the_first_crossing():
    from icl_kinetics.analysis.bimodality import k_half_on_grid
    from synthetic import minimal_cfg
    Ks = (100,) * 4 + (1000,) * 4 + (10_000,) * 4
    cfg = minimal_cfg(model="transformer1", N=10, Ks=Ks, seeds=tuple(range(12)), wd_attn=(0.0,) * 12, probes=())

    def run(acq):  # icl accuracy curves: 1.0 for the acquirers
        return {"icl_acc": np.array([[0.5, 1.0 if a else 0.5] for a in acq])}
    # 0 of 4, 1 of 4, 4 of 4: crossing between 1000 (logit(1.5/3.5)) and 10000 (logit(4.5/0.5)), symmetric in log
    k = k_half_on_grid(run([0] * 4 + [1, 0, 0, 0] + [1] * 4), cfg)
    lo, hi = np.log(1.5 / 3.5), np.log(4.5 / 0.5)
    assert np.isclose(np.log10(k), 3 + (0 - lo) / (hi - lo))
    assert k_half_on_grid(run([0] * 4 + [1, 1, 0, 0] + [1] * 4), cfg) == 1000.0   # exactly half
    assert np.isnan(k_half_on_grid(run([0] * 12), cfg))                          # never crosses
    assert np.isnan(k_half_on_grid(run([1] * 12), cfg))                          # already above at the first K


def test_paper_net_fig6c_k_is_the_rules_on_the_stored_n50_sweep():
    from icl_kinetics import catalog, experiments
    from icl_kinetics.analysis.bimodality import k_half_on_grid
    res = experiments.load("kstar_vs_n", "paper_net")
    k = k_half_on_grid(res["N50"], res.configs()["N50"])
    assert catalog.even(k) == catalog.PAPER_NET_K_HALF_50 == 5042
    cfgs = catalog.get("bimodality_khalf").runs("paper_net")
    assert list(cfgs) == [f"K5042_s{j}" for j in range(4)]
    seeds = [s for c in cfgs.values() for s in c.seeds]
    assert len(set(seeds)) == 96 and min(seeds) >= 10_000
    c = cfgs["K5042_s0"]
    assert (c.N, c.D, c.width, c.lr, c.steps, c.eval_every) == (50, 63, 512, 0.05, 46_900, 100)


def test_fig6e_at_the_paper_learning_rate_decides_only_when_every_balanced_run_passes():
    """The lr 0.01 control has balanced-trained runs only: when all end above 0.75, 'fewer balanced runs' has
    permutation p = 1 whatever standard runs would do (a row that decides); otherwise the row only describes."""
    from icl_kinetics.analysis import balanced
    from icl_kinetics.verdicts import judge
    K = np.repeat([1600.0, 3200.0, 6400.0], 5)
    every = balanced._paper_lr_choice(K, np.full(15, 0.9))
    assert every.decides and every.stats == dict(p_fewer=1.0, n_per_k=5)
    assert judge("fig6e_balanced", **every.stats).outcome == "not reproduced"
    some = balanced._paper_lr_choice(K, np.r_[np.full(14, 0.9), 0.5])
    assert not some.decides and np.isnan(some.stats["p_fewer"])


def test_ratio_note_reads_the_interval_of_the_acquisition_ratio():
    from icl_kinetics.analysis.bimodality import ratio_note
    assert ratio_note((1.1, 1.4)).startswith("the acquirers are slower")
    assert ratio_note((0.7, 0.9)).startswith("the acquirers are faster")
    assert ratio_note((0.8, 1.2)).startswith("the interval contains 1")
    assert ratio_note((float("nan"), 1.0)) == "the ratio could not be computed"
