"""Tests of lib/icl_kinetics/theory/closed_forms.py: the t_ICL closed forms, tau_K and K* against the integrated
ODE. Tolerances were set from measured errors (quoted in each test) with a margin."""
import numpy as np
import pytest

from icl_kinetics import theory as T


RNG_SEED = 20240601


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


def test_eq11_vs_ode_small_beta0(rng):
    """Eq 11 neglects the -c2 w term of eq 7, which only slows w down, so the ODE's t_ICL is larger:
    measured ODE/eq11 in [1.05, 1.16] for c1 = c2 = 1/2, |beta0| <= 0.5 (largest at beta0 = -0.5).
    Test: 1.0 <= ratio <= 1.2 (one-sided by construction, and within the paper's '~')."""
    for _ in range(6):
        N, b0 = int(rng.integers(20, 1000)), rng.uniform(-0.5, 0.5)
        ratio = T.t_icl_ode(N, b0) / T.t_icl_eq11(N, b0)
        assert 1.0 <= ratio <= 1.2, (N, b0, ratio)


def test_eq34_vs_ode_with_w0(rng):
    """Eq 34 (w0 != 0), with the sign-aware continuation for w0 < 0; same one-sided error as eq 11:
    measured ODE/eq34 in [1.05, 1.17] for |beta0|, |w0| <= 0.5. Test 1.0..1.22. The paper's formula used
    literally for w0 = -0.45 would be off by ~2x, which this test would catch."""
    for _ in range(8):
        N, b0, w0 = int(rng.integers(20, 1000)), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)
        ratio = T.t_icl_ode(N, b0, w0=w0) / T.t_icl_eq34(N, b0, w0)
        assert 1.0 <= ratio <= 1.22, (N, b0, w0, ratio)
    assert T.t_icl_eq34(100, 0.2, 0.0) == pytest.approx(T.t_icl_eq11(100, 0.2), rel=1e-12)


def test_eq37_vs_ode_large_negative_beta0(rng):
    """For -beta0 >> 1, exact integration of eq 36 gives t_ICL = N e^{-2 beta0} c2 / (2 c1); measured
    ODE / that in [1.000, 1.003] for beta0 in [-7, -4] and random c1, c2. Test: within 2%. The paper's
    eq 37 as printed (no 1/2) is therefore 2x too large: ODE / paper = 0.50 +- 0.01."""
    for _ in range(6):
        N, b0 = int(rng.integers(20, 1000)), rng.uniform(-7, -4)
        c1, c2 = rng.uniform(0.1, 0.5), rng.uniform(0.3, 1.0)
        t = T.t_icl_ode(N, b0, c1=c1, c2=c2)
        assert t / T.t_icl_eq37(N, b0, c1, c2, factor=0.5) == pytest.approx(1.0, abs=0.02)
        assert t / T.t_icl_eq37(N, b0, c1, c2) == pytest.approx(0.5, abs=0.01)


def test_tau_k_from_sampled_c1_vs_ode():
    """Eq 10 with c1(t) = 0.5 e^{-t/tm} (I_K(inf) = tm). For tm >= 1000 (>= 4x the eq 11 target 250.7)
    measured ODE / tau_K = 1.10 (tm = 2000), 1.10 (1000); same one-sided error as eq 11. Test 1.0..1.2."""
    N = 100
    assert T.i_k(np.linspace(0, 10, 101), np.full(101, 0.5))[-1] == pytest.approx(10.0)  # c1 = 1/2: I = t
    for tm in (1000.0, 2000.0):
        t = np.linspace(0, 20 * tm, 4001)
        c1 = 0.5 * np.exp(-t / tm)
        tau = T.tau_k(t, c1, N, 0.0)
        ode = T.integrate_icl_ode(N, 0.0, c1=(t, c1), c2=0.5, t_max=t[-1]).t_icl
        assert 1.0 <= ode / tau <= 1.2, (tm, tau, ode)


def test_tau_k_is_inf_when_c1_decays_too_fast():
    """I_K(inf) = tm = 125 < N sqrt(2 pi) = 250.7: eq 12 says ICL is never acquired; the ODE agrees."""
    N, tm = 100, 125.0
    t = np.linspace(0, 40 * tm, 4001)
    c1 = 0.5 * np.exp(-t / tm)
    assert T.i_k(t, c1)[-1] == pytest.approx(tm, rel=1e-3)
    assert T.tau_k(t, c1, N, 0.0) == np.inf
    assert T.integrate_icl_ode(N, 0.0, c1=(t, c1), c2=0.5, t_max=t[-1]).t_icl == np.inf
    # a higher beta0 lowers the target below I_K(inf): finite again
    assert np.isfinite(T.tau_k(t, c1, N, beta0=1.5))


def test_k_star_prediction_scaling():
    N = np.array([50, 100, 200, 400])
    k = T.k_star_prediction(N, beta0=0.3, nu=0.7, prefactor=2.0)
    assert np.polyfit(np.log(N), np.log(k), 1)[0] == pytest.approx(1 / 0.7)
    assert T.k_star_prediction(100, -0.7, 0.7) / T.k_star_prediction(100, 0.0, 0.7) == pytest.approx(np.e)
