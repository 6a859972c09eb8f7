"""Theory of the minimal model (paper sections 3.3-3.7, appendix A.1-A.5).

Everything here is plain numpy/scipy except :func:`simulate_gd_exact`, which uses torch autograd.
Equation numbers refer to the paper. Notation:

* ``w``, ``beta``: the two attention "order parameters" of the minimal model (eq 2/3).
* ``N``: context length.
* ``phi_plus``: MLP logits on the items of the dataset whose label is +1 (a sample of the
  distribution P^+, eq 5). ``phi_plus=0`` (the default) means the MLP does not contribute
  (z_MLP = 0), so that c1 = c2 = 1/2 and c3 = 1.

Time convention. ``t`` in every ODE / closed form below is *gradient-flow time*: with plain gradient
descent at learning rate ``lr`` on the (per-sequence average) loss, ``t = lr x iterations``. Eqs 7-8
are exactly gradient flow on eq 6 in these units (see :func:`ode_rhs` and :func:`simulate_gd_exact`).

Loss-landscape functions are vectorised: ``w`` and ``beta`` broadcast against each other (e.g. the
output of ``numpy.meshgrid``) and the result has their broadcast shape; the average over the
sample ``phi_plus`` is taken inside.

Arguments are checked before any computation (a ValueError naming the argument): the context length N is an
integer >= 2 (in the closed forms for t_ICL and K*, which are linear in N, any N > 0), c1 lies in (0, 1) and c2
in (0, 1], weight decays and learning rates are > 0, times are > 0, and every number is finite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import integrate, special, stats

__all__ = [
    "loss_exact", "loss_gaussian", "loss_small_w", "loss_balanced", "loss_balanced_exact",
    "grad_small_w", "mlp_order_parameters", "ode_rhs", "ODEResult", "integrate_icl_ode",
    "t_icl_ode", "t_icl_eq11", "t_icl_eq34", "t_icl_eq37", "i_k", "i_k_prime", "tau_k",
    "transience_rhs", "integrate_transience", "w_transient", "iwl_loss_from_icl_loss",
    "icl_loss_from_iwl_loss", "k_star_prediction", "GDResult", "simulate_gd_exact",
    "mc_minimal_model_loss",
]


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _softplus(x):
    """log(1 + e^x), numerically stable; -log sigma(z) = softplus(-z)."""
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return special.expit(x)


def _show(x) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def _num(name: str, x) -> np.ndarray:
    """`x` as a float array; ValueError unless it is made of finite numbers."""
    if isinstance(x, (str, bytes)) or callable(x):
        raise ValueError(f"{name}={_show(x)}: must be a number or an array of numbers")
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={_show(x)}: must be a number or an array of numbers") from None
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}={_show(x)}: must be finite")
    return a


def _check_range(name: str, x, lo: float, hi: float = np.inf, lo_open: bool = True, hi_open: bool = True):
    """ValueError unless every element of `x` is a finite number in the interval (lo, hi) (brackets as given)."""
    a = _num(name, x)
    ok = (a > lo if lo_open else a >= lo) & (a < hi if hi_open else a <= hi)
    if not np.all(ok):
        if hi == np.inf:
            raise ValueError(f"{name}={_show(x)}: must be {'>' if lo_open else '>='} {lo:g}")
        raise ValueError(f"{name}={_show(x)}: must lie in {'(' if lo_open else '['}{lo:g}, {hi:g}"
                         f"{')' if hi_open else ']'}")


def _check_n(N, name: str = "N") -> None:
    """The context length: an integer >= 2 (an integral float is accepted)."""
    a = None if isinstance(N, (str, bytes)) else np.asarray(N)
    if (a is None or a.ndim != 0 or a.dtype.kind not in "iuf" or not np.isfinite(a) or a != np.floor(a)
            or a < 2):
        raise ValueError(f"{name}={_show(N)}: the context length must be an integer >= 2")


def _check_count(name: str, n, lo: int) -> None:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < lo:
        raise ValueError(f"{name}={_show(n)}: must be an integer >= {lo}")


def _check_c1(c1, name: str = "c1") -> None:
    _check_range(name, c1, 0.0, 1.0)  # c1 = <sigma(-phi+)>: the MLP's error probability


def _check_c2(c2, name: str = "c2") -> None:
    _check_range(name, c2, 0.0, 1.0, hi_open=False)  # c2 = 1 - <sigma^2>/<sigma>


def _check_coefficient(name: str, c, check_constant) -> None:
    """A coefficient of eqs 7-8 / 44: a constant (checked by `check_constant`), a callable c(t) (not checked),
    or a sampled curve (t, values): two finite 1-d arrays of one length >= 1 with t non-decreasing."""
    if callable(c):
        return
    if not (isinstance(c, (tuple, list)) or (isinstance(c, np.ndarray) and c.ndim > 0)):
        check_constant(c)
        return
    try:
        t_s, v_s = c
    except (TypeError, ValueError):
        raise ValueError(f"{name}={_show(c)}: must be a constant, a callable c(t) or a sampled curve "
                         "(t_samples, values)") from None
    t_s, v_s = _num(f"{name} sample times", t_s), _num(f"{name} values", v_s)
    if t_s.ndim != 1 or t_s.shape != v_s.shape or t_s.size < 1:
        raise ValueError(f"{name}: a sampled curve needs two 1-d arrays of the same length >= 1; got shapes "
                         f"{t_s.shape} and {v_s.shape}")
    if np.any(np.diff(t_s) < 0):
        raise ValueError(f"{name}: the sample times of a sampled curve must be non-decreasing")


def _phi(phi_plus) -> np.ndarray:
    """The MLP-logit sample as a flat float array (a scalar means a point mass); finite and non-empty."""
    phi = np.atleast_1d(_num("phi_plus", phi_plus)).ravel()
    if phi.size == 0:
        raise ValueError("phi_plus: the sample of MLP logits is empty")
    return phi


def _landscape_args(w, beta, N) -> None:
    _check_n(N)
    _num("w", w)
    _num("beta", beta)


def _mean_over_phi(fn, z, phi, chunk_elems: int = 2_000_000):
    """<fn(phi + z)>_phi for z of any shape, averaging over the 1-d sample phi in memory-bounded chunks."""
    z = np.asarray(z, dtype=float)
    if phi.size == 1:
        return fn(phi[0] + z)
    out = np.zeros(z.shape)
    step = max(1, chunk_elems // max(1, z.size))
    for i in range(0, phi.size, step):
        p = phi[i:i + step]
        out += fn(z[..., None] + p).sum(axis=-1)
    return out / phi.size


# ----------------------------------------------------------------------------------------------
# loss landscape (section 3.3, appendix A.1-A.2)
# ----------------------------------------------------------------------------------------------
def loss_exact(w, beta, N: int, phi_plus=0.0, phi_minus=None):
    """Exact average loss of the minimal model in the D -> inf, K >> N limit: eq 20 (and eq 21).

    n_+ ~ Binomial(N, 1/2) is the number of +1 labels in the context, the target is a uniformly chosen
    context item (so P(l_c = +1 | n_+) = n_+/N), and the attention logit is eq 19,
    ``z_ATT = w (e^beta l_c + 2 n_+ - N - l_c) / (e^beta + N - 1)``.

    ``phi_minus=None`` assumes the label symmetry P^-(phi) = P^+(-phi) (assumption 3 of A.1), in which
    case eq 20 equals eq 21 (the factor-2 form) exactly. Pass ``phi_minus`` (a sample of the MLP logits
    on the -1 items) to evaluate eq 20 without that assumption.
    """
    _landscape_args(w, beta, N)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi_p = _phi(phi_plus)
    phi_m = -phi_p if phi_minus is None else _phi(phi_minus)
    eb = np.exp(beta)
    denom = eb + N - 1
    n = np.arange(N + 1)
    pmf = stats.binom.pmf(n, N, 0.5)
    out = np.zeros(w.shape)
    for k, b in zip(n, pmf):
        if b < 1e-300:
            continue
        # target label +1 (probability k/N): logit phi^+ + z_ATT
        if k > 0:
            z = w * (eb + 2 * k - N - 1) / denom
            out += (k / N) * b * _mean_over_phi(lambda x: _softplus(-x), z, phi_p)
        # target label -1 (probability (N-k)/N): loss -log sigma(-(phi^- + z_ATT)) = -log sigma(-phi^- + w(...))
        if k < N:
            z = w * (eb + N - 2 * k - 1) / denom
            out += ((N - k) / N) * b * _mean_over_phi(lambda x: _softplus(-x), z, -phi_m)
    return out


def loss_gaussian(w, beta, N: int, phi_plus=0.0, n_quad: int = 61):
    """Gaussian (large-N) form of the loss, eq 5 = eq 22.

    ``L = -< (1 + eta/sqrt N) log sigma(phi^+ + w ((e^beta - 1) + eta sqrt N) / (e^beta + N - 1)) >``
    with eta ~ N(0, 1), evaluated with ``n_quad``-point probabilists' Gauss-Hermite quadrature
    (``numpy.polynomial.hermite_e.hermegauss``; weights normalised by sqrt(2 pi)).
    """
    _landscape_args(w, beta, N)
    _check_count("n_quad", n_quad, 1)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi = _phi(phi_plus)
    nodes, weights = hermegauss(n_quad)
    weights = weights / np.sqrt(2 * np.pi)
    eb = np.exp(beta)
    denom = eb + N - 1
    out = np.zeros(w.shape)
    for eta, q in zip(nodes, weights):
        z = w * ((eb - 1) + eta * np.sqrt(N)) / denom
        out += q * (1 + eta / np.sqrt(N)) * _mean_over_phi(lambda x: _softplus(-x), z, phi)
    return out


def _loss_mlp(phi):
    """<log(1 + e^{-phi^+})>: the MLP's own loss, first term of eqs 6 and 9."""
    return float(np.mean(_softplus(-phi)))


