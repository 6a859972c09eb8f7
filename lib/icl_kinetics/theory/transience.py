"""Transience (section 3.7, appendix A.4-A.5): eq 44, the Lambert-W solution of eq 15 and the loss relations of
eq 16. Used by chapters 2, 6 and 11."""
from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy import special

from .checks import (as_function, check_coefficient, check_count, check_range, check_samples, check_t_eval,
                     check_tolerances, finite_array, finite_result, show, times_exp)
from .ode import T_MAX_LIMIT

_RHS_HINT = "c3 e^{-w} must stay below ~1e308, i.e. w > log(c3) - 709"


def _rhs_eq44(w, c, lambda_w):
    """Eq 44 unchecked: c e^{-w} - lambda_w w, with c e^{-w} computed without the overflow of e^{-w} alone."""
    return times_exp(c, -w) - lambda_w * w


def transience_rhs(t, w, c3=1.0, lambda_w: float = 1e-3):
    """Eq 44: dw/dt = c3 e^{-w} - lambda_w w (gradient flow on eq 43 = c3 e^{-w} + lambda_w w^2/2).
    ``c3`` may be a constant or a callable c3(t). Checked: w finite, lambda_w >= 0, c3 (or c3(t)) finite >= 0,
    and the result finite."""
    w = finite_array("w", w)
    check_range("lambda_w", lambda_w, 0.0, lo_open=False)
    c = c3(t) if callable(c3) else c3
    check_range("c3(t)" if callable(c3) else "c3", c, 0.0, lo_open=False)
    return finite_result("dw/dt of eq 44", _rhs_eq44(w, c, lambda_w), _RHS_HINT)


class _OutOfBudget(Exception):
    pass


def integrate_transience(w0: float, t_max: float, c3=1.0, lambda_w: float = 1e-3, t_eval=None,
                         rtol: float = 1e-8, atol: float = 1e-10, max_evals: int = 200_000):
    """Integrate eq 44 from w0 over [0, t_max] (gradient-flow time). ``c3``: constant, callable, or
    sampled curve (t, values). Returns (t, w). Checked: w0 finite, t_max in (0, T_MAX_LIMIT], lambda_w > 0,
    a constant c3 >= 0, c3 e^{-w0} finite, t_eval inside [0, t_max], rtol, atol > 0. The solver gets ``max_evals``
    right-hand-side evaluations; running out, a failed step or a non-finite w (e.g. from a callable c3) is a
    ValueError, never a hang or a silently truncated trajectory."""
    if np.ndim(w0) != 0:
        raise ValueError(f"w0={show(w0)}: must be a scalar")
    finite_array("w0", w0)
    check_range("t_max", t_max, 0.0, T_MAX_LIMIT, hi_open=False)
    check_range("lambda_w", lambda_w, 0.0)
    check_coefficient("c3", c3, lambda c: check_range("c3", c, 0.0, lo_open=False))
    check_t_eval(t_eval, t_max)
    check_tolerances(rtol, atol)
    check_count("max_evals", max_evals, 1)
    f3 = as_function(c3)
    c0 = f3(0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        r0 = _rhs_eq44(float(w0), c0, lambda_w)
    if not np.isfinite(r0):
        raise ValueError(f"eq 44 starts from a non-finite dw/dt ({r0}) at w0={show(w0)}, c3(0)={show(c0)}: c3 must be "
                         f"finite >= 0 and {_RHS_HINT}")
    evals = [0]

    def rhs(t, y):
        evals[0] += 1
        if evals[0] > max_evals:
            raise _OutOfBudget
        return [_rhs_eq44(y[0], f3(t), lambda_w)]

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            sol = integrate.solve_ivp(rhs, (0.0, t_max), [w0], method="LSODA", t_eval=t_eval, rtol=rtol, atol=atol)
    except _OutOfBudget:
        raise ValueError(f"eq 44 at w0={w0!r}, lambda_w={lambda_w!r}: the solver used up its {max_evals} "
                         f"evaluations before t_max={t_max:.3g} (stiff: c3 or lambda_w very large?); raise max_evals "
                         "or rescale") from None
    if sol.status < 0 or not np.all(np.isfinite(sol.y)):
        why = " ".join(str(sol.message).split())  # one line
        raise ValueError(f"eq 44 at w0={w0!r}, lambda_w={lambda_w!r}: the solver failed ({why}); "
                         "c3 and lambda_w must be finite and not extreme (lambda_w t_max and c3 e^{-w} moderate)")
    return sol.t, sol.y[0]


def w_transient(c3, lambda_w):
    """Quasi-steady state of eq 44, eqs 15/45: w_tr = W(c3 / lambda_w) (principal Lambert W, real part),
    the solution of w e^w = c3/lambda_w. Vectorised; lambda_w > 0 finite, c3 >= 0 finite (NaN in c3, a missing
    measurement, gives NaN). Where c3/lambda_w overflows float64, w is found from w + log w = log c3 - log lambda_w."""
    check_range("lambda_w", lambda_w, 0.0)
    c3 = check_samples("c3", c3, 0.0, np.inf)
    with np.errstate(over="ignore"):
        x = c3 / lambda_w
    w = special.lambertw(x).real
    big = np.isinf(x)
    if big.any():  # Newton on f(w) = w + log w - L (L > 709: w ~ L - log L, quadratic convergence)
        L = np.broadcast_to(np.log(c3) - np.log(lambda_w), x.shape)[big]
        v = L - np.log(L)
        for _ in range(8):
            v = v - (v + np.log(v) - L) / (1 + 1 / v)
        w = np.array(w, dtype=float)
        w[big] = v
        w = w[()]
    return w


def _loss(name: str, x) -> np.ndarray:
    try:
        check_range(name, x, 0.0)
    except ValueError:
        raise ValueError(f"{name}={show(x)}: a loss must be a finite number > 0 (eq 16 takes its log)") from None
    return np.asarray(x, float)


def iwl_loss_from_icl_loss(loss_icl):
    """First relation of eq 16 (= eq 46), valid after ICL acquisition while L_ICL << 1:
    L_IWL ~ -(1/2) log L_ICL. ``loss_icl`` must be finite and > 0."""
    return -0.5 * np.log(_loss("loss_icl", loss_icl))


def icl_loss_from_iwl_loss(loss_iwl):
    """Second relation of eq 16 (= eq 47), valid after ICL fades while L_IWL << 1:
    L_ICL ~ -(1/2) log L_IWL. ``loss_iwl`` must be finite and > 0."""
    return -0.5 * np.log(_loss("loss_iwl", loss_iwl))
