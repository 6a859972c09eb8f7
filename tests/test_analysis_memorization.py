"""I_K(inf) estimation, power-law fit and K* prediction (lib/icl_kinetics/analysis/memorization.py, chapter 05)
on synthetic c1 curves with known integrals, and the inversion of I_K(t) (chapter 09)."""
import numpy as np
import pytest

from icl_kinetics import analysis as A
from icl_kinetics import theory as T
from icl_kinetics.train import RunConfig


def _grid(T_end, n=301):
    return np.linspace(0.0, T_end, n)


def exp_decay(t, tm):          # 0.5 e^{-t/tm}: I = tm
    return 0.5 * np.exp(-t / tm)


def sigmoid_drop(t, tm, s):    # plateau at 1/2 then a drop at tm of width s: I = s log(1 + e^{tm/s})
    return 0.5 / (1.0 + np.exp((t - tm) / s))


def power_tail(t, t0, p):      # 0.5 (1 + t/t0)^-p: I = t0/(p-1) for p > 1, divergent for p <= 1
    return 0.5 * (1.0 + t / t0) ** (-p)


def _synthetic_run(Ks, seeds_per_k, nu, A0, lr=0.05, steps=40_000, every=200, diverge_K=None):
    """A fake memorization run whose c1 curves have I_K(inf) = A0 K^nu (exponential decay)."""
    Ks_, seeds = [], []
    for i, K in enumerate(Ks):
        for s in range(seeds_per_k):
            Ks_.append(K)
            seeds.append(1000 * i + s)
    cfg = RunConfig(model="mlp", D=8, N=2, width=16, Ks=tuple(Ks_), seeds=tuple(seeds), wd_attn=(0.0,) * len(Ks_),
                    steps=steps, eval_every=every, lr=lr, evals=(), probes=("mlp_stats",), n_eval=8)
    st = np.arange(0, steps + 1, every)
    t = lr * st
    rng = np.random.default_rng(1)
    c1 = []
    for K in Ks_:
        tm = A0 * K ** nu * np.exp(0.02 * rng.standard_normal())
        c = exp_decay(t, tm)
        if K == diverge_K:
            c = c + 0.01
        c1.append(c)
    c1 = np.array(c1)
    return {"steps": st, "c1": c1, "train_acc": np.ones_like(c1)}, cfg


@pytest.mark.parametrize("T_end", [1000.0, 2000.0, 4000.0])
def test_exponential_decay_converges_and_is_cutoff_insensitive(T_end):
    t = _grid(T_end, 2001)
    est = A.ik_infinity(t, exp_decay(t, 100.0))
    assert est.converged, est.reason
    assert est.value == pytest.approx(100.0, rel=0.005)


@pytest.mark.parametrize("T_end", [1500.0, 3000.0, 6000.0])
def test_sigmoid_drop_converges(T_end):
    t = _grid(T_end, 3001)
    s, tm = 30.0, 500.0
    est = A.ik_infinity(t, sigmoid_drop(t, tm, s))
    assert est.converged, est.reason
    assert est.value == pytest.approx(s * np.log1p(np.exp(tm / s)), rel=0.005)


def test_power_tail_extrapolation_is_cutoff_insensitive():
    """c1 ~ t^-2.5: the integral converges slowly; the extrapolated tail makes the estimate independent of the
    cut-off while the bare integral I_K(T) is not."""
    t0, p = 20.0, 2.5
    truth = t0 / (p - 1)
    vals, observed = [], []
    for T_end in (200.0, 400.0, 800.0, 1600.0, 3200.0):
        t = _grid(T_end, 4001)
        est = A.ik_infinity(t, power_tail(t, t0, p))
        assert est.converged, (T_end, est.reason)
        assert 2.1 < est.tail_exponent < 2.6
        vals.append(est.value)
        observed.append(est.observed)
    np.testing.assert_allclose(vals, truth, rtol=0.01)
    assert np.ptp(vals) / truth < 0.01
    assert np.ptp(observed) / truth > 0.02  # the bare integral up to the cut-off does depend on it


@pytest.mark.parametrize("p", [0.5, 0.9, 1.0])
def test_divergent_tail_is_flagged(p):
    t = _grid(3000.0, 1501)
    est = A.ik_infinity(t, power_tail(t, 10.0, p))
    assert not est.converged
    assert not np.isfinite(est.value) or est.tail_frac > 0.05
    assert "diverges" in est.reason or "tail" in est.reason


