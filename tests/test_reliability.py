"""Boundary tests of issue 14 for theory.py: every bad argument is a clear ValueError (naming the argument)
raised before any computation, never a wrong number, a raw library error or a hang. The helpers here
(`time_limit`, `clear_error_or_result`, `FUZZ`, `any_float`, `any_n`) are shared by the other
tests/test_reliability_*.py files.

Property-based tests (hypothesis) draw arguments over wide ranges, bad values included, and accept exactly two
outcomes: a ValueError whose message names the argument, or a valid result. Each call runs under a timeout.
"""
from __future__ import annotations

import contextlib
import math
import signal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icl_kinetics import theory

FUZZ = settings(max_examples=40, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
CALL_TIMEOUT_S = 120.0  # a hang guard, not a speed test: a valid call here takes milliseconds


class Hang(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float = CALL_TIMEOUT_S):
    """Fail a call that runs longer than `seconds` (SIGALRM: the scipy/numpy loops return to Python often)."""
    def handler(signum, frame):
        raise Hang(f"call still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def clear_error_or_result(fn, *args, **kwargs):
    """Call `fn`; return ('error', message) for a ValueError, ('ok', result) otherwise. Anything else
    (another exception type, a hang) fails the test."""
    with time_limit():
        try:
            return "ok", fn(*args, **kwargs)
        except ValueError as e:
            msg = str(e)
            assert len(msg) > 10, f"uninformative message: {msg!r}"
            return "error", msg


# numbers a hostile but fair user might pass: good ones, and zero, negatives, huge, nan, inf
any_float = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                      st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300, math.nan, math.inf, -math.inf]))
any_n = st.one_of(st.integers(-5, 300), st.sampled_from([0, 1, 2, 2.0, 2.5, 10.0, math.nan, math.inf, True, "20"]))


# --------------------------------------------------------------------------------------- the cases
@pytest.mark.parametrize("call, match", [
    (lambda: theory.t_icl_eq11(-5, 0), "N=-5"),
    (lambda: theory.loss_exact(0, 0, -3), "N=-3"),
    (lambda: theory.integrate_icl_ode(0), "N=0"),
    (lambda: theory.integrate_icl_ode(-10), "N=-10"),  # hung for over ten minutes
    (lambda: theory.integrate_icl_ode(10, c1=-0.5), "c1=-0.5"),  # returned 22.3
    (lambda: theory.integrate_icl_ode(20, beta0=-40), "t_icl_eq37"),  # t_ICL ~ 1e36: beyond the solver
    (lambda: theory.integrate_icl_ode(20, beta0=5), "already at or above beta_threshold"),  # returned inf
    (lambda: theory.integrate_icl_ode(20, beta0=math.nan), "beta0=nan"),
    (lambda: theory.integrate_icl_ode(20, t_max=-1), "t_max=-1"),
    (lambda: theory.integrate_icl_ode(20, c1=(np.arange(3.0), np.ones(4))), "same length"),
    (lambda: theory.integrate_icl_ode(20.5), "N=20.5"),
    (lambda: theory.t_icl_ode(20, [0.0, math.inf]), "beta0"),
    (lambda: theory.t_icl_eq11(100, 0, c1=0), "c1=0"),
    (lambda: theory.t_icl_eq37(100, -4, c2=0), "c2=0"),
    (lambda: theory.loss_gaussian(0, 0, 1), "N=1"),
    (lambda: theory.loss_small_w(0, 0, 10, c1=1.5), "c1=1.5"),
    (lambda: theory.loss_exact([0, math.nan], 0, 10), "w="),
    (lambda: theory.loss_exact(0, 0, 10, phi_plus=[]), "empty"),
    (lambda: theory.loss_exact(0, 0, "10"), "N='10'"),
    (lambda: theory.mlp_order_parameters([math.inf]), "phi_plus"),
    (lambda: theory.grad_small_w(0, 0, 10, c2=-1), "c2=-1"),
    (lambda: theory.integrate_transience(0.0, 0.0), "t_max=0"),  # was an IndexError
    (lambda: theory.integrate_transience(0.0, 10.0, lambda_w=-1e-3), "lambda_w"),
    (lambda: theory.integrate_transience(0.0, 10.0, c3=-1.0), "c3=-1"),
    (lambda: theory.w_transient(1.0, 0.0), "lambda_w=0"),
    (lambda: theory.k_star_prediction(-1), "N=-1"),
    (lambda: theory.k_star_prediction(10, nu=0), "nu=0"),
    (lambda: theory.tau_k(np.arange(3.0), np.ones(2), 10), "same length"),
    (lambda: theory.simulate_gd_exact(10, lr=0), "lr=0"),
    (lambda: theory.simulate_gd_exact(10, n_steps=-1), "n_steps=-1"),
    (lambda: theory.mc_minimal_model_loss(0, 0, 10, 0, 10, np.random.default_rng(0)), "D=0"),
    (lambda: theory.mc_minimal_model_loss(0, 0, 10, 5, 10, 42), "rng=42"),
])
def test_theory_bad_arguments_are_clear_errors(call, match):
    kind, msg = clear_error_or_result(call)
    assert kind == "error" and match in msg, msg


