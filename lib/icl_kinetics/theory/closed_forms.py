"""Closed forms for t_ICL (eqs 10-11, 33-37), the memorisation integral I_K(t), tau_K, and the task-diversity
threshold K* (eq 13). Used by chapters 4, 5, 7 and 8."""
from __future__ import annotations

import numpy as np
from scipy import integrate
from scipy import special

from .checks import (LOG_FLOAT_MAX, check_c1, check_c2, check_range, check_samples, check_times, finite_array,
                     numeric_array, show)


def t_icl_eq11(N, beta0, c1: float = 0.5):
    """Eq 11 (|beta0| << 1, w0 = 0, constant c1): t_ICL = N sqrt(2 pi) e^{-beta0} / (2 c1).

    With c1 = 1/2 (z_MLP = 0, K = inf) this is the paper's ``N sqrt(2 pi) e^{-beta0}``. Derivation: drop the
    c2 w term of eq 7, so w^2/2 - beta is conserved, and integrate eq 33 from beta0 to infinity.
    """
    _closed_form_args(N, beta0, c1)
    with np.errstate(over="ignore"):
        t = np.asarray(N, float) * np.sqrt(2 * np.pi) * np.exp(-np.asarray(beta0, float)) / (2 * c1)
    return _log_space_if_overflow(t, lambda: np.log(np.asarray(N, float) * np.sqrt(2 * np.pi) / (2 * c1))
                                  - np.asarray(beta0, float), "t_ICL of eq 11", beta0)


def t_icl_eq34(N, beta0, w0, c1: float = 0.5):
    """Eq 34 (|beta0|, |w0| << 1, constant c1): I_K(t_ICL) = N sqrt 2 Gamma(1/2, w0^2/2) e^{-beta0 + w0^2/2},
    i.e. t_ICL = that / (2 c1), with the upper incomplete gamma Gamma(1/2, x) = gammaincc(1/2, x) Gamma(1/2).

    The paper's eq 34 assumes w0 >= 0 (it uses w = +sqrt(2(beta - beta0 + w0^2/2))). For w0 < 0 the same
    conservation law gives a first leg in which w rises from w0 to 0 while beta *decreases* to
    beta0 - w0^2/2; summing both legs replaces Gamma(1/2, x) by 2 Gamma(1/2) - Gamma(1/2, x). We return
    that sign-aware form (identical to eq 34 for w0 >= 0); it reduces to eq 11 at w0 = 0.

    Both signs are computed as N sqrt(2 pi) erfcx(w0/sqrt 2) e^{-beta0} / (2 c1) (in log space where that product
    overflows), finite for any finite w0 whose t_ICL fits in float64 (e.g. w0 = 50); a larger one is a ValueError.
    """
    _closed_form_args(N, beta0, c1)
    w0_arg, w0 = w0, finite_array("w0", w0)
    # Gamma(1/2, x) = sqrt(pi) erfc(sqrt x), so Gamma(1/2, w0^2/2) e^{w0^2/2} = sqrt(pi) erfcx(w0/sqrt 2) for
    # w0 >= 0, and (2 Gamma(1/2) - Gamma(1/2, x)) e^x = sqrt(pi) erfc(-|w0|/sqrt 2) e^x = the same erfcx(w0/sqrt 2)
    # for w0 < 0: one finite expression for both signs (erfcx(z) = e^{z^2} erfc(z) never underflows)
    z = w0 / np.sqrt(2)
    with np.errstate(over="ignore", invalid="ignore"):
        t = (np.asarray(N, float) * np.sqrt(2 * np.pi) * special.erfcx(z) * np.exp(-np.asarray(beta0, float))
             / (2 * c1))
    return _log_space_if_overflow(t, lambda: np.log(np.asarray(N, float) * np.sqrt(2 * np.pi) / (2 * c1))
                                  + _log_erfcx_minus(w0, beta0), "t_ICL of eq 34", beta0, w0_arg)


