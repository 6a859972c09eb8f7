"""Tests of the validation analysis of chapters 09, 11 and 12 (lib/icl_kinetics/analysis.py) on synthetic data whose
answers are known by construction."""
import numpy as np
import pytest

from icl_kinetics import analysis as A


# ----------------------------------------------------------------------------- chapter 09: bimodality
def test_proportion_ci_wilson_and_empty():
    p, lo, hi = A.proportion_ci(0, 20)
    assert p == 0 and lo == pytest.approx(0, abs=1e-12) and 0.1 < hi < 0.2  # Wilson: 0.161 for 0/20
    p, lo, hi = A.proportion_ci(10, 20)
    assert p == 0.5 and lo < 0.5 < hi and hi - lo < 0.5
    assert np.isnan(A.proportion_ci(0, 0)[0])


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


def test_invert_ik_identity_saturation_and_never():
    t = np.linspace(0, 100, 1001)
    assert A.invert_ik(t, t, [10.0, 55.5]) == pytest.approx([10.0, 55.5], abs=1e-9)
    ik = 40 * (1 - np.exp(-t / 10))  # saturates at 40: targets above are never reached
    tau = A.invert_ik(t, ik, [20.0, 39.0, 41.0])
    assert tau[0] == pytest.approx(10 * np.log(2), abs=1e-2)
    assert tau[1] == pytest.approx(-10 * np.log(1 / 40), abs=0.05)
    assert np.isposinf(tau[2])


# ----------------------------------------------------------------------------- chapter 11: eq 16
def _eq16_run(slope=-0.5, noise=0.0, E=10, T=60, seed=0):
    """Runs that acquire ICL, whose IWL loss follows slope * log L_ICL on the ICL branch, then fade; after fading
    L_ICL = slope * log L_IWL."""
    rng = np.random.default_rng(seed)
    acc = np.full((E, T), 0.5)
    icl_loss = np.full((E, T), 0.69)
    iwl_loss = np.full((E, T), 0.69)
    for e in range(E):
        a, f = 5 + e % 5, 35 + e % 5  # acquisition and fading indices
        acc[e, a:f] = 0.999
        acc[e, f:] = 0.6
        li = np.geomspace(1e-4, 5e-2, f - a)[::-1] * np.exp(rng.normal(0, 0.05, f - a))
        icl_loss[e, a:f] = li
        iwl_loss[e, a:f] = slope * np.log(li) + noise * rng.standard_normal(f - a)
        lw = np.geomspace(5e-2, 1e-4, T - f)
        iwl_loss[e, f:] = lw
        icl_loss[e, f:] = slope * np.log(lw) + noise * rng.standard_normal(T - f)
    return dict(icl_acc=acc, icl_loss=icl_loss, iwl_loss=iwl_loss)


def test_eq16_fits_recovers_both_slopes():
    f = A.eq16_fits(_eq16_run(-0.5, noise=0.05), n_boot=500)
    assert f["which"] == "transient runs" and f["selected"].all()
    assert f["icl"]["slope"] == pytest.approx(-0.5, abs=0.03)
    assert f["faded"]["slope"] == pytest.approx(-0.5, abs=0.03)
    assert A.slope_status(f["icl"]["slope"], f["icl"]["slope_ci"]) == "consistent"
    g = A.eq16_fits(_eq16_run(-0.2, noise=0.005), n_boot=300)
    assert g["icl"]["slope"] == pytest.approx(-0.2, abs=0.02)
    assert A.slope_status(g["icl"]["slope"], g["icl"]["slope_ci"]) == "right sign"


def test_eq16_fits_without_transient_runs_falls_back():
    r = _eq16_run()
    r["icl_acc"][:, 35:] = 0.999  # nobody fades
    f = A.eq16_fits(r, n_boot=50)
    assert "none transient" in f["which"] and f["selected"].all()
    assert np.isnan(f["faded"]["slope"]) and f["faded"]["n_points"] == 0


def test_slope_status():
    assert A.slope_status(-0.45, (-0.6, -0.4)) == "consistent"
    assert A.slope_status(-0.2, (-0.3, -0.1)) == "right sign"
    assert A.slope_status(0.1, (-0.1, 0.3)) == "inconsistent"
    assert A.slope_status(np.nan, (np.nan, np.nan)) == "untestable"


# ----------------------------------------------------------------------------- chapter 12: balanced contexts
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

