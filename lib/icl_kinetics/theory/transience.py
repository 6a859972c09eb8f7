"""Transience (section 3.7, appendix A.4-A.5): eq 44, the Lambert-W solution of eq 15 and the loss relations of
eq 16. Used by chapters 2, 6 and 11."""
from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy import special

from .checks import _check_coefficient, _check_range, _num, _show
from .ode import _as_function, T_MAX_LIMIT


def transience_rhs(t, w, c3=1.0, lambda_w: float = 1e-3):
    """Eq 44: dw/dt = c3 e^{-w} - lambda_w w (gradient flow on eq 43 = c3 e^{-w} + lambda_w w^2/2).
    ``c3`` may be a constant or a callable c3(t)."""
    c = c3(t) if callable(c3) else c3
    return c * np.exp(-w) - lambda_w * w


def integrate_transience(w0: float, t_max: float, c3=1.0, lambda_w: float = 1e-3, t_eval=None,
                         rtol: float = 1e-8, atol: float = 1e-10):
    """Integrate eq 44 from w0 over [0, t_max] (gradient-flow time). ``c3``: constant, callable, or
    sampled curve (t, values). Returns (t, w). Checked: w0 finite, t_max in (0, T_MAX_LIMIT], lambda_w > 0,
    a constant c3 >= 0."""
    if np.ndim(w0) != 0:
        raise ValueError(f"w0={_show(w0)}: must be a scalar")
    _num("w0", w0)
    _check_range("t_max", t_max, 0.0, T_MAX_LIMIT, hi_open=False)
    _check_range("lambda_w", lambda_w, 0.0)
    _check_coefficient("c3", c3, lambda c: _check_range("c3", c, 0.0, lo_open=False))
    f3 = _as_function(c3)
    sol = integrate.solve_ivp(lambda t, y: [transience_rhs(t, y[0], f3, lambda_w)], (0.0, t_max), [w0],
                              method="LSODA", t_eval=t_eval, rtol=rtol, atol=atol)
    return sol.t, sol.y[0]


def w_transient(c3, lambda_w):
    """Quasi-steady state of eq 44, eqs 15/45: w_tr = W(c3 / lambda_w) (principal Lambert W, real part),
    the solution of w e^w = c3/lambda_w. Vectorised; lambda_w > 0 (NaN in c3 gives NaN)."""
    _check_range("lambda_w", lambda_w, 0.0)
    return special.lambertw(np.asarray(c3, float) / lambda_w).real


def iwl_loss_from_icl_loss(loss_icl):
    """First relation of eq 16 (= eq 46), valid after ICL acquisition while L_ICL << 1:
    L_IWL ~ -(1/2) log L_ICL."""
    return -0.5 * np.log(np.asarray(loss_icl, float))


def icl_loss_from_iwl_loss(loss_iwl):
    """Second relation of eq 16 (= eq 47), valid after ICL fades while L_IWL << 1:
    L_ICL ~ -(1/2) log L_IWL."""
    return -0.5 * np.log(np.asarray(loss_iwl, float))
