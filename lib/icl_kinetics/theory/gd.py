"""Plain gradient descent on the minimal model's exact loss (eq 21) with torch autograd, the reference the ODE
is checked against (chapter 4)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats
import torch

from .checks import EXP_SAFE, MAX_N_BINOMIAL, check_count, check_n, check_range, check_size, finite_array


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
    pmf = Binomial(N, 1/2) probabilities as tensors. Where e^beta would overflow (beta > EXP_SAFE) eq 19 is
    written as z = w (a + (2n - N - 1)/(N - 1) (1 - a)) with a = sigma(beta - log(N - 1)), finite (and with finite
    gradients) at any beta; elsewhere the plain form, unchanged."""
    big = beta > EXP_SAFE
    if not bool(big.any()):
        eb = torch.exp(beta)[:, None]
        z = w[:, None] * (eb + 2 * n - N - 1) / (eb + N - 1)
    else:  # the plain form on beta = 0 in the rows replaced below, so that neither branch has an inf (or NaN grad)
        eb = torch.exp(torch.where(big, torch.zeros_like(beta), beta))[:, None]
        x = (beta - np.log(N - 1))[:, None]
        z_big = w[:, None] * (torch.sigmoid(x) + ((2 * n - N - 1) / (N - 1)) * torch.sigmoid(-x))
        z = torch.where(big[:, None], z_big, w[:, None] * (eb + 2 * n - N - 1) / (eb + N - 1))
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

    Checked first: N an integer in [2, MAX_N_BINOMIAL] (1e6), finite beta0, w0 (broadcastable), lr > 0, n_steps >= 0,
    and at most MAX_ELEMENTS (5e7) elements in the trajectory arrays ((n_steps + 1) x runs) and in the per-step
    tensors (runs x (N + 1)). A step whose loss, w or beta is not finite (lr too large: GD diverged) is a ValueError.
    """
    check_n(N, max_n=MAX_N_BINOMIAL, why=" for the exact binomial loss of eq 21 (one term per n_+ = 0..N)")
    b0, w0_ = finite_array("beta0", beta0), finite_array("w0", w0)
    check_range("lr", lr, 0.0)
    check_count("n_steps", n_steps, 0)
    if beta_threshold is not None:
        finite_array("beta_threshold", beta_threshold)
    if steps_after_icl is not None:
        check_count("steps_after_icl", steps_after_icl, 0)
    try:
        n_runs = int(np.broadcast(np.atleast_1d(b0), np.atleast_1d(w0_)).size)
    except ValueError:
        raise ValueError(f"beta0 and w0 must broadcast against each other; got shapes {b0.shape} and "
                         f"{w0_.shape}") from None
    check_size("the GD trajectory ((n_steps + 1) x runs)", (float(n_steps) + 1) * n_runs)
    check_size("the per-step loss tensors (runs x (N + 1))", float(n_runs) * (N + 1))
    N = int(N)
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
            if not (np.isfinite(W[k]).all() and np.isfinite(B[k]).all() and np.isfinite(L[k]).all()):
                raise ValueError(f"gradient descent diverged at step {k} (t = {lr * k:.4g}): w, beta or the loss is "
                                 f"not finite; lr={lr!r} is too large for these runs (or |w| e^beta exceeds float64 "
                                 "at the start), use a smaller one")
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