def test_theory_closed_forms_accept_n_per_unit():
    """The book uses t_icl_eq11(1, 0) as 'time per unit of N': closed forms take any N > 0."""
    assert theory.t_icl_eq11(1, 0.0) == pytest.approx(math.sqrt(2 * math.pi))


# --------------------------------------------------------------------------------------- fuzzed theory
@FUZZ
@given(N=any_n, beta0=any_float, c1=any_float, c2=any_float, w0=st.floats(-5, 5))
def test_fuzz_integrate_icl_ode(N, beta0, c1, c2, w0):
    kind, out = clear_error_or_result(theory.integrate_icl_ode, N, beta0, w0, c1, c2)
    if kind == "ok":
        assert out.t_icl == math.inf or out.t_icl >= 0
        assert np.isfinite(out.t).all()
        assert isinstance(N, (int, float)) and not isinstance(N, bool) and N >= 2 and 0 < c1 < 1 and 0 < c2 <= 1
        assert math.isfinite(beta0) and beta0 < math.log(N)


@FUZZ
@given(N=st.one_of(any_n, st.floats(-1e3, 1e7)), beta0=any_float, c1=any_float)
def test_fuzz_closed_forms(N, beta0, c1):
    for fn in (lambda: theory.t_icl_eq11(N, beta0, c1), lambda: theory.t_icl_eq34(N, beta0, 0.3, c1),
               lambda: theory.t_icl_eq37(N, beta0, c1, 0.5)):
        kind, out = clear_error_or_result(fn)
        if kind == "ok":  # a time: >= 0 (0 and inf only through under/overflow of e^-beta0), never NaN
            assert np.all(np.asarray(out) >= 0), (N, beta0, c1, out)


@FUZZ
@given(N=st.one_of(st.integers(-3, 60), st.sampled_from([2.0, 2.5, math.nan])), w=any_float, beta=any_float,
       phi=st.one_of(st.floats(-30, 30), st.sampled_from([math.nan, math.inf])))
def test_fuzz_loss_landscape(N, w, beta, phi):
    for fn in (theory.loss_exact, theory.loss_gaussian, theory.loss_small_w, theory.loss_balanced,
               theory.loss_balanced_exact):
        kind, out = clear_error_or_result(fn, w, beta, N, phi)
        if kind == "ok":
            assert np.shape(out) == () and not np.isnan(out), (fn.__name__, N, w, beta, phi, out)


@FUZZ
@given(w0=any_float, t_max=any_float, lam=any_float, c3=any_float)
def test_fuzz_transience(w0, t_max, lam, c3):
    kind, out = clear_error_or_result(theory.integrate_transience, w0, t_max, c3, lam)
    if kind == "ok":
        t, w = out
        assert len(t) >= 1 and t[-1] <= t_max
    kind, out = clear_error_or_result(theory.w_transient, c3, lam)
    if kind == "ok":
        assert lam > 0
