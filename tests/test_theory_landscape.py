"""Tests of lib/icl_kinetics/theory/landscape.py: loss forms vs each other and vs Monte Carlo, gradient of eq 6 vs
eqs 7-8. Tolerances were set from measured errors (quoted in each test) with a margin."""
import numpy as np
import pytest
import torch

from icl_kinetics import theory as T


RNG_SEED = 20240601


@pytest.fixture
def rng():
    return np.random.default_rng(RNG_SEED)


def test_order_parameters_limits():
    assert T.mlp_order_parameters(0.0) == pytest.approx({"c1": 0.5, "c2": 0.5, "c3": 1.0})
    memorised = T.mlp_order_parameters(np.full(100, 30.0))
    assert memorised["c1"] < 1e-12 and memorised["c2"] == pytest.approx(1.0) and memorised["c3"] < 1e-12
    # c1 decreases and c2 increases as phi^+ shifts up (A.2)
    a, b = T.mlp_order_parameters([0.5, 1.0, 1.5]), T.mlp_order_parameters([1.5, 2.0, 2.5])
    assert b["c1"] < a["c1"] and b["c2"] > a["c2"] and b["c3"] < a["c3"]


def test_eq5_gaussian_matches_exact_binomial_at_N100(rng):
    """Eq 5 replaces Binomial(N,1/2) by a Gaussian. At N = 100 the measured max |difference| over
    w in [-6, 6], beta in [-3, 8] is 1.0e-5 (2e-6 of the range of L - log 2); at N = 20 it is 6e-4
    (the error decays faster than 1/N). Tolerance 3e-5 at N = 100, and we require the N = 20 error to be
    at least 10x larger (so the comparison is sensitive to the approximation)."""
    W, B = np.meshgrid(np.linspace(-6, 6, 25), np.linspace(-3, 8, 23))
    err100 = np.abs(T.loss_exact(W, B, 100) - T.loss_gaussian(W, B, 100)).max()
    err20 = np.abs(T.loss_exact(W, B, 20) - T.loss_gaussian(W, B, 20)).max()
    assert err100 < 3e-5
    assert err20 > 10 * err100
    # with a non-trivial sample of MLP logits too (measured 4.9e-6)
    phi = rng.normal(1.0, 1.5, 300)
    assert np.abs(T.loss_exact(W, B, 100, phi) - T.loss_gaussian(W, B, 100, phi)).max() < 3e-5


def test_eq20_without_symmetry_assumption_reduces_to_eq21(rng):
    phi = rng.normal(0.5, 1.0, 200)
    W, B = np.meshgrid(np.linspace(-3, 3, 7), np.linspace(-1, 4, 6))
    np.testing.assert_allclose(T.loss_exact(W, B, 50, phi, phi_minus=-phi), T.loss_exact(W, B, 50, phi), rtol=1e-12)
    # an asymmetric P^- changes the loss
    assert np.abs(T.loss_exact(W, B, 50, phi, phi_minus=phi) - T.loss_exact(W, B, 50, phi)).max() > 1e-2


def test_eq5_matches_monte_carlo_minimal_model(rng):
    """Eq 5 vs the minimal model's loss estimated on sampled sequences (eq 3 evaluated directly,
    D = 2000, N = 20, 3000 sequences, common random numbers across the 4 parameter points).
    Allowed: 4 standard errors (MC) + 2e-3 (finite-D bias; measured <= 1.0e-3 at D = 2000 with 10^6
    sequences, largest at w = 4, beta = 3) + 6e-4 (Gaussian vs binomial at N = 20, test above).
    The same check at D = 63 fails at (4, 3) by > 10 standard errors, so the test can fail."""
    w = np.array([0.5, 2.0, 4.0, -2.0])
    beta = np.array([0.0, 1.0, 3.0, 2.0])
    mc, se = T.mc_minimal_model_loss(w, beta, N=20, D=2000, n_seq=3000, rng=rng)
    theory = T.loss_gaussian(w, beta, 20)
    tol = 4 * se + 2e-3 + 6e-4
    assert np.all(np.abs(mc - theory) <= tol), (mc, theory, se)
    # sanity: at every point the effect of (w, beta) on the loss exceeds the tolerance
    assert np.all(np.abs(theory - np.log(2)) > 1.5 * tol)


