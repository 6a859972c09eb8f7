"""The ICL acquisition ODE, eqs 7-8 (= 31-32), and its integration with constant or measured c1(t), c2(t).
Used by chapters 2 and 4."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import integrate

from .checks import (EXP_SAFE, LOG_FLOAT_MAX, as_function, check_c1, check_c2, check_coefficient, check_count, check_n,
                     check_range, check_t_eval, check_tolerances, finite_array, finite_result, show, times_exp)
from .closed_forms import t_icl_eq11, t_icl_eq37


def _rhs_eq78(t, y, N, c1: Callable[[float], float], c2: Callable[[float], float]):
    """Eqs 7-8 unchecked (the integrator's inner loop), for callables c1, c2."""
    w, beta = y
    a, b = c1(t), c2(t)
    eb = np.exp(beta)
    return np.array([a / N * (eb - b * w), a / N * w * eb])


def eqs_7_8(w, beta, N, c1, c2):
    """Eqs 7-8, gradient flow on eq 6: (dw/dt, dbeta/dt). :func:`ode_rhs` checks the inputs and calls this."""
    dw_dt = c1 / N * (np.exp(beta) - c2 * w)      # (7)
    dbeta_dt = c1 / N * w * np.exp(beta)          # (8)
    return dw_dt, dbeta_dt


def ode_rhs(t, y, N: int, c1=0.5, c2=0.5):
    """Right-hand side of eqs 7-8 (:func:`eqs_7_8`) for an ODE solver, y = (w, beta).

    ``c1``, ``c2`` may be constants or callables of t. Checked: N an integer >= 2, y two finite numbers,
    c1 (or c1(t)) in (0, 1), c2 (or c2(t)) in (0, 1], and the result finite ((c1/N) e^beta is computed without the
    overflow of e^beta alone where beta > EXP_SAFE, so beta > 709 is fine while (c1/N) e^beta |w| < ~1e308).
    """
    check_n(N)
    yy = finite_array("y", y)
    if yy.shape != (2,):
        raise ValueError(f"y={show(y)}: must be the pair (w, beta); got shape {yy.shape}")
    w, beta = yy
    a = c1(t) if callable(c1) else c1
    b = c2(t) if callable(c2) else c2
    check_c1(a, "c1(t)" if callable(c1) else "c1")
    check_c2(b, "c2(t)" if callable(c2) else "c2")
    if beta <= EXP_SAFE:
        out = np.array(eqs_7_8(w, beta, N, a, b))
    else:  # the same equations with e^beta folded into its prefactor (e^beta alone overflows)
        out = np.array([times_exp(a / N, beta) - a / N * b * w, times_exp(a / N * w, beta)])
    return finite_result("the right-hand side of eqs 7-8", out,
                         "(c1/N) e^beta max(1, |w|) must stay below ~1e308, i.e. beta < 709 - log((c1/N) max(1, |w|))")


@dataclass
class ODEResult:
    """Trajectory of eqs 7-8. ``t_icl`` is the (gradient-flow) time at which beta reached
    ``beta_threshold`` (inf if it did not before ``t_max``)."""
    t: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    t_icl: float
    beta_threshold: float
    sol: object = field(repr=False, default=None)


T_MAX_LIMIT = 1e16  # beyond this gradient-flow time LSODA breaks down on eqs 7-8 (measured: from ~1.5e17 on)
BETA_MAX = 700.0    # the largest beta_threshold: e^beta (in eqs 7-8) overflows float64 from beta = 709.78 on


_METHODS = ("RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA")


class _OutOfBudget(Exception):
    pass


def integrate_icl_ode(N: int, beta0: float = 0.0, w0: float = 0.0, c1=0.5, c2=0.5, t_max: float | None = None,
                      beta_threshold: float | None = None, t_eval=None, rtol: float = 1e-8,
                      atol: float = 1e-10, method: str = "LSODA", max_evals: int = 200_000) -> ODEResult:
    """Integrate eqs 7-8 from (w0, beta0) with ``scipy.integrate.solve_ivp``.

    ``c1``, ``c2``: constants, callables c(t), or sampled curves ``(t_samples, values)`` (linearly
    interpolated, held constant beyond the last sample). Time is gradient-flow time (lr x iterations).

    Eqs 7-8 blow up in finite time once ICL is acquired (beta -> inf); a terminal event stops the
    integration when beta reaches ``beta_threshold`` (default log N, where the attention weight on the
    target's copy, e^beta/(e^beta + N - 1), is about 1/2). The time spent between beta = log N and the
    blow-up is O(1) (dbeta/dt ~ c1 w ~ 1 there), negligible against t_ICL ~ N, so t_ICL barely depends on
    the threshold (N = 100, beta0 = 0: 273.0 at log N, 273.6 at log N + 3).
    ``t_max`` defaults to 100 x (the larger of the eq 11 and eq 37 estimates), divided by 2 c1 for a constant c1.

    Checked first: N an integer >= 2, finite scalars beta0 < beta_threshold and w0, constant c1 in (0, 1) and c2
    in (0, 1] (callables are not checked; sampled curves must be finite), t_max > 0 and at most T_MAX_LIMIT
    (1e16; a more negative beta0 needs the asymptotic :func:`t_icl_eq37`), beta_threshold at most BETA_MAX (700,
    where e^beta is still finite), t_eval inside [0, t_max], rtol, atol > 0. The solver gets ``max_evals``
    right-hand-side evaluations (the book's cases need < 4,000); running out, a failed step or a non-finite
    trajectory (e.g. from a callable coefficient) is a ValueError, never a hang or a silent truncation.
    """
    check_n(N)
    for name, v in (("beta0", beta0), ("w0", w0)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name}={show(v)}: must be a scalar (use t_icl_ode for a grid of beta0)")
        finite_array(name, v)
    check_coefficient("c1", c1, check_c1)
    check_coefficient("c2", c2, check_c2)
    if t_max is not None:
        check_range("t_max", t_max, 0.0)
    if beta_threshold is not None:
        check_range("beta_threshold", beta_threshold, -np.inf, BETA_MAX, hi_open=False)
    check_tolerances(rtol, atol)
    check_count("max_evals", max_evals, 1)
    if not (isinstance(method, type) or method in _METHODS):
        raise ValueError(f"method={show(method)}: must be one of {', '.join(_METHODS)} (scipy.integrate.solve_ivp)")
    f1, f2 = as_function(c1), as_function(c2)
    if beta_threshold is None:
        beta_threshold = float(np.log(N))
    if float(beta0) >= beta_threshold:
        raise ValueError(f"beta0={beta0!r} is already at or above beta_threshold={beta_threshold:.4g} (default "
                         "log N): ICL is acquired at t = 0, there is nothing to integrate")
    if t_max is None:
        scale = 1.0 / (2.0 * float(c1)) if np.ndim(c1) == 0 and not callable(c1) and float(c1) > 0 else 1.0
        b0 = float(beta0)  # log of 100 scale max(eq 11, eq 37, 1), first, so that no closed form overflows
        log_t = np.log(100.0 * scale) + max(np.log(N) + np.log(np.sqrt(2 * np.pi)) - b0, np.log(N) - 2 * b0, 0.0)
        if log_t > np.log(T_MAX_LIMIT):
            t_show = f"{np.exp(log_t - np.log(100.0)):.3g}" if log_t < LOG_FLOAT_MAX else f"e^{log_t - np.log(100):.4g}"
            raise ValueError(f"beta0={beta0!r} at N={N}: eqs 7-8 predict t_ICL ~ {t_show}, beyond what the "
                             f"solver integrates reliably (t_max > {T_MAX_LIMIT:g}); use the asymptotic "
                             "t_icl_eq37(N, beta0, factor=0.5) for beta0 this negative")
        t_max = 100.0 * scale * max(t_icl_eq11(N, beta0), t_icl_eq37(N, beta0), 1.0)
    elif t_max > T_MAX_LIMIT:
        raise ValueError(f"t_max={t_max!r}: at most {T_MAX_LIMIT:g} (the solver breaks down beyond)")
    check_t_eval(t_eval, t_max)
    evals = [0]

    def rhs(t, y):
        evals[0] += 1
        if evals[0] > max_evals:
            raise _OutOfBudget
        return _rhs_eq78(t, y, N, f1, f2)

    def event(t, y):
        return y[1] - beta_threshold
    event.terminal = True
    event.direction = 1

    try:
        sol = integrate.solve_ivp(rhs, (0.0, t_max), [w0, beta0], method=method, events=event, rtol=rtol,
                                  atol=atol, t_eval=t_eval, dense_output=t_eval is None)
    except ValueError as e:  # scipy's event location (brentq on the dense output) across the blow-up of beta
        why = " ".join(str(e).split())
        raise ValueError(f"eqs 7-8 at N={N}, beta0={beta0!r}, w0={w0!r}: the solver failed near the finite-time "
                         f"blow-up of beta ({why}); use a beta_threshold nearer log N (measured: thresholds up to "
                         "~25 work)") from None
    except _OutOfBudget:
        raise ValueError(f"eqs 7-8 at N={N}, beta0={beta0!r}, w0={w0!r}: the solver used up its {max_evals} "
                         f"evaluations before t_max={t_max:.3g} (stiff or ill-posed coefficients?); "
                         "raise max_evals or check c1, c2") from None
    if sol.status < 0:
        why = " ".join(str(sol.message).split())  # one line
        raise ValueError(f"eqs 7-8 at N={N}, beta0={beta0!r}, w0={w0!r}: the solver failed ({why}); check c1 and c2")
    if not (np.all(np.isfinite(sol.y)) and np.all(np.isfinite(sol.t))):
        raise ValueError(f"eqs 7-8 at N={N}, beta0={beta0!r}, w0={w0!r}: the trajectory is not finite; a callable c1 "
                         "or c2 must return finite values in (0, 1) and (0, 1]")
    t_icl = float(sol.t_events[0][0]) if len(sol.t_events[0]) else np.inf
    return ODEResult(t=sol.t, w=sol.y[0], beta=sol.y[1], t_icl=t_icl, beta_threshold=beta_threshold, sol=sol)


def t_icl_ode(N: int, beta0, w0: float = 0.0, c1=0.5, c2=0.5, **kw):
    """t_ICL from integrating eqs 7-8 (see :func:`integrate_icl_ode`); vectorised over beta0."""
    b = finite_array("beta0", beta0)
    out = np.array([integrate_icl_ode(N, float(x), w0, c1, c2, **kw).t_icl for x in b.ravel()])
    return out.reshape(b.shape) if b.ndim else float(out[0])
