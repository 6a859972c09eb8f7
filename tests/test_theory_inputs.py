"""Extreme inputs to lib/icl_kinetics/theory: every public function either returns the finite, correct value
(computed in a stable form where the mathematics has one: checked against mpmath at 50 digits) or refuses with a
one-line ValueError that says what is wrong and what is allowed, raised before any large allocation. Each test
here failed before the fix (NaN, inf, a wrong number, a TypeError, MemoryError, a truncated trajectory or a
hang). No test depends on machine speed: budgets are counted in solver evaluations, not seconds."""
import math
import tracemalloc

import mpmath as mp
import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss

from icl_kinetics import theory as T

mp.mp.dps = 50


def one_line_error(call, match: str) -> str:
    """The ValueError `call` raises: one line, informative, containing `match`."""
    with pytest.raises(ValueError) as info:
        call()
    msg = str(info.value)
    assert "\n" not in msg and len(msg) > 20, msg
    assert match in msg, msg
    return msg


def rel(a, b) -> float:
    return float(abs((mp.mpf(float(a)) - b) / b))


def sp(x):
    """softplus log(1 + e^x) in mpmath."""
    return mp.log1p(mp.exp(x))


# ------------------------------------------------------------------ the losses at beta = 800 (e^beta overflows)
def ref_loss_exact(w, beta, N, p):
    """Eq 20 with phi^+ = p (a point mass; P^- symmetric) in 50-digit arithmetic."""
    w, eb = mp.mpf(w), mp.exp(mp.mpf(beta))
    r = [(eb + 2 * k - N - 1) / (eb + N - 1) for k in range(N + 1)]
    return sum(mp.binomial(N, k) / mp.mpf(2) ** N
               * (mp.mpf(k) / N * sp(-(p + w * r[k])) + mp.mpf(N - k) / N * sp(-(p + w * r[N - k])))
               for k in range(N + 1))


def ref_loss_gaussian(w, beta, N, p, n_quad=61):
    nodes, weights = hermegauss(n_quad)
    w, eb, sN = mp.mpf(w), mp.exp(mp.mpf(beta)), mp.sqrt(N)
    return sum(mp.mpf(q) / mp.sqrt(2 * mp.pi) * (1 + mp.mpf(eta) / sN)
               * sp(-(p + w * ((eb - 1) + mp.mpf(eta) * sN) / (eb + N - 1))) for eta, q in zip(nodes, weights))


def ref_loss_balanced_exact(w, beta, N, p):
    eb = mp.exp(mp.mpf(beta))
    return sp(-(p + mp.mpf(w) * (eb - 1) / (eb + N - 1)))


@pytest.mark.parametrize("w", [-3.0, 0.5, 2.0])
@pytest.mark.parametrize("beta", [800.0, 1e4])
def test_losses_are_finite_and_exact_at_huge_beta(w, beta):
    """Was NaN (e^beta = inf, inf/inf). Stable form: the copy's attention sigma(beta - log(N - 1))."""
    N, p = 10, 0.3
    assert rel(T.loss_exact(w, beta, N, p), ref_loss_exact(w, beta, N, p)) < 1e-12
    assert rel(T.loss_gaussian(w, beta, N, p), ref_loss_gaussian(w, beta, N, p)) < 1e-12
    assert rel(T.loss_balanced_exact(w, beta, N, p), ref_loss_balanced_exact(w, beta, N, p)) < 1e-12
    # the limit beta -> inf: all attention on the target's copy, z_ATT = w l_c
    assert float(T.loss_exact(w, beta, N, p)) == pytest.approx(float(sp(-(p + w))), rel=1e-12)


def test_gd_on_exact_loss_is_finite_at_huge_beta():
    """GD's torch loss (eq 21) and its autograd gradients were NaN at beta0 = 800; now finite, equal to eq 20."""
    g = T.simulate_gd_exact(10, beta0=800.0, w0=0.5, lr=1.0, n_steps=3)
    assert np.isfinite(g.loss).all() and np.isfinite(g.w).all() and np.isfinite(g.beta).all()
    assert g.loss[0, 0] == pytest.approx(float(T.loss_exact(0.5, 800.0, 10)), rel=1e-12)
    assert g.w[-1, 0] > 0.5  # dL/dw = -<sigma(-z) l_c ...> pushes w up: the gradient is not zero or NaN


