"""The minimal model's loss landscape (section 3.3, appendix A.1-A.2; eqs 5, 6, 9, 20, 21) and its
Monte-Carlo check on sampled sequences. Used by chapter 3 (Fig 4)."""
from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import special
from scipy import stats

from .checks import (EXP_SAFE, MAX_N_BINOMIAL, check_c1, check_c2, check_count, check_landscape_args, check_size,
                     finite_result, mean_over_phi, phi_sample, show, sigmoid, softplus, times_exp)


def loss_exact(w, beta, N: int, phi_plus=0.0, phi_minus=None):
    """Exact average loss of the minimal model in the D -> inf, K >> N limit: eq 20 (and eq 21).

    n_+ ~ Binomial(N, 1/2) is the number of +1 labels in the context, the target is a uniformly chosen
    context item (so P(l_c = +1 | n_+) = n_+/N), and the attention logit is eq 19,
    ``z_ATT = w (e^beta l_c + 2 n_+ - N - l_c) / (e^beta + N - 1)``.

    ``phi_minus=None`` assumes the label symmetry P^-(phi) = P^+(-phi) (assumption 3 of A.1), in which
    case eq 20 equals eq 21 (the factor-2 form) exactly. Pass ``phi_minus`` (a sample of the MLP logits
    on the -1 items) to evaluate eq 20 without that assumption.
    """
    check_landscape_args(w, beta, N, max_n=MAX_N_BINOMIAL,
                         why=" for the exact binomial sum of eq 20 (use loss_gaussian, eq 5, its large-N form)")
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi_p = phi_sample(phi_plus)
    phi_m = -phi_p if phi_minus is None else phi_sample(phi_minus)
    a, b_ = _copy_weight(beta, N)
    n = np.arange(N + 1)
    pmf = stats.binom.pmf(n, N, 0.5)
    out = np.zeros(w.shape)
    for k in np.flatnonzero(pmf >= 1e-300):  # the other terms are negligible (< 1e-300)
        k, b = n[k], pmf[k]
        # target label +1 (probability k/N): logit phi^+ + z_ATT, with eq 19 written as
        # z_ATT = w (a + (2k - N - 1)/(N - 1) (1 - a)), a = e^beta/(e^beta + N - 1), finite for any beta
        if k > 0:
            z = w * (a + ((2 * k - N - 1) / (N - 1)) * b_)
            out += (k / N) * b * mean_over_phi(lambda x: softplus(-x), z, phi_p)
        # target label -1 (probability (N-k)/N): loss -log sigma(-(phi^- + z_ATT)) = -log sigma(-phi^- + w(...))
        if k < N:
            z = w * (a + ((N - 2 * k - 1) / (N - 1)) * b_)
            out += ((N - k) / N) * b * mean_over_phi(lambda x: softplus(-x), z, -phi_m)
    return finite_result("the eq 20 loss", out, _OVERFLOW_HINT)


_OVERFLOW_HINT = "|w| and |phi_plus| must stay well below 1e308 (the loss grows like |w| + |phi|)"


def _copy_weight(beta, N):
    """(a, 1 - a) for the attention on the target's copy, a = e^beta/(e^beta + N - 1) = sigma(beta - log(N - 1))
    (eq 19), both without overflow at any beta (1 - a = sigma(log(N - 1) - beta) keeps its precision as a -> 1)."""
    x = beta - np.log(N - 1)
    return sigmoid(x), sigmoid(-x)


def loss_gaussian(w, beta, N: int, phi_plus=0.0, n_quad: int = 61):
    """Gaussian (large-N) form of the loss, eq 5 = eq 22.

    ``L = -< (1 + eta/sqrt N) log sigma(phi^+ + w ((e^beta - 1) + eta sqrt N) / (e^beta + N - 1)) >``
    with eta ~ N(0, 1), evaluated with ``n_quad``-point probabilists' Gauss-Hermite quadrature
    (``numpy.polynomial.hermite_e.hermegauss``; weights normalised by sqrt(2 pi)).
    """
    check_landscape_args(w, beta, N)
    check_count("n_quad", n_quad, 1, MAX_N_QUAD, why=" (numpy's Gauss-Hermite weights turn NaN from ~400 nodes on)")
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    return finite_result("the eq 5 loss", eq5(w, beta, N, phi_sample(phi_plus), n_quad), _OVERFLOW_HINT)