def loss_small_w(w, beta, N: int, phi_plus=0.0, c1=None, c2=None):
    """Small-w, small-beta expansion of the loss, eq 6 = eq 28.

    ``L ~ <log(1 + e^{-phi^+})> - (c1/N) (e^beta w - c2 w^2 / 2)``, valid for |w| << sqrt(N) and
    e^beta - 1 << N. c1, c2 default to their values for the sample ``phi_plus`` (eqs 29-30); if given
    explicitly, the constant first term is still computed from ``phi_plus``.
    """
    _landscape_args(w, beta, N)
    if c1 is not None:
        _check_c1(c1)
    if c2 is not None:
        _check_c2(c2)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi = _phi(phi_plus)
    op = mlp_order_parameters(phi)
    c1 = op["c1"] if c1 is None else c1
    c2 = op["c2"] if c2 is None else c2
    return _loss_mlp(phi) - (c1 / N) * (np.exp(beta) * w - c2 * w ** 2 / 2)


def grad_small_w(w, beta, N: int, c1: float = 0.5, c2: float = 0.5):
    """Analytic gradient (dL/dw, dL/dbeta) of eq 6: (-(c1/N)(e^beta - c2 w), -(c1/N) w e^beta)."""
    _landscape_args(w, beta, N)
    _check_c1(c1)
    _check_c2(c2)
    w = np.asarray(w, float)
    beta = np.asarray(beta, float)
    return -(c1 / N) * (np.exp(beta) - c2 * w), -(c1 / N) * w * np.exp(beta)