# ------------------------------------------------------------------ eq 34 at large |w0|
def ref_t_icl_eq34(N, beta0, w0, c1=0.5):
    x = mp.mpf(w0) ** 2 / 2
    g = mp.gammainc(mp.mpf(1) / 2, x)
    if w0 < 0:
        g = 2 * mp.gamma(mp.mpf(1) / 2) - g
    return N * mp.sqrt(2) * g * mp.exp(x - beta0) / (2 * c1)


@pytest.mark.parametrize("N, beta0, w0", [(100, 0.0, 50.0), (100, 0.0, 1e3), (100, -600.0, 30.0), (100, 0.2, 38.0)])
def test_t_icl_eq34_finite_at_large_w0(N, beta0, w0):
    """Gamma(1/2, w0^2/2) underflowed and e^{w0^2/2} overflowed (NaN); now sqrt(pi) erfcx(w0/sqrt 2)."""
    assert rel(T.t_icl_eq34(N, beta0, w0), ref_t_icl_eq34(N, beta0, w0)) < 1e-13


def test_t_icl_eq34_refuses_only_a_truly_overflowing_time():
    """w0 = -50 at beta0 = 0: t_ICL ~ e^1256, beyond float64 (was NaN)."""
    one_line_error(lambda: T.t_icl_eq34(100, 0.0, -50.0), "overflows float64")


# ------------------------------------------------------------------ eq 16, tau_K, K*
@pytest.mark.parametrize("fn, name", [(T.iwl_loss_from_icl_loss, "loss_icl"), (T.icl_loss_from_iwl_loss, "loss_iwl")])
@pytest.mark.parametrize("bad", [-1, 0.0, math.nan, math.inf, [0.1, -0.2]])
def test_eq16_refuses_a_loss_that_is_not_positive_and_finite(fn, name, bad):
    """-1/2 log L: was NaN (L < 0), inf (L = 0) or -inf (L = inf)."""
    one_line_error(lambda: fn(bad), f"{name}=")


@pytest.mark.parametrize("t", [np.linspace(10.0, 0.0, 11), np.r_[0.0, 1.0, 1.0, np.arange(2.0, 10.0)]])
def test_tau_k_refuses_times_that_do_not_strictly_increase(t):
    """A decreasing t gave I_K < 0 and tau_K = inf (no error)."""
    one_line_error(lambda: T.tau_k(t, np.full(t.size, 0.5), 2), "strictly increasing")


@pytest.mark.parametrize("nu", [None, "0.7", math.nan, math.inf, -0.5])
def test_k_star_prediction_nu_must_be_a_finite_positive_number(nu):
    """nu=None was a TypeError; NaN, inf and a negative scalar nu returned NaN, 1 or a meaningless number."""
    one_line_error(lambda: T.k_star_prediction(100, 0.0, nu), "must be a finite positive number")


# ------------------------------------------------------------------ sizes: refused before allocating
@pytest.mark.parametrize("call, match", [
    (lambda: T.loss_exact(0.0, 0.0, 10 ** 9), "N=1000000000: must be at most"),
    (lambda: T.simulate_gd_exact(10 ** 9), "N=1000000000: must be at most"),
    (lambda: T.simulate_gd_exact(10, n_steps=10 ** 12), "GD trajectory ((n_steps + 1) x runs) would need"),
    (lambda: T.simulate_gd_exact(10 ** 5, beta0=np.zeros(1000), n_steps=1), "per-step loss tensors (runs x (N + 1))"),
    (lambda: T.loss_gaussian(np.zeros((10 ** 5, 1)), np.zeros((1, 10 ** 5)), 10), "(w, beta) grid would need"),
    (lambda: T.loss_small_w(np.zeros((10 ** 5, 1)), np.zeros((1, 10 ** 5)), 10), "more than the limit 5e+07"),
    (lambda: T.loss_gaussian(0.0, 0.0, 20, n_quad=10 ** 6), "n_quad=1000000: must be an integer in [1, 300]"),
    (lambda: T.mc_minimal_model_loss(0.0, 0.0, 10 ** 6, 10 ** 6, 10, np.random.default_rng(0)), "limit 5e+07"),
    (lambda: T.mc_minimal_model_loss(np.zeros(100), np.zeros(100), 10, 10, 10 ** 9, np.random.default_rng(0)),
     "per-sequence losses (parameter points x n_seq) would need an array of 1e+11 elements, more than the limit"),
])
def test_huge_sizes_are_refused_before_any_large_allocation(call, match):
    """Was a MemoryError, a torch allocator error or an attempt at gigabytes; now a ValueError with the limit,
    raised while the traced numpy memory is still small."""
    tracemalloc.start()
    try:
        msg = one_line_error(call, match)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20e6, (peak, msg)