def t_icl_eq37(N, beta0, c1: float = 0.5, c2: float = 0.5, factor: float = 1.0):
    """Eq 37 (-beta0 >> 1, w0 = 0, constant c1, c2): I'_K(t_ICL) = (c1/c2) t_ICL ~ N e^{-2 beta0}.

    Returns ``factor * N e^{-2 beta0} c2 / c1`` (the paper's form for ``factor=1``; with c1 = c2 it is
    N e^{-2 beta0}). Note: integrating eq 36 exactly from beta0 to infinity gives factor = 1/2; the
    paper's "~" drops this O(1) constant. :func:`t_icl_ode` tells which is closer (see chapter 4).
    """
    _closed_form_args(N, beta0, c1)
    check_c2(c2)
    check_range("factor", factor, 0.0)
    with np.errstate(over="ignore"):
        t = factor * np.asarray(N, float) * np.exp(-2 * np.asarray(beta0, float)) * c2 / c1
    return _log_space_if_overflow(t, lambda: np.log(factor * np.asarray(N, float) * c2 / c1)
                                  - 2 * np.asarray(beta0, float), "t_ICL of eq 37", beta0)


def _closed_form_args(N, beta0, c1) -> None:
    """The closed forms are linear in N: any N > 0 is accepted (N = 1 gives the time per unit of N)."""
    check_range("N", N, 0.0)
    finite_array("beta0", beta0)
    check_c1(c1)


def _log_erfcx_minus(w0, beta0):
    """log erfcx(w0/sqrt 2) - beta0, finite for all finite w0, beta0: erfcx(z) = 2 e^{z^2} - erfcx(-z) overflows
    below z ~ -26.5, where it is (w0^2/2 - beta0) + log(2 - erfc(-z)) (the large terms first, w0^2/2 unrounded by
    the sqrt 2, so that e^{...} keeps its precision)."""
    z = np.asarray(w0, float) / np.sqrt(2)
    with np.errstate(over="ignore", divide="ignore"):
        return np.where(z > -25.0, np.log(special.erfcx(np.maximum(z, -25.0))) - beta0,
                        (np.asarray(w0, float) ** 2 / 2 - beta0) + np.log(2 - special.erfc(-z)))


def _log_space_if_overflow(t, log_t, what: str, beta0, w0=None):
    """`t` where finite; where the plain product overflowed (or hit inf x 0), e^{log_t()} recomputed in log space,
    which is finite unless the time itself exceeds the float64 range; then a ValueError."""
    bad = ~np.isfinite(t)
    if not bad.any():
        return t
    with np.errstate(over="ignore"):
        lt = np.broadcast_to(log_t(), np.shape(t))
        t = np.where(bad, np.exp(np.minimum(lt, 1e300)), t)[()]
    if not np.all(np.isfinite(t)):
        args = f"beta0={show(beta0)}" + ("" if w0 is None else f", w0={show(w0)}")
        raise ValueError(f"{what} = e^{float(np.max(lt)):.4g} overflows float64 (at most e^{LOG_FLOAT_MAX:.2f}) at "
                         f"{args}: raise beta0" + ("" if w0 is None else " or lower |w0|") + " (or N)")
    return t


def i_k(t, c1) -> np.ndarray:
    """I_K(t) = 2 int_0^t c1(t') dt' (eq 10) from a sampled curve c1(t), by cumulative trapezoid (I_K(t[0]) = 0).

    With c1 = 1/2, I_K(t) = t (the K = inf case of eq 11). ``t``: finite and strictly increasing (1-d);
    ``c1``: shape (..., len(t)), values in [0, 1]; a NaN value (a missing measurement) makes I_K NaN from there on.
    """
    return eq10_ik(*_sampled_curve(t, c1, "c1", 0.0, 1.0))


def eq10_ik(t, c1):
    """Eq 10, I_K(t) = 2 int_0^t c1(t') dt', by the cumulative trapezoid rule over the samples."""
    return 2.0 * integrate.cumulative_trapezoid(c1, t, initial=0.0)


def _sampled_curve(t, c, name: str, lo: float, hi: float, lo_open: bool = False):
    """Sample times t (finite, strictly increasing, 1-d) and values c of shape (..., len(t)) in [lo, hi]; a NaN
    value (a missing measurement) is allowed and makes the integrals NaN from there on."""
    t = check_times("t", t)
    c = check_samples(name, c, lo, hi, lo_open=lo_open)
    if c.ndim < 1 or c.shape[-1] != t.size:
        raise ValueError(f"{name}: must be sampled at the times t, shape (..., {t.size}); got shape {c.shape}")
    return t, c