def test_plateau_is_flagged_capacity_constrained():
    """c1 stuck at a floor (items never memorised): I_K grows linearly, flagged not converged."""
    t = _grid(3000.0, 1501)
    c1 = 0.45 * np.exp(-t / 100.0) + 0.05
    est = A.ik_infinity(t, c1)
    assert not est.converged
    assert est.last10_frac > 0.05


def test_run_too_short_is_flagged():
    """Memorisation still under way at the end of the run (c1 has not decayed): not converged."""
    t = _grid(300.0, 301)
    est = A.ik_infinity(t, sigmoid_drop(t, 500.0, 30.0))
    assert not est.converged


def test_noisy_curve_and_nan_samples():
    rng = np.random.default_rng(0)
    t = _grid(2000.0, 1001)
    c1 = exp_decay(t, 100.0) * np.exp(0.05 * rng.standard_normal(t.size)) + 1e-9
    c1[-50:-40] = np.nan
    est = A.ik_infinity(t, c1)
    assert est.converged, est.reason
    assert est.value == pytest.approx(100.0, rel=0.02)


def test_power_law_fit_recovers_nu_and_kstar(tmp_path):
    Ks = (64, 128, 256, 512, 1024, 2048)
    run, cfg = _synthetic_run(Ks, 3, nu=0.7, A0=2.0, diverge_K=2048)
    tab = A.memorization_table(run, cfg)
    assert tab["converged"][np.asarray(tab["K"]) < 2048].all()
    assert not tab["converged"][np.asarray(tab["K"]) == 2048].any()
    fit = A.fit_memorization_scaling(tab, n_boot=300)
    assert fit.ok
    assert 2048.0 in fit.Ks_excluded and 2048.0 not in fit.Ks_used
    assert fit.nu == pytest.approx(0.7, abs=0.02)
    assert fit.nu_ci[0] < 0.7 < fit.nu_ci[1] or abs(fit.nu - 0.7) < 0.01
    assert fit.A == pytest.approx(2.0, rel=0.1)
    rows = A.kstar_table(fit, (10, 20, 30, 40))
    for r in rows:
        # K* solves A K^nu = N sqrt(2 pi)
        assert fit.A * r["k_star"] ** fit.nu == pytest.approx(T.t_icl_eq11(r["N"], 0.0), rel=1e-9)
        assert r["ci"][0] <= r["k_star"] <= r["ci"][1]
    assert np.all(np.diff([r["k_star"] for r in rows]) > 0)


def test_degenerate_data_do_not_raise(tmp_path):
    run, cfg = _synthetic_run((16, 64), 2, nu=0.7, A0=2.0, steps=400, every=100)  # far too short: none converge
    tab = A.memorization_table(run, cfg)
    fit = A.fit_memorization_scaling(tab, n_boot=50)
    assert not fit.ok and np.isnan(fit.nu)
    rows = A.kstar_table(fit, (4, 6))
    assert all(np.isnan(r["k_star"]) for r in rows)


def test_kstar_matches_eq13_form():
    """K* scales as N^(1/nu) and e^(-beta0/nu) (eq 13)."""
    k1 = A.kstar_from_scaling(10, 2.0, 0.7)
    k2 = A.kstar_from_scaling(20, 2.0, 0.7)
    assert k2 / k1 == pytest.approx(2 ** (1 / 0.7))
    assert A.kstar_from_scaling(10, 2.0, 0.7, beta0=0.5) / k1 == pytest.approx(np.exp(-0.5 / 0.7))


def test_invert_ik_identity_saturation_and_never():
    t = np.linspace(0, 100, 1001)
    assert A.invert_ik(t, t, [10.0, 55.5]) == pytest.approx([10.0, 55.5], abs=1e-9)
    ik = 40 * (1 - np.exp(-t / 10))  # saturates at 40: targets above are never reached
    tau = A.invert_ik(t, ik, [20.0, 39.0, 41.0])
    assert tau[0] == pytest.approx(10 * np.log(2), abs=1e-2)
    assert tau[1] == pytest.approx(-10 * np.log(1 / 40), abs=0.05)
    assert np.isposinf(tau[2])
