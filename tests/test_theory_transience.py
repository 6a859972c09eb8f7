"""Tests of lib/icl_kinetics/theory/transience.py: the Lambert-W solution of eq 44 and the loss relations of eq 16."""
import numpy as np
import pytest

from icl_kinetics import theory as T


RNG_SEED = 20240601


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


def test_lambert_w_transient(rng):
    c3 = 10 ** rng.uniform(-4, 0, 20)
    lam = 10 ** rng.uniform(-5, -2, 20)
    w = T.w_transient(c3, lam)
    np.testing.assert_allclose(w * np.exp(w), c3 / lam, rtol=1e-10)
    # the fixed point of eq 44 is W(c3/lambda) (integrated to t = 20/lambda >> relaxation time)
    t, wt = T.integrate_transience(0.0, 2e4, c3=1.0, lambda_w=1e-3)
    assert wt[-1] == pytest.approx(T.w_transient(1.0, 1e-3), rel=1e-5)
    # W(x) = 1 at x = e: ICL fades (w_tr ~ 1) when c3 ~ lambda_w up to an O(1) factor
    assert T.w_transient(np.e * 1e-3, 1e-3) == pytest.approx(1.0)


def test_eq16_relations():
    w = np.array([3.0, 5.0, 8.0])
    # after ICL: L_ICL ~ e^{-w}, L_IWL ~ w/2
    np.testing.assert_allclose(T.iwl_loss_from_icl_loss(np.exp(-w)), w / 2)
    xi = np.array([4.0, 6.0])
    np.testing.assert_allclose(T.icl_loss_from_iwl_loss(np.exp(-xi)), xi / 2)