def i_k_prime(t, c1, c2) -> np.ndarray:
    """I'_K(t) = int_0^t c1(t')/c2(t') dt' (eq 37), cumulative trapezoid on sampled curves (checked as in
    :func:`i_k`; c2 in (0, 1])."""
    t, c1 = _sampled_curve(t, c1, "c1", 0.0, 1.0)
    c2 = _sampled_curve(t, c2, "c2", 0.0, 1.0, lo_open=True)[1]
    try:
        with np.errstate(over="ignore"):
            ratio = c1 / c2
    except ValueError:
        raise ValueError(f"c1 and c2 must have broadcastable shapes; got {c1.shape} and {c2.shape}") from None
    if np.isinf(ratio).any():
        raise ValueError(f"c1/c2 overflows float64 at c2={show(c2)}: c2 must not be that close to 0")
    return integrate.cumulative_trapezoid(ratio, t, initial=0.0)


def tau_k(t, c1, N, beta0: float = 0.0, w0: float = 0.0) -> float:
    """Solve eq 10 (eq 34 for w0 != 0) for the ICL time tau_K given a sampled c1(t).

    Finds the first tau with I_K(tau) = N sqrt(2 pi) e^{-beta0} (generally 2 c1 t_icl_eq34(N, beta0, w0, c1)),
    by linear interpolation of the cumulative trapezoid :func:`i_k`. Returns ``inf`` when I_K never reaches
    the target within the sampled range, i.e. when the MLP memorises (c1 -> 0) before ICL is acquired:
    I_K(inf) < N sqrt(2 pi) e^{-beta0} (eq 12). The sampled range must extend to where c1 is negligible
    for ``inf`` to mean "never". ``t`` must be finite and strictly increasing, ``c1`` finite, in [0, 1].
    """
    ts, cs = finite_array("t", t), finite_array("c1", c1)
    if ts.ndim != 1 or ts.shape != cs.shape or ts.size < 1:
        raise ValueError(f"t and c1 must be 1-d arrays of the same length >= 1; got shapes {ts.shape} and {cs.shape}")
    check_times("t", ts)
    check_samples("c1", cs, 0.0, 1.0)
    for name, v in (("N", N), ("beta0", beta0), ("w0", w0)):
        if np.ndim(v) != 0:
            raise ValueError(f"{name}={show(v)}: must be a scalar")
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

    Scalar ``nu`` and ``prefactor`` must be finite positive numbers, and a K* beyond float64 is a ValueError.
    Arrays of them (bootstrap replicates) are evaluated element-wise: NaN entries give NaN, an overflow inf.
    """
    check_range("N", N, 0.0)
    finite_array("beta0", beta0)
    if np.ndim(nu) == 0 and np.ndim(prefactor) == 0:
        # a single prediction: nu and the prefactor must be finite positive numbers, and so must K*
        try:
            check_range("nu", nu, 0.0)
        except ValueError:
            raise ValueError(f"nu={show(nu)}: must be a finite positive number (the exponent of I_K(inf) = A K^nu), "
                             "or an array of bootstrap replicates") from None
        check_range("prefactor", prefactor, 0.0)
        with np.errstate(over="ignore"):
            k = prefactor * np.asarray(N, float) ** (1.0 / nu) * np.exp(-np.asarray(beta0, float) / nu)
        bad = ~np.isfinite(k)
        if bad.any():  # an overflow (or inf x 0) of the plain product: log K* = log prefactor + (log N - beta0)/nu
            lk = np.log(prefactor) + (np.log(np.asarray(N, float)) - np.asarray(beta0, float)) / nu
            if np.max(lk[bad] if np.ndim(lk) else lk) > LOG_FLOAT_MAX:
                raise ValueError(f"K* = e^{float(np.max(lk)):.4g} overflows float64 (at most e^{LOG_FLOAT_MAX:.2f}) at "
                                 f"nu={show(nu)}, N={show(N)}, beta0={show(beta0)}: raise nu or beta0")
            k = np.where(bad, np.exp(np.minimum(lk, LOG_FLOAT_MAX)), k)[()]
        return k
    # arrays of bootstrap fits (nu, prefactor) are evaluated element-wise, as analysis.kstar_table expects: a NaN
    # entry (a failed resample) gives NaN, a negative nu (a resampled fit) its number and an overflow inf, for the
    # caller to drop; nu = 0 has no K* at all
    nu_a, pf_a = numeric_array("nu", nu), numeric_array("prefactor", prefactor)
    if np.any(nu_a == 0):
        raise ValueError(f"nu={show(nu)}: must be nonzero (K* ~ N^(1/nu))")
    if np.any(pf_a <= 0):
        raise ValueError(f"prefactor={show(prefactor)}: must be > 0")
    return pf_a * np.asarray(N, float) ** (1.0 / nu_a) * np.exp(-np.asarray(beta0, float) / nu_a)


# ----------------------------------------------------------------------------------------------