def loss_balanced(w, beta, N: int, phi_plus=0.0, c1=None):
    """Balanced-context loss (exactly N/2 labels of each sign), small-parameter form, eq 9.

    ``L' ~ <log(1 + e^{-phi^+})> - (c1/N) w (e^beta - 1)``. The origin is a saddle point.
    """
    _landscape_args(w, beta, N)
    if c1 is not None:
        _check_c1(c1)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi = _phi(phi_plus)
    c1 = mlp_order_parameters(phi)["c1"] if c1 is None else c1
    return _loss_mlp(phi) - (c1 / N) * w * (np.exp(beta) - 1)


def loss_balanced_exact(w, beta, N: int, phi_plus=0.0):
    """Balanced-context loss before expansion: eq 5 with eta = 0.

    With exactly N/2 labels of each sign, sum_{j != c} l_j = -l_c, so z_ATT = w l_c (e^beta - 1)/(e^beta + N - 1)
    exactly (in the D -> inf limit), and ``L' = <-log sigma(phi^+ + w (e^beta - 1)/(e^beta + N - 1))>``.
    """
    _landscape_args(w, beta, N)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    eb = np.exp(beta)
    z = w * (eb - 1) / (eb + N - 1)
    return _mean_over_phi(lambda x: _softplus(-x), z, _phi(phi_plus))


