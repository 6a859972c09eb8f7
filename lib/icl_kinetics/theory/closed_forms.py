"""Closed forms for t_ICL (eqs 10-11, 33-37), the memorisation integral I_K(t), tau_K, and the task-diversity
threshold K* (eq 13). Used by chapters 4, 5, 7 and 8."""
from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy import special

from .checks import _check_c1, _check_c2, _check_range, _num, _show


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