def eq5(w, beta, N, phi, n_quad: int = 61):
    """Eq 5, L = -< (1 + eta/sqrt N) log sigma(phi^+ + w ((e^beta - 1) + eta sqrt N) / (e^beta + N - 1)) >,
    eta ~ N(0, 1), by Gauss-Hermite quadrature (``phi``: samples of the MLP's logit phi^+, or 0)."""
    nodes, weights = hermegauss(n_quad)
    a, b = _copy_weight(beta, N)  # e^beta/(e^beta + N - 1) and its complement, without overflow
    loss = 0.0
    for eta, q in zip(nodes, weights / np.sqrt(2 * np.pi)):
        z = w * (a + ((eta * np.sqrt(N) - 1) / (N - 1)) * b)  # = w ((e^beta - 1) + eta sqrt N)/(e^beta + N - 1)
        loss = loss + q * (1 + eta / np.sqrt(N)) * mean_over_phi(lambda x: softplus(-x), z, phi)  # -log sigma(x)
    return loss


MAX_N_QUAD = 300  # Gauss-Hermite nodes: numpy's weights are finite and sum to 1 up to ~350


def _loss_mlp(phi):
    """<log(1 + e^{-phi^+})>: the MLP's own loss, first term of eqs 6 and 9."""
    return float(np.mean(softplus(-phi)))


def loss_small_w(w, beta, N: int, phi_plus=0.0, c1=None, c2=None):
    """Small-w, small-beta expansion of the loss, eq 6 = eq 28.

    ``L ~ <log(1 + e^{-phi^+})> - (c1/N) (e^beta w - c2 w^2 / 2)``, valid for |w| << sqrt(N) and
    e^beta - 1 << N. c1, c2 default to their values for the sample ``phi_plus`` (eqs 29-30); if given
    explicitly, the constant first term is still computed from ``phi_plus``.
    """
    check_landscape_args(w, beta, N)
    if c1 is not None:
        check_c1(c1)
    if c2 is not None:
        check_c2(c2)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi = phi_sample(phi_plus)
    op = mlp_order_parameters(phi)
    c1 = op["c1"] if c1 is None else c1
    c2 = op["c2"] if c2 is None else c2
    out = _loss_mlp(phi) - (c1 / N) * (times_exp(w, beta) - c2 * w ** 2 / 2)
    if np.any(beta > EXP_SAFE):  # e^beta w alone may overflow where (c1/N) e^beta w does not
        with np.errstate(over="ignore", invalid="ignore"):
            big = _loss_mlp(phi) - times_exp((c1 / N) * w, beta) + (c1 / N) * c2 * w ** 2 / 2
        out = np.where(beta > EXP_SAFE, big, out)[()]
    return finite_result("the eq 6 loss", out, _EXP_HINT)


_EXP_HINT = ("(c1/N) e^beta |w| must stay below ~1e308, i.e. beta < 709.78 - log((c1/N)|w|) (eqs 6-9 are "
             "small-beta expansions)")


def grad_small_w(w, beta, N: int, c1: float = 0.5, c2: float = 0.5):
    """Analytic gradient (dL/dw, dL/dbeta) of eq 6: (-(c1/N)(e^beta - c2 w), -(c1/N) w e^beta)."""
    check_landscape_args(w, beta, N)
    check_c1(c1)
    check_c2(c2)
    w = np.asarray(w, float)
    beta = np.asarray(beta, float)
    k = -(c1 / N)
    gw, gb = k * (np.exp(np.minimum(beta, EXP_SAFE)) - c2 * w), times_exp(k * w, beta)
    if np.any(beta > EXP_SAFE):
        with np.errstate(over="ignore", invalid="ignore"):
            gw = np.where(beta > EXP_SAFE, times_exp(k, beta) - k * c2 * w, gw)[()]
    return (finite_result("dL/dw of eq 6", gw, "(c1/N) e^beta must stay below ~1e308, i.e. beta < 709.78 - log(c1/N)"),
            finite_result("dL/dbeta of eq 6", gb, _EXP_HINT))


def loss_balanced(w, beta, N: int, phi_plus=0.0, c1=None):
    """Balanced-context loss (exactly N/2 labels of each sign), small-parameter form, eq 9.

    ``L' ~ <log(1 + e^{-phi^+})> - (c1/N) w (e^beta - 1)``. The origin is a saddle point.
    """
    check_landscape_args(w, beta, N)
    if c1 is not None:
        check_c1(c1)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    phi = phi_sample(phi_plus)
    c1 = mlp_order_parameters(phi)["c1"] if c1 is None else c1
    cw = (c1 / N) * w
    out = _loss_mlp(phi) - cw * (np.exp(np.minimum(beta, EXP_SAFE)) - 1)
    if np.any(beta > EXP_SAFE):
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.where(beta > EXP_SAFE, _loss_mlp(phi) - times_exp(cw, beta) + cw, out)[()]
    return finite_result("the eq 9 loss", out, _EXP_HINT)