def mlp_order_parameters(phi_plus) -> dict:
    """MLP-specific order parameters from a sample of logits phi^+ (MLP applied to the +1 items).

    * c1 = <sigma(-phi^+)> (eq 29): the MLP's error probability; 1/2 at phi^+ = 0, -> 0 when memorised.
    * c2 = 1 - <sigma(-phi^+)^2> / c1 (eq 30): 1/2 at phi^+ = 0, -> 1 when memorised.
    * c3 = <e^{-phi^+}> (eq 15/42): 1 at phi^+ = 0, -> 0 when memorised.

    Returns ``{"c1": ..., "c2": ..., "c3": ...}`` (floats).
    """
    phi = _phi(phi_plus)  # finite, non-empty
    s = _sigmoid(-phi)
    c1 = float(np.mean(s))
    c2 = float(1.0 - np.mean(s ** 2) / c1) if c1 > 0 else 1.0
    c3 = float(np.mean(np.exp(-phi)))
    return {"c1": c1, "c2": c2, "c3": c3}


# ----------------------------------------------------------------------------------------------
# ICL acquisition ODE (eqs 7-8 = 31-32)
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# closed forms for t_ICL (eqs 10-11, 33-37)
# ----------------------------------------------------------------------------------------------
def t_icl_eq11(N, beta0, c1: float = 0.5):
    """Eq 11 (|beta0| << 1, w0 = 0, constant c1): t_ICL = N sqrt(2 pi) e^{-beta0} / (2 c1).

    With c1 = 1/2 (z_MLP = 0, K = inf) this is the paper's ``N sqrt(2 pi) e^{-beta0}``. Derivation: drop the
    c2 w term of eq 7, so w^2/2 - beta is conserved, and integrate eq 33 from beta0 to infinity.
    """
    _closed_form_args(N, beta0, c1)
    return np.asarray(N, float) * np.sqrt(2 * np.pi) * np.exp(-np.asarray(beta0, float)) / (2 * c1)


def t_icl_eq34(N, beta0, w0, c1: float = 0.5):
    """Eq 34 (|beta0|, |w0| << 1, constant c1): I_K(t_ICL) = N sqrt 2 Gamma(1/2, w0^2/2) e^{-beta0 + w0^2/2},
    i.e. t_ICL = that / (2 c1), with the upper incomplete gamma Gamma(1/2, x) = gammaincc(1/2, x) Gamma(1/2).

    The paper's eq 34 assumes w0 >= 0 (it uses w = +sqrt(2(beta - beta0 + w0^2/2))). For w0 < 0 the same
    conservation law gives a first leg in which w rises from w0 to 0 while beta *decreases* to
    beta0 - w0^2/2; summing both legs replaces Gamma(1/2, x) by 2 Gamma(1/2) - Gamma(1/2, x). We return
    that sign-aware form (identical to eq 34 for w0 >= 0); it reduces to eq 11 at w0 = 0.
    """
    _closed_form_args(N, beta0, c1)
    w0 = _num("w0", w0)
    x = w0 ** 2 / 2
    g_upper = special.gammaincc(0.5, x) * special.gamma(0.5)
    g = np.where(w0 >= 0, g_upper, 2 * special.gamma(0.5) - g_upper)
    return np.asarray(N, float) * np.sqrt(2) * g * np.exp(-np.asarray(beta0, float) + x) / (2 * c1)