# ------------------------------------------------------------------ stable forms in the other functions
def test_other_functions_give_finite_values_where_the_mathematics_is_finite():
    """Each of these overflowed to inf, -inf or NaN before (e^beta, e^-w, e^-phi or c3/lambda alone overflowed)."""
    e = mp.e
    # eq 6 and eq 9 at w = 0: the e^beta w term is 0 (was inf * 0 = NaN)
    assert T.loss_small_w(0.0, 800.0, 10) == pytest.approx(math.log(2), rel=1e-15)
    assert T.loss_balanced(0.0, 800.0, 10) == pytest.approx(math.log(2), rel=1e-15)
    # eq 6 where (c1/N) e^beta w is finite but e^beta is not: log 2 - (1/2)(1e-9)(e^720 1e-5 - w^2/4)
    assert rel(T.loss_small_w(1e-5, 720.0, 10 ** 9), mp.log(2) - mp.mpf("0.5e-9") * (e ** 720 * mp.mpf("1e-5")
                                                                                     - mp.mpf("1e-10") / 4)) < 1e-12
    # eqs 7-8: dw/dt = (c1/N) e^beta at w = 0
    dw, db = T.ode_rhs(0.0, [0.0, 720.0], 10 ** 9)
    assert rel(dw, mp.mpf("0.5e-9") * e ** 720) < 1e-12 and db == 0.0
    # eq 44: c3 e^{-w} - lambda w with e^{-w} = e^720 and c3 = 1e-10
    assert rel(T.transience_rhs(0.0, -720.0, 1e-10, 1e-3), mp.mpf("1e-10") * e ** 720 + mp.mpf("0.72")) < 1e-12
    # c3 = <e^{-phi}> = (e^710 + 1)/2 < 1.8e308 (log-sum-exp)
    assert rel(T.mlp_order_parameters([-710.0, 0.0])["c3"], (e ** 710 + 1) / 2) < 1e-12
    # w_tr = W(1e600): c3/lambda_w overflows, W does not
    assert rel(T.w_transient(1e300, 1e-300), mp.lambertw(mp.mpf(10) ** 600).real) < 1e-13
    # eq 11 in log space: 1e-300 sqrt(2 pi) e^710 (e^{-beta0} alone overflows)
    assert rel(T.t_icl_eq11(1e-300, -710.0), mp.mpf("1e-300") * mp.sqrt(2 * mp.pi) * e ** 710) < 1e-12
    # an integral float N is a context length for the Monte-Carlo loss too (was a TypeError in numpy)
    a = T.mc_minimal_model_loss(0.5, 0.0, 10.0, 5, 10, np.random.default_rng(0))
    b = T.mc_minimal_model_loss(0.5, 0.0, 10, 5, 10, np.random.default_rng(0))
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ refusals in the other public functions
t3 = np.array([0.0, 1.0, 2.0])
REFUSED = [
    # results that would overflow float64 (were inf, -inf or NaN)
    (lambda: T.loss_small_w(1.0, 800.0, 10), "eq 6 loss is not finite"),
    (lambda: T.loss_balanced(1.0, 800.0, 10), "eq 9 loss is not finite"),
    (lambda: T.grad_small_w(1.0, 800.0, 10), "dL/dw of eq 6 is not finite"),
    (lambda: T.ode_rhs(0.0, [1.0, 800.0], 10), "eqs 7-8 is not finite"),
    (lambda: T.transience_rhs(0.0, -800.0), "eq 44 is not finite"),
    (lambda: T.mlp_order_parameters([-1e5]), "c3 = <e^{-phi_plus}>"),
    (lambda: T.t_icl_eq11(100, -1000.0), "t_ICL of eq 11 = e^1006 overflows"),
    (lambda: T.t_icl_eq37(100, -400.0), "t_ICL of eq 37"),
    (lambda: T.k_star_prediction(100, 0.0, 1e-3), "K* = e^4605 overflows"),
    (lambda: T.tau_k(t3, np.full(3, 0.5), 2, -1000.0), "overflows float64"),
    (lambda: T.i_k_prime(t3, np.full(3, 0.5), [1e-320, 0.5, 0.5]), "c1/c2 overflows"),
    (lambda: T.mc_minimal_model_loss(0.5, 1e308, 10, 5, 10, np.random.default_rng(0)), "Monte-Carlo loss"),
    (lambda: T.loss_gaussian(0.0, 0.0, 20, n_quad=500), "n_quad=500"),  # numpy's weights are NaN there
    (lambda: T.simulate_gd_exact(10, lr=1e300, n_steps=5), "gradient descent diverged"),
    # non-finite or out-of-range arguments (were NaN, inf or a meaningless number)
    (lambda: T.ode_rhs(0.0, [1.0, math.nan], 10), "y="),
    (lambda: T.ode_rhs(0.0, [0.0, 0.0], 1), "N=1"),
    (lambda: T.ode_rhs(0.0, [0.0, 0.0], 10.5), "N=10.5"),
    (lambda: T.ode_rhs(0.0, [0.0, 0.0], 10, c1=-0.5), "c1=-0.5"),
    (lambda: T.ode_rhs(0.0, [0.0, 0.0], 10, c2=lambda t: math.nan), "c2(t)=nan"),
    (lambda: T.transience_rhs(0.0, math.nan), "w="),
    (lambda: T.transience_rhs(0.0, 0.0, c3=-1.0), "c3=-1.0"),
    (lambda: T.w_transient(math.inf, 1.0), "c3=inf"),
    (lambda: T.w_transient(-1.0, 1.0), "c3=-1.0"),
    (lambda: T.i_k([2.0, 1.0, 0.0], np.full(3, 0.5)), "strictly increasing"),
    (lambda: T.i_k(t3, [0.5, math.inf, 0.5]), "c1="),
    (lambda: T.i_k(t3, [0.5, -0.5, 0.5]), "c1="),
    (lambda: T.i_k(t3, np.full(4, 0.5)), "must be sampled at the times t"),
    (lambda: T.i_k_prime(t3, np.full(3, 0.5), np.zeros(3)), "c2="),
    (lambda: T.tau_k(t3, [0.5, -0.5, 0.5], 2), "c1="),
    (lambda: T.loss_exact(np.zeros(3), np.zeros(4), 10), "must broadcast against each other"),
    (lambda: T.simulate_gd_exact(10, beta0=np.zeros(3), w0=np.zeros(4)), "must broadcast against each other"),
    # integrators: no hang, no silently truncated or non-finite trajectory, no raw scipy message
    (lambda: T.integrate_transience(-800.0, 10.0), "non-finite dw/dt"),  # hung
    (lambda: T.integrate_transience(0.0, 10.0, 1.0, 1e300), "the solver failed"),  # returned t = [0]
    (lambda: T.integrate_transience(0.0, 10.0, 1e300, 1e-3, max_evals=2000), "used up its 2000"),  # hung
    (lambda: T.integrate_transience(0.0, 10.0, lambda t: math.nan), "c3(0)=nan"),
    (lambda: T.integrate_transience(0.0, 10.0, rtol=math.nan), "rtol=nan"),
    (lambda: T.integrate_transience(0.0, 10.0, t_eval=[0.0, math.nan]), "t_eval="),
    (lambda: T.integrate_transience(0.0, 10.0, t_eval=[0.0, 20.0]), "t_eval="),
    (lambda: T.integrate_icl_ode(20, c1=lambda t: math.nan), "trajectory is not finite"),  # returned t_icl = inf
    (lambda: T.integrate_icl_ode(20, rtol=math.nan), "rtol=nan"),
    (lambda: T.integrate_icl_ode(20, t_eval=np.array([0.0, math.nan])), "t_eval="),
    (lambda: T.integrate_icl_ode(20, beta_threshold=1000.0), "beta_threshold=1000.0"),
    (lambda: T.integrate_icl_ode(20, beta_threshold=700.0), "blow-up of beta"),  # raw 'f(a) and f(b) ...'
    (lambda: T.integrate_icl_ode(20, method="nope"), "method='nope'"),
]


@pytest.mark.parametrize("call, match", REFUSED, ids=[m for _, m in REFUSED])
def test_other_public_functions_refuse_bad_or_overflowing_inputs(call, match):
    one_line_error(call, match)