def test_eq6_small_w_expansion_near_origin():
    """Eq 6 keeps the 1/N terms of L - L0; the neglected terms are O(1/N^2) (and O(w^3 N^{-3/2}) terms
    vanish by symmetry to this order), so the relative error of L - L0 should fall like 1/N. Measured
    max relative error for |w|, |beta| <= 0.5: 3.7e-2 (N = 20), 7.3e-3 (N = 100), 7.3e-4 (N = 1000)."""
    W, B = np.meshgrid(np.linspace(-0.5, 0.5, 11), np.linspace(-0.5, 0.5, 11))
    mask = W != 0
    errs = {}
    for N in (20, 100, 1000):
        ex = T.loss_exact(W, B, N) - np.log(2)
        sm = T.loss_small_w(W, B, N) - np.log(2)
        errs[N] = np.abs((sm - ex) / ex)[mask].max()
    assert errs[100] < 1e-2
    assert errs[1000] < 1e-3
    assert errs[100] / errs[1000] > 5  # ~1/N convergence (measured ratio 10)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_eq6_coefficients_c1_c2_match_taylor_expansion_of_eq5(rng):
    """With a non-trivial P^+, eq 6 (with c1, c2 from eqs 29-30) must match eq 5 to O(1/N^2) near the
    origin. Measured relative error of L - L0 at N = 1000: 7.7e-4. A wrong c2 (e.g. c2 = 1/2 instead of
    its value) is visible at this accuracy."""
    phi = rng.normal(1.0, 1.5, 400)
    L0 = np.mean(np.logaddexp(0, -phi))
    W, B = np.meshgrid(np.linspace(-1, 1, 9), np.linspace(-0.5, 0.5, 9))
    mask = W != 0
    ex = T.loss_gaussian(W, B, 1000, phi) - L0
    ok = np.abs((T.loss_small_w(W, B, 1000, phi) - L0 - ex) / ex)[mask].max()
    op = T.mlp_order_parameters(phi)
    bad = np.abs((T.loss_small_w(W, B, 1000, phi, c2=op["c2"] + 0.1) - L0 - ex) / ex)[mask].max()
    assert ok < 2e-3
    assert bad > 10 * ok


def test_gradient_of_eq6_equals_eqs_7_8(rng):
    """Autograd gradient of eq 6 is exactly minus the RHS of eqs 7-8 (float64 round-off only)."""
    for _ in range(5):
        N = int(rng.integers(10, 1000))
        c1, c2 = rng.uniform(0.05, 0.5), rng.uniform(0.5, 1.0)
        w0, b0 = rng.normal(0, 1), rng.normal(0, 1)
        w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
        loss = -(c1 / N) * (torch.exp(b) * w - c2 * w ** 2 / 2)  # eq 6 without its constant
        gw, gb = torch.autograd.grad(loss, (w, b))
        rhs = T.ode_rhs(0.0, [w0, b0], N, c1, c2)
        np.testing.assert_allclose([-gw.item(), -gb.item()], rhs, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(T.grad_small_w(w0, b0, N, c1, c2), -rhs, rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore:invalid value encountered in divide")
def test_eq9_balanced_origin_is_a_saddle():
    N, c1, h = 100, 0.5, 1e-3
    L = lambda w, b: T.loss_balanced(w, b, N)  # noqa: E731
    gw = (L(h, 0) - L(-h, 0)) / (2 * h)
    gb = (L(0, h) - L(0, -h)) / (2 * h)
    assert abs(gw) < 1e-10 and abs(gb) < 1e-10
    hww = (L(h, 0) - 2 * L(0, 0) + L(-h, 0)) / h ** 2
    hbb = (L(0, h) - 2 * L(0, 0) + L(0, -h)) / h ** 2
    hwb = (L(h, h) - L(h, -h) - L(-h, h) + L(-h, -h)) / (4 * h ** 2)
    eig = np.linalg.eigvalsh([[hww, hwb], [hwb, hbb]])
    assert eig[0] < 0 < eig[1]
    assert eig[1] == pytest.approx(c1 / N, rel=1e-3)  # Hessian of eq 9 at 0: [[0, -c1/N], [-c1/N, 0]]
    # eq 9 is the small-parameter expansion of the exact balanced loss (eta = 0 in eq 5)
    W, B = np.meshgrid(np.linspace(-0.5, 0.5, 5), np.linspace(-0.5, 0.5, 5))
    ex = T.loss_balanced_exact(W, B, N) - np.log(2)
    approx = T.loss_balanced(W, B, N) - np.log(2)
    m = np.abs(ex) > 1e-12
    assert np.abs((approx - ex) / ex)[m].max() < 2e-2