def t_icl_eq37(N, beta0, c1: float = 0.5, c2: float = 0.5, factor: float = 1.0):
    """Eq 37 (-beta0 >> 1, w0 = 0, constant c1, c2): I'_K(t_ICL) = (c1/c2) t_ICL ~ N e^{-2 beta0}.

    Returns ``factor * N e^{-2 beta0} c2 / c1`` (the paper's form for ``factor=1``; with c1 = c2 it is
    N e^{-2 beta0}). Note: integrating eq 36 exactly from beta0 to infinity gives factor = 1/2; the
    paper's "~" drops this O(1) constant. :func:`t_icl_ode` tells which is closer (see chapter 4).
    """
    _closed_form_args(N, beta0, c1)
    _check_c2(c2)
    _check_range("factor", factor, 0.0)
    return factor * np.asarray(N, float) * np.exp(-2 * np.asarray(beta0, float)) * c2 / c1


def _closed_form_args(N, beta0, c1) -> None:
    """The closed forms are linear in N: any N > 0 is accepted (N = 1 gives the time per unit of N)."""
    _check_range("N", N, 0.0)
    _num("beta0", beta0)
    _check_c1(c1)


def i_k(t, c1) -> np.ndarray:
    """I_K(t) = 2 int_0^t c1(t') dt' (eq 10) from a sampled curve c1(t), by cumulative trapezoid (I_K(t[0]) = 0).

    With c1 = 1/2, I_K(t) = t (the K = inf case of eq 11).
    """
    t = np.asarray(t, float)
    return 2.0 * integrate.cumulative_trapezoid(np.asarray(c1, float), t, initial=0.0)


def i_k_prime(t, c1, c2) -> np.ndarray:
    """I'_K(t) = int_0^t c1(t')/c2(t') dt' (eq 37), cumulative trapezoid on sampled curves."""
    t = np.asarray(t, float)
    return integrate.cumulative_trapezoid(np.asarray(c1, float) / np.asarray(c2, float), t, initial=0.0)


def tau_k(t, c1, N, beta0: float = 0.0, w0: float = 0.0) -> float:
    """Solve eq 10 (eq 34 for w0 != 0) for the ICL time tau_K given a sampled c1(t).

    Finds the first tau with I_K(tau) = N sqrt(2 pi) e^{-beta0} (generally 2 c1 t_icl_eq34(N, beta0, w0, c1)),
    by linear interpolation of the cumulative trapezoid :func:`i_k`. Returns ``inf`` when I_K never reaches
    the target within the sampled range, i.e. when the MLP memorises (c1 -> 0) before ICL is acquired:
    I_K(inf) < N sqrt(2 pi) e^{-beta0} (eq 12). The sampled range must extend to where c1 is negligible
    for ``inf`` to mean "never".
    """
    ts, cs = _num("t", t), _num("c1", c1)
    if ts.ndim != 1 or ts.shape != cs.shape or ts.size < 1:
        raise ValueError(f"t and c1 must be 1-d arrays of the same length >= 1; got shapes {ts.shape} and {cs.shape}")
    for name, v in (("N", N), ("beta0", beta0), ("w0", w0)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name}={_show(v)}: must be a scalar")
    target = float(t_icl_eq34(N, beta0, w0, c1=0.5))  # with c1 = 1/2, t = I_K: N sqrt2 Gamma(1/2, w0^2/2) e^{..}
    ik = i_k(t, c1)
    t = np.asarray(t, float)
    if ik[-1] < target:
        return np.inf
    j = int(np.argmax(ik >= target))
    if j == 0:
        return float(t[0])
    return float(np.interp(target, ik[j - 1:j + 1], t[j - 1:j + 1]))


# ----------------------------------------------------------------------------------------------
# transience (section 3.7, appendix A.4-A.5)
# ----------------------------------------------------------------------------------------------
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


