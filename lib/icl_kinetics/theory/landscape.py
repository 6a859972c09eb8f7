"""The minimal model's loss landscape (section 3.3, appendix A.1-A.2; eqs 5, 6, 9, 20, 21) and its
Monte-Carlo check on sampled sequences. Used by chapter 3 (Fig 4)."""
from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import special
from scipy import stats

from .checks import (_check_c1, _check_c2, _check_count, _landscape_args, _mean_over_phi, _phi, _show, _sigmoid,
                     _softplus)


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
