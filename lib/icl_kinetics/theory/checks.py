"""Argument checks and numerical helpers shared by the theory modules (a ValueError names the bad argument)."""
from __future__ import annotations

import numpy as np
from scipy import special


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