# ----------------------------------------------------------------------------------------------
# memorisation scaling law -> task-diversity threshold (eq 13)
# ----------------------------------------------------------------------------------------------
def k_star_prediction(N, beta0=0.0, nu: float = 0.7, prefactor: float = 1.0):
    """Eq 13: K* ~ N^{1/nu} e^{-beta0/nu}, up to a constant prefactor.

    Derivation: ICL is acquired iff t_ICL < I_K(inf) (eq 12); with t_ICL = N sqrt(2 pi) e^{-beta0} (eq 11)
    and the memorisation scaling law I_K(inf) = A K^nu, K* = (sqrt(2 pi)/A)^{1/nu} N^{1/nu} e^{-beta0/nu}.
    The paper leaves (sqrt(2 pi)/A)^{1/nu} unspecified; pass it as ``prefactor`` (e.g. fitted from a
    measured I_K(inf) = A K^nu).
    """
    _check_range("N", N, 0.0)
    _num("beta0", beta0)
    # nu and prefactor may be arrays of bootstrap fits: NaN entries pass through, and so does a negative nu
    # (a resampled fit); nu = 0 has no K* at all
    if np.any(np.asarray(nu, float) == 0):
        raise ValueError(f"nu={_show(nu)}: must be nonzero (K* ~ N^(1/nu))")
    if np.any(np.asarray(prefactor, float) <= 0):
        raise ValueError(f"prefactor={_show(prefactor)}: must be > 0")
    return prefactor * np.asarray(N, float) ** (1.0 / nu) * np.exp(-np.asarray(beta0, float) / nu)


# ----------------------------------------------------------------------------------------------
# gradient descent on the minimal model's own exact loss (torch autograd)
# ----------------------------------------------------------------------------------------------
@dataclass
class GDResult:
    """Plain-GD trajectory on the exact loss (eq 21, phi^+ = 0). ``t = lr * step`` (gradient-flow time);
    arrays have shape (n_steps + 1, n_init). ``t_icl``: first t with beta >= beta_threshold (inf if never)."""
    t: np.ndarray
    w: np.ndarray
    beta: np.ndarray
    loss: np.ndarray
    t_icl: np.ndarray
    beta_threshold: float


def _torch_loss_exact(w, beta, n, pmf, N: int):
    """Eq 21 with phi^+ = 0 in torch; w, beta are 1-d tensors (one entry per independent run), n = 0..N and
    pmf = Binomial(N, 1/2) probabilities as tensors."""
    import torch
    eb = torch.exp(beta)[:, None]
    z = w[:, None] * (eb + 2 * n - N - 1) / (eb + N - 1)
    return -2.0 * ((n / N) * pmf * torch.nn.functional.logsigmoid(z)).sum(-1)


