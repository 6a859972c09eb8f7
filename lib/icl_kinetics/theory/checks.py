"""Argument checks and numerical helpers shared by the theory modules (a ValueError names the bad argument and
says what is allowed, in one line). Everything here is public to the theory package: the modules import it by
name rather than reaching into each other's private names.

Limits. A function refuses, before allocating, any array of more than ``MAX_ELEMENTS`` elements that its
arguments would make it build (a grid of (w, beta), a binomial sum over n_+ = 0..N, a GD trajectory, a batch of
sampled sequences); the exact binomial sum of eq 20/21 takes N <= ``MAX_N_BINOMIAL``. Results that would not be
finite in float64 are refused too (or computed in a stable form where the value is finite).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import special

MAX_ELEMENTS = 50_000_000   # the largest array (400 MB in float64) a theory function builds for its arguments
MAX_N_BINOMIAL = 1_000_000  # eq 20/21 sum over n_+ = 0..N (~37 sqrt(N) non-negligible terms); beyond: eq 5
EXP_SAFE = 700.0            # e^x is finite (< 1.1e304) for x <= EXP_SAFE; float64 overflows at x > 709.78
LOG_FLOAT_MAX = float(np.log(np.finfo(float).max))  # 709.78


def softplus(x):
    """log(1 + e^x), numerically stable; -log sigma(z) = softplus(-z)."""
    return np.logaddexp(0.0, x)


def sigmoid(x):
    return special.expit(x)


def times_exp(c, x):
    """c e^x elementwise without the overflow of e^x alone: c * e^x where x <= EXP_SAFE (bit for bit the plain
    product), sign(c) e^(x + log|c|) beyond, so the result is inf only where |c e^x| itself overflows."""
    c, x = np.asarray(c, float), np.asarray(x, float)
    direct = c * np.exp(np.minimum(x, EXP_SAFE))
    if np.all(x <= EXP_SAFE):
        return direct
    with np.errstate(divide="ignore", over="ignore"):
        big = np.sign(c) * np.exp(x + np.log(np.abs(c)))
    return np.where(x <= EXP_SAFE, direct, big)


def show(x) -> str:
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "..."


def finite_array(name: str, x) -> np.ndarray:
    """`x` as a float array; ValueError unless it is made of finite numbers."""
    a = numeric_array(name, x)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}={show(x)}: must be finite")
    return a


def numeric_array(name: str, x) -> np.ndarray:
    """`x` as a float array (NaN and inf allowed); ValueError unless it is made of numbers (None is not)."""
    if x is None or isinstance(x, (str, bytes)) or callable(x):
        raise ValueError(f"{name}={show(x)}: must be a number or an array of numbers")
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name}={show(x)}: must be a number or an array of numbers") from None
    if np.asarray(x).dtype == object and np.isnan(a).any():  # e.g. [None, 1.0]
        raise ValueError(f"{name}={show(x)}: must be a number or an array of numbers")
    return a


def _interval(lo: float, hi: float, lo_open: bool, hi_open: bool) -> str:
    if hi == np.inf:
        return f"{'>' if lo_open else '>='} {lo:g}"
    return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"


def check_range(name: str, x, lo: float, hi: float = np.inf, lo_open: bool = True, hi_open: bool = True):
    """ValueError unless every element of `x` is a finite number in the interval (lo, hi) (brackets as given)."""
    a = finite_array(name, x)
    ok = (a > lo if lo_open else a >= lo) & (a < hi if hi_open else a <= hi)
    if not np.all(ok):
        if hi == np.inf:
            raise ValueError(f"{name}={show(x)}: must be {_interval(lo, hi, lo_open, hi_open)}")
        raise ValueError(f"{name}={show(x)}: must lie {_interval(lo, hi, lo_open, hi_open)}")


def check_samples(name: str, x, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> np.ndarray:
    """A sampled curve's values: numbers in the interval given, NaN allowed (a missing measurement), inf not."""
    a = numeric_array(name, x)
    v = a[~np.isnan(a)]
    if not np.all(np.isfinite(v) & (v > lo if lo_open else v >= lo) & (v < hi if hi_open else v <= hi)):
        raise ValueError(f"{name}={show(x)}: values must be finite and {_interval(lo, hi, lo_open, hi_open)} "
                         "(NaN marks a missing sample)")
    return a


def check_times(name: str, t) -> np.ndarray:
    """Sample times: a finite, strictly increasing 1-d array with at least one entry."""
    a = finite_array(name, t)
    if a.ndim != 1 or a.size < 1:
        raise ValueError(f"{name}: must be a 1-d array of sample times with at least one entry; got shape {a.shape}")
    if np.any(np.diff(a) <= 0):
        i = int(np.argmax(np.diff(a) <= 0))
        raise ValueError(f"{name}: sample times must be strictly increasing; {name}[{i + 1}]={float(a[i + 1])!r} <= "
                         f"{name}[{i}]={float(a[i])!r}")
    return a


