"""Chapter 2, the minimal model against eqs 7-8: the learned beta's crossing of log N and the ODE integrated with
each member's measured c1(t), c2(t). Time in the ODE is gradient-flow time t = lr x iterations."""
from __future__ import annotations

import numpy as np

from .. import stats as st
from ..theory import integrate_icl_ode
from ..train import RunConfig
from .runs import n_context


def crossing_time(steps, curves, level: float) -> np.ndarray:
    """(E,) first time each row of `curves` (E, T) reaches `level`, linearly interpolated between the two
    evaluations around the crossing; NaN if never (:func:`icl_kinetics.stats.first_crossing`)."""
    return st.first_crossing(steps, curves, level, interpolate=True)


def member_icl_ode(run: dict, cfg: RunConfig, e: int, beta_threshold: float | None = None):
    """Eqs 7-8 for member `e` of a minimal-model run, integrated with the c1(t), c2(t) measured on its own MLP
    (probes ``c1``, ``c2``; linear interpolation between evaluations), from w0 = 0, beta0 = cfg.beta0, with
    N = :func:`n_context`. Returns (theory.ODEResult, steps): ``steps = ode.t / lr`` converts the ODE's
    gradient-flow time back to iterations."""
    t = cfg.lr * np.asarray(run["steps"], float)
    c1, c2 = np.asarray(run["c1"][e], float), np.asarray(run["c2"][e], float)
    ok = np.isfinite(c1) & np.isfinite(c2)
    ode = integrate_icl_ode(n_context(cfg), beta0=cfg.beta0, w0=0.0, c1=(t[ok], c1[ok]), c2=(t[ok], c2[ok]),
                            t_max=float(t[ok][-1]), beta_threshold=beta_threshold)
    return ode, ode.t / cfg.lr