def simulate_gd_exact(N: int, beta0=0.0, w0=0.0, lr: float = 1.0, n_steps: int = 1000,
                      beta_threshold: float | None = None, steps_after_icl: int | None = None) -> GDResult:
    """Plain gradient descent on the minimal model's exact average loss (eq 20/21 with phi^+ = 0, no MLP),
    gradients by torch autograd, ``theta <- theta - lr * grad L``.

    Normalisation: near initialisation L ~ log 2 - (c1/N)(e^beta w - c2 w^2/2) (eq 6), whose gradient is
    exactly minus the right-hand side of eqs 7-8; so GD with ``t = lr * step`` follows eqs 7-8 as
    lr -> 0 and N -> inf (no rescaling of time). Several runs are simulated at once if ``beta0``/``w0``
    are arrays. ``t_icl`` uses ``beta_threshold`` (default log N, as in :func:`integrate_icl_ode`); unlike
    eqs 7-8 the exact loss does not blow up: after ICL beta grows only logarithmically (~7.5 at N = 100).
    ``steps_after_icl``: if given, stop that many steps after every run has crossed the threshold
    (the returned arrays are truncated accordingly).
    """
    _check_n(N)
    _num("beta0", beta0)
    _num("w0", w0)
    _check_range("lr", lr, 0.0)
    _check_count("n_steps", n_steps, 0)
    if beta_threshold is not None:
        _num("beta_threshold", beta_threshold)
    if steps_after_icl is not None:
        _check_count("steps_after_icl", steps_after_icl, 0)
    import torch
    b0, w0 = np.broadcast_arrays(np.atleast_1d(np.asarray(beta0, float)), np.atleast_1d(np.asarray(w0, float)))
    if beta_threshold is None:
        beta_threshold = float(np.log(N))
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threading only adds overhead
    try:
        n = torch.arange(N + 1, dtype=torch.float64)
        pmf = torch.as_tensor(stats.binom.pmf(np.arange(N + 1), N, 0.5), dtype=torch.float64)
        w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
        W = np.empty((n_steps + 1, w0.size))
        B = np.empty_like(W)
        L = np.empty_like(W)
        last, stop_at = n_steps, None
        for k in range(n_steps + 1):
            loss = _torch_loss_exact(w, b, n, pmf, N)
            W[k], B[k], L[k] = w.detach().numpy(), b.detach().numpy(), loss.detach().numpy()
            if steps_after_icl is not None and stop_at is None and (B[:k + 1] >= beta_threshold).any(0).all():
                stop_at = k + steps_after_icl
            if k == n_steps or (stop_at is not None and k >= stop_at):
                last = k
                break
            gw, gb = torch.autograd.grad(loss.sum(), (w, b))
            with torch.no_grad():
                w -= lr * gw
                b -= lr * gb
    finally:
        torch.set_num_threads(n_threads)
    W, B, L = W[:last + 1], B[:last + 1], L[:last + 1]
    t = lr * np.arange(last + 1)
    hit = B >= beta_threshold
    t_icl = np.where(hit.any(0), t[np.argmax(hit, axis=0)], np.inf)
    return GDResult(t=t, w=W, beta=B, loss=L, t_icl=t_icl, beta_threshold=beta_threshold)


# ----------------------------------------------------------------------------------------------
# Monte-Carlo loss of the minimal model on sampled sequences (finite D), for validating eqs 5/20
# ----------------------------------------------------------------------------------------------
def mc_minimal_model_loss(w, beta, N: int, D: int, n_seq: int, rng: np.random.Generator, chunk: int = 200):
    """Monte-Carlo estimate of the minimal model's loss with fresh items (K = inf), computed directly
    from eq 3 on sampled sequences: items x ~ N(0, I/D), labels +-1 uniform, the target is a uniformly
    chosen context item (its copy is in the context), the MLP logit is 0 (phi^+ = 0), and the loss is
    -log sigma(l_c z_ATT). ``w``, ``beta`` may be 1-d arrays of parameter points, all evaluated on the same
    sequences (common random numbers). Returns (mean, standard error of the mean), arrays like ``w``.
    Unlike eqs 5/20 this keeps the finite-D overlaps x_j . x_{N+1} ~ N(0, 1/D) and |x|^2 = 1 + O(D^-1/2).
    """
    _landscape_args(w, beta, N)
    _check_count("D", D, 1)
    _check_count("n_seq", n_seq, 2)
    _check_count("chunk", chunk, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng={_show(rng)}: must be a numpy.random.Generator (numpy.random.default_rng(seed))")
    w, beta = np.broadcast_arrays(np.atleast_1d(np.asarray(w, float)), np.atleast_1d(np.asarray(beta, float)))
    losses = []
    for s in range(0, n_seq, chunk):
        m = min(chunk, n_seq - s)
        x = rng.standard_normal((m, N, D), dtype=np.float32) / np.float32(np.sqrt(D))
        lab = rng.choice([-1.0, 1.0], size=(m, N))
        c = rng.integers(0, N, size=m)
        target = x[np.arange(m), c]                              # (m, D): the query is a copy of item c
        dots = np.einsum("mnd,md->mn", x, target).astype(float)  # x_j^T x_{N+1}
        lc = lab[np.arange(m), c]
        att = special.softmax(beta[:, None, None] * dots[None], axis=2)   # eq 3 attention weights
        z_att = w[:, None] * (att * lab[None]).sum(2)
        losses.append(_softplus(-lc[None] * z_att))
    losses = np.concatenate(losses, axis=1)
    return losses.mean(1), losses.std(1, ddof=1) / np.sqrt(losses.shape[1])