def loss_balanced_exact(w, beta, N: int, phi_plus=0.0):
    """Balanced-context loss before expansion: eq 5 with eta = 0.

    With exactly N/2 labels of each sign, sum_{j != c} l_j = -l_c, so z_ATT = w l_c (e^beta - 1)/(e^beta + N - 1)
    exactly (in the D -> inf limit), and ``L' = <-log sigma(phi^+ + w (e^beta - 1)/(e^beta + N - 1))>``.
    """
    check_landscape_args(w, beta, N)
    w, beta = np.broadcast_arrays(np.asarray(w, float), np.asarray(beta, float))
    a, b = _copy_weight(beta, N)
    z = w * (a - b / (N - 1))  # (e^beta - 1)/(e^beta + N - 1), finite for any beta
    return finite_result("the balanced loss", mean_over_phi(lambda x: softplus(-x), z, phi_sample(phi_plus)),
                         _OVERFLOW_HINT)


def mlp_order_parameters(phi_plus) -> dict:
    """MLP-specific order parameters from a sample of logits phi^+ (MLP applied to the +1 items).

    * c1 = <sigma(-phi^+)> (eq 29): the MLP's error probability; 1/2 at phi^+ = 0, -> 0 when memorised.
    * c2 = 1 - <sigma(-phi^+)^2> / c1 (eq 30): 1/2 at phi^+ = 0, -> 1 when memorised.
    * c3 = <e^{-phi^+}> (eq 15/42): 1 at phi^+ = 0, -> 0 when memorised.

    Returns ``{"c1": ..., "c2": ..., "c3": ...}`` (floats).
    """
    phi = phi_sample(phi_plus)  # finite, non-empty
    s = sigmoid(-phi)
    c1 = float(np.mean(s))
    c2 = float(1.0 - np.mean(s ** 2) / c1) if c1 > 0 else 1.0
    if np.max(-phi) <= EXP_SAFE:
        c3 = float(np.mean(np.exp(-phi)))
    else:  # log-sum-exp: finite unless <e^{-phi}> itself overflows
        c3 = float(np.exp(special.logsumexp(-phi) - np.log(phi.size)))
        finite_result("c3 = <e^{-phi_plus}>", c3, "phi_plus must not go much below -709 (e^{-phi} overflows)")
    return {"c1": c1, "c2": c2, "c3": c3}


def mc_minimal_model_loss(w, beta, N: int, D: int, n_seq: int, rng: np.random.Generator, chunk: int = 200):
    """Monte-Carlo estimate of the minimal model's loss with fresh items (K = inf), computed directly
    from eq 3 on sampled sequences: items x ~ N(0, I/D), labels +-1 uniform, the target is a uniformly
    chosen context item (its copy is in the context), the MLP logit is 0 (phi^+ = 0), and the loss is
    -log sigma(l_c z_ATT). ``w``, ``beta`` may be 1-d arrays of parameter points, all evaluated on the same
    sequences (common random numbers). Returns (mean, standard error of the mean), arrays like ``w``.
    Unlike eqs 5/20 this keeps the finite-D overlaps x_j . x_{N+1} ~ N(0, 1/D) and |x|^2 = 1 + O(D^-1/2).
    """
    check_landscape_args(w, beta, N)
    check_count("D", D, 1)
    check_count("n_seq", n_seq, 2)
    check_count("chunk", chunk, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng={show(rng)}: must be a numpy.random.Generator (numpy.random.default_rng(seed))")
    N = int(N)
    n_pts, m_max = int(np.broadcast(np.atleast_1d(w), np.atleast_1d(beta)).size), min(chunk, n_seq)
    check_size("a chunk of sampled sequences (min(chunk, n_seq) x N x D)", float(m_max) * N * D)
    check_size("the attention weights (parameter points x min(chunk, n_seq) x N)", float(n_pts) * m_max * N)
    check_size("the per-sequence losses (parameter points x n_seq)", float(n_pts) * n_seq)
    w, beta = np.broadcast_arrays(np.atleast_1d(np.asarray(w, float)), np.atleast_1d(np.asarray(beta, float)))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow (huge |beta|, |w|) is refused below
        losses = _mc_losses(w, beta, N, D, n_seq, rng, chunk)
    mean, sem = losses.mean(1), losses.std(1, ddof=1) / np.sqrt(losses.shape[1])
    finite_result("the Monte-Carlo loss", (mean, sem), "|w| and |beta| must stay well below 1e308 (beta x_j.x_c and "
                  "the loss must not overflow)")
    return mean, sem


def _mc_losses(w, beta, N, D, n_seq, rng, chunk):
    """The per-sequence losses of :func:`mc_minimal_model_loss`, shape (parameter points, n_seq)."""
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
        losses.append(softplus(-lc[None] * z_att))
    return np.concatenate(losses, axis=1)