def check_t_eval(t_eval, t_max: float) -> None:
    """Output times of an integration: a finite, non-decreasing 1-d array inside [0, t_max] (None: the solver's)."""
    if t_eval is None:
        return
    a = finite_array("t_eval", t_eval)
    if a.ndim != 1 or np.any(np.diff(a) < 0) or np.any(a < 0) or np.any(a > t_max):
        raise ValueError(f"t_eval={show(t_eval)}: must be a non-decreasing 1-d array of times in [0, t_max={t_max:g}]")


def check_tolerances(rtol, atol) -> None:
    check_range("rtol", rtol, 0.0)
    check_range("atol", atol, 0.0)


def check_n(N, name: str = "N", max_n: float | None = None, why: str = "") -> None:
    """The context length: an integer >= 2 (an integral float is accepted), at most `max_n` if given."""
    a = None if isinstance(N, (str, bytes)) or N is None else np.asarray(N)
    if (a is None or a.ndim != 0 or a.dtype.kind not in "iuf" or not np.isfinite(a) or a != np.floor(a)
            or a < 2):
        raise ValueError(f"{name}={show(N)}: the context length must be an integer >= 2")
    if max_n is not None and a > max_n:
        raise ValueError(f"{name}={show(N)}: must be at most {max_n:g}{why}")


def check_count(name: str, n, lo: int, hi: int | None = None, why: str = "") -> None:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < lo:
        raise ValueError(f"{name}={show(n)}: must be an integer >= {lo}" + (f" and <= {hi}" if hi else ""))
    if hi is not None and n > hi:
        raise ValueError(f"{name}={show(n)}: must be an integer in [{lo}, {hi}]{why}")


def check_size(what: str, n_elements, limit: int = MAX_ELEMENTS) -> None:
    """ValueError, before allocating, if an array of `n_elements` elements would exceed `limit`."""
    if n_elements > limit:
        raise ValueError(f"{what} would need an array of {float(n_elements):.3g} elements, more than the limit "
                         f"{limit:.3g} (theory.checks.MAX_ELEMENTS); use smaller sizes")


def finite_result(what: str, value, hint: str):
    """`value` unchanged if every element is finite, else a ValueError saying what overflowed and what to change."""
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{what} is not finite in float64 for these arguments: {hint}")
    return value


def check_c1(c1, name: str = "c1") -> None:
    check_range(name, c1, 0.0, 1.0)  # c1 = <sigma(-phi+)>: the MLP's error probability


def check_c2(c2, name: str = "c2") -> None:
    check_range(name, c2, 0.0, 1.0, hi_open=False)  # c2 = 1 - <sigma^2>/<sigma>


def check_coefficient(name: str, c, check_constant) -> None:
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
        raise ValueError(f"{name}={show(c)}: must be a constant, a callable c(t) or a sampled curve "
                         "(t_samples, values)") from None
    t_s, v_s = finite_array(f"{name} sample times", t_s), finite_array(f"{name} values", v_s)
    if t_s.ndim != 1 or t_s.shape != v_s.shape or t_s.size < 1:
        raise ValueError(f"{name}: a sampled curve needs two 1-d arrays of the same length >= 1; got shapes "
                         f"{t_s.shape} and {v_s.shape}")
    if np.any(np.diff(t_s) < 0):
        raise ValueError(f"{name}: the sample times of a sampled curve must be non-decreasing")


def as_function(c) -> Callable[[float], float]:
    """A constant, a callable c(t), or a sampled curve (t, values) -> callable (linear interpolation,
    held constant outside the sampled range)."""
    if callable(c):
        return c
    if np.ndim(c) == 0:
        v = float(c)
        return lambda t: v
    t_s, v_s = (np.asarray(a, float) for a in c)
    return lambda t: float(np.interp(t, t_s, v_s))


def phi_sample(phi_plus) -> np.ndarray:
    """The MLP-logit sample as a flat float array (a scalar means a point mass); finite and non-empty."""
    phi = np.atleast_1d(finite_array("phi_plus", phi_plus)).ravel()
    if phi.size == 0:
        raise ValueError("phi_plus: the sample of MLP logits is empty")
    return phi


def check_landscape_args(w, beta, N, max_n: float | None = None, why: str = "") -> None:
    """N a context length; w, beta finite and broadcastable to a grid of at most MAX_ELEMENTS points."""
    check_n(N, max_n=max_n, why=why)
    a, b = finite_array("w", w), finite_array("beta", beta)
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"w and beta must broadcast against each other; got shapes {a.shape} and {b.shape}") from None
    check_size("the (w, beta) grid", float(np.prod(shape, dtype=float)))


def mean_over_phi(fn, z, phi, chunk_elems: int = 2_000_000):
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
