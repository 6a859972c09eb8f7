"""The ICL acquisition ODE, eqs 7-8 (= 31-32), and its integration with constant or measured c1(t), c2(t).
Used by chapters 2 and 4."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import integrate

from .checks import _check_c1, _check_c2, _check_coefficient, _check_count, _check_n, _check_range, _num, _show
from .closed_forms import t_icl_eq11, t_icl_eq37


def _as_function(c) -> Callable[[float], float]:
    """A constant, a callable c(t), or a sampled curve (t, values) -> callable (linear interpolation,
    held constant outside the sampled range)."""
    if callable(c):
        return c
    if np.ndim(c) == 0:
        v = float(c)
        return lambda t: v
    t_s, v_s = (np.asarray(a, float) for a in c)
    return lambda t: float(np.interp(t, t_s, v_s))


def ode_rhs(t, y, N: int, c1=0.5, c2=0.5):
    """Right-hand side of eqs 7-8 (gradient flow on eq 6), y = (w, beta).

    dw/dt = (c1/N)(e^beta - c2 w),   dbeta/dt = (c1/N) w e^beta.
    ``c1``, ``c2`` may be constants or callables of t.
    """
    w, beta = y
    a = c1(t) if callable(c1) else c1
    b = c2(t) if callable(c2) else c2
    eb = np.exp(beta)
    return np.array([a / N * (eb - b * w), a / N * w * eb])


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
    (1e16; a more negative beta0 needs the asymptotic :func:`t_icl_eq37`). The solver gets ``max_evals``
    right-hand-side evaluations (the book's cases need < 4,000); running out is a ValueError, never a hang.
    """
    _check_n(N)
    for name, v in (("beta0", beta0), ("w0", w0)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name}={_show(v)}: must be a scalar (use t_icl_ode for a grid of beta0)")
        _num(name, v)
    _check_coefficient("c1", c1, _check_c1)
    _check_coefficient("c2", c2, _check_c2)
    if t_max is not None:
        _check_range("t_max", t_max, 0.0)
    if beta_threshold is not None:
        _num("beta_threshold", beta_threshold)
    _check_count("max_evals", max_evals, 1)
    f1, f2 = _as_function(c1), _as_function(c2)
    if beta_threshold is None:
        beta_threshold = float(np.log(N))
    if float(beta0) >= beta_threshold:
        raise ValueError(f"beta0={beta0!r} is already at or above beta_threshold={beta_threshold:.4g} (default "
                         "log N): ICL is acquired at t = 0, there is nothing to integrate")
    if t_max is None:
        scale = 1.0 / (2.0 * float(c1)) if np.ndim(c1) == 0 and not callable(c1) and float(c1) > 0 else 1.0
        t_max = 100.0 * scale * max(t_icl_eq11(N, beta0), t_icl_eq37(N, beta0), 1.0)
        if t_max > T_MAX_LIMIT:
            raise ValueError(f"beta0={beta0!r} at N={N}: eqs 7-8 predict t_ICL ~ {t_max / 100:.3g}, beyond what the "
                             f"solver integrates reliably (t_max {t_max:.3g} > {T_MAX_LIMIT:g}); use the asymptotic "
                             "t_icl_eq37(N, beta0, factor=0.5) for beta0 this negative")
    elif t_max > T_MAX_LIMIT:
        raise ValueError(f"t_max={t_max!r}: at most {T_MAX_LIMIT:g} (the solver breaks down beyond)")
    evals = [0]

    def rhs(t, y):
        evals[0] += 1
        if evals[0] > max_evals:
            raise _OutOfBudget
        return ode_rhs(t, y, N, f1, f2)

    def event(t, y):
        return y[1] - beta_threshold
    event.terminal = True
    event.direction = 1

    try:
        sol = integrate.solve_ivp(rhs, (0.0, t_max), [w0, beta0], method=method, events=event, rtol=rtol,
                                  atol=atol, t_eval=t_eval, dense_output=t_eval is None)
    except _OutOfBudget:
        raise ValueError(f"eqs 7-8 at N={N}, beta0={beta0!r}, w0={w0!r}: the solver used up its {max_evals} "
                         f"evaluations before t_max={t_max:.3g} (stiff or ill-posed coefficients?); "
                         "raise max_evals or check c1, c2") from None
    t_icl = float(sol.t_events[0][0]) if len(sol.t_events[0]) else np.inf
    return ODEResult(t=sol.t, w=sol.y[0], beta=sol.y[1], t_icl=t_icl, beta_threshold=beta_threshold, sol=sol)


def t_icl_ode(N: int, beta0, w0: float = 0.0, c1=0.5, c2=0.5, **kw):
    """t_ICL from integrating eqs 7-8 (see :func:`integrate_icl_ode`); vectorised over beta0."""
    b = _num("beta0", beta0)
    out = np.array([integrate_icl_ode(N, float(x), w0, c1, c2, **kw).t_icl for x in b.ravel()])
    return out.reshape(b.shape) if b.ndim else float(out[0])
