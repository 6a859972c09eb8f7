"""Models with a leading ensemble dimension E: member e is an independent network.

All models map a batch of sequences ``x: (E, B, N, D)``, ``labels: (E, B, N)`` (position N-1 is the target,
whose label is never read) to one logit per sequence ``z: (E, B)``.

* :class:`OneLayerTransformer`  -- eq (1), the authors' architecture (LayerNorm, bias-free QKV, scale-1
  causal attention, MLP on LN(t_last) + attention_last, one-hot labels).
* :class:`TwoLayerTransformer`  -- the Fig A.5 variant: two such attention layers with an MLP between.
* :class:`MinimalModel`         -- eq (3): z = MLP(x_target) + w * softmax_j(beta x_j . x_target) l_j.
* :class:`MLPOnly`              -- the bare MLP on the target item, for the memorisation experiments.

Each model exposes ``param_groups()`` -> {"attn": [...], "mlp": [...]} so the trainer can apply the paper's
split weight decay (attention vs MLP). The plain single-network reference of the transformer,
:class:`PlainOneLayerTransformer`, is written with stock ``torch.nn`` layers; tests check that ensemble
member e computes exactly what it computes, and the benchmark uses it as the naive baseline.
"""
from __future__ import annotations

import inspect
import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn


# ----------------------------------------------------------------------------- ensemble building blocks
class ELinear(nn.Module):
    """E independent ``nn.Linear(d_in, d_out)`` layers; PyTorch's default initialisation per member."""

    def __init__(self, E: int, d_in: int, d_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(E, d_in, d_out))  # stored transposed: x @ W
        self.bias = nn.Parameter(torch.empty(E, 1, d_out)) if bias else None
        self.d_in = d_in

    def reset(self, e: int, g: torch.Generator):
        # nn.Linear default: kaiming_uniform(a=sqrt(5)) == U(-1/sqrt(d_in), 1/sqrt(d_in)); same bound for bias
        bound = 1.0 / math.sqrt(self.d_in)
        with torch.no_grad():
            w = torch.rand(self.weight.shape[2], self.d_in, generator=g) * 2 * bound - bound  # (out, in)
            self.weight[e].copy_(w.T)
            if self.bias is not None:
                self.bias[e, 0].copy_(torch.rand(self.bias.shape[2], generator=g) * 2 * bound - bound)

    def forward(self, x):  # x: (E, M, d_in) -> (E, M, d_out)
        y = torch.bmm(x, self.weight)
        return y + self.bias if self.bias is not None else y


class ELayerNorm(nn.Module):
    def __init__(self, E: int, dim: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(E, 1, dim))
        self.bias = nn.Parameter(torch.zeros(E, 1, dim))
        self.eps = eps

    def reset(self, e: int, g: torch.Generator):
        with torch.no_grad():
            self.weight[e].fill_(1.0)
            self.bias[e].zero_()

    def forward(self, x):  # x: (E, M, dim)
        return F.layer_norm(x, x.shape[-1:], eps=self.eps) * self.weight + self.bias


class EMLP(nn.Module):
    """Three-layer ReLU network d_in -> width -> width -> d_out (the paper's MLP phi)."""

    def __init__(self, E: int, d_in: int, width: int, d_out: int = 1):
        super().__init__()
        self.l1 = ELinear(E, d_in, width)
        self.l2 = ELinear(E, width, width)
        self.l3 = ELinear(E, width, d_out)

    def reset(self, e, g):
        for layer in (self.l1, self.l2, self.l3):
            layer.reset(e, g)

    def forward(self, x):  # (E, M, d_in) -> (E, M, d_out)
        return self.l3(F.relu(self.l2(F.relu(self.l1(x)))))


class _Ensemble(nn.Module):
    """Common part: per-member seeded initialisation and the attention/MLP parameter split."""

    def __init__(self, E: int):
        super().__init__()
        self.E = E

    def init_members(self, seeds):
        """Initialise member e from its own generator seeded with seeds[e] (PyTorch default init)."""
        if len(seeds) != self.E:
            raise ValueError(f"need one seed per member: got {len(seeds)} seeds for E={self.E}")
        for e, s in enumerate(seeds):
            self.reset_member(e, torch.Generator().manual_seed(int(s)))
        return self

    def reset_member(self, e: int, g: torch.Generator):
        raise NotImplementedError

    def param_groups(self) -> dict:
        mlp = [p for n, p in self.named_parameters() if n.startswith("mlp")]
        attn = [p for n, p in self.named_parameters() if not n.startswith("mlp")]
        return {"attn": attn, "mlp": mlp}


def tokens(x, labels, one_hot: bool):
    """Concatenate items and labels; the target's (last) label part is zeroed.

    x: (E, B, N, D), labels: (E, B, N) in {-1, +1} -> (E, B, N, D+2) one-hot or (E, B, N, D+1) scalar.
    Written into one preallocated tensor (one pass over the items, no intermediate copies).
    """
    E, B, N, D = x.shape
    t = x.new_empty(E, B, N, D + (2 if one_hot else 1))
    t[..., :D] = x
    if one_hot:
        t[..., D] = labels > 0  # +1 -> (1, 0), -1 -> (0, 1)
        t[..., D + 1] = labels < 0
    else:
        t[..., D] = labels
    t[:, :, -1, D:] = 0.0
    return t


# ----------------------------------------------------------------------------- one-layer transformer
class OneLayerTransformer(_Ensemble):
    """Eq (1): u = LN(t)_last + sum_j softmax_j(LN(t_j)^T K^T Q LN(t_last)) V LN(t_j); z = MLP(u).

    As in the authors' code: a single bias-free Linear(W, 3W) gives Q, K, V (W = D + 2), attention scale 1,
    causal mask (the target, last, attends to every token including itself), no output projection.
    Only the target's output is needed, so only its query is computed.
    """

    def __init__(self, E: int, D: int, width: int):
        super().__init__(E)
        W = D + 2
        self.W = W
        self.ln = ELayerNorm(E, W)
        self.qkv = ELinear(E, W, 3 * W, bias=False)
        self.mlp = EMLP(E, W, width, 1)

    def reset_member(self, e, g):
        self.ln.reset(e, g)
        self.qkv.reset(e, g)
        self.mlp.reset(e, g)

    def forward(self, x, labels):
        """Eq (1) for the target's query, without materialising the tokens or their normalisation.

        Tokens t_j = [x_j, onehot(l_j)] (W = D + 2 features; the target's label part is zero) and
        h_j = LN(t_j) = (t_j - mu_j) rstd_j * w + b. Only the target's query q = Wq h_N is needed, and with
        r = Wk^T q the scores are h_j . r = rstd_j (t_j . v - mu_j sum(v)) + b . r, v = w * r; b . r is the same
        for every j, so it drops out of the softmax. The attention output is Wv sum_j a_j h_j with
        sum_j a_j h_j = w * sum_j c_j (t_j - mu_j) + b, c_j = a_j rstd_j (the a_j sum to 1). Every step is exact
        algebra; the N x W tensors t and h are never built, and no gradient flows into an N x W tensor: the items
        x are read by four contractions (two forward, two backward), which is what bounds the speed at paper
        size. tests/test_models.py checks outputs and gradients against :class:`PlainOneLayerTransformer`.
        """
        E, B, N, D = x.shape
        W = self.W
        oh = torch.stack([labels > 0, labels < 0], dim=-1).to(x.dtype)  # (E, B, N, 2): +1 -> (1, 0)
        oh[:, :, -1] = 0.0  # the target's label is not an input
        ones = oh.sum(-1)  # (E, B, N): 1 for context tokens, 0 for the target
        mu = (x.sum(-1) + ones) / W  # (E, B, N) LayerNorm mean over the W features
        var = (torch.linalg.vector_norm(x, dim=-1) ** 2 + ones) / W - mu * mu  # one-hot entries square to themselves
        rstd = torch.rsqrt(var + self.ln.eps)  # (E, B, N)
        w, b = self.ln.weight, self.ln.bias  # (E, 1, W)
        t_last = torch.cat([x[:, :, -1], oh[:, :, -1]], dim=-1)  # (E, B, W)
        h_last = (t_last - mu[..., -1:]) * rstd[..., -1:] * w + b  # (E, B, W) = LN(t_N)
        Wq, Wk, Wv = self.qkv.weight.split(W, dim=-1)  # each (E, W, W), used as x @ W
        r = torch.bmm(torch.bmm(h_last, Wq), Wk.transpose(1, 2))  # (E, B, W): Wk^T q
        v = w * r  # (E, B, W)
        xs = x.reshape(E * B, N, D)  # one sequence per row; contractions as row-vector products (fast on CPU)
        tv = torch.bmm(v[..., :D].reshape(E * B, 1, D), xs.transpose(1, 2)).view(E, B, N) \
            + torch.einsum("ebnk,ebk->ebn", oh, v[..., D:])  # t_j . v
        a = torch.softmax(rstd * (tv - mu * v.sum(-1, keepdim=True)), dim=-1)  # (E, B, N), scale 1.0
        c = a * rstd  # (E, B, N)
        ct = torch.cat([torch.bmm(c.reshape(E * B, 1, N), xs).view(E, B, D),
                        torch.einsum("ebn,ebnk->ebk", c, oh)], dim=-1)  # sum_j c_j t_j
        mean_h = (ct - (c * mu).sum(-1, keepdim=True)) * w + b  # (E, B, W): sum_j a_j h_j
        u = h_last + torch.bmm(mean_h, Wv)  # (E, B, W)
        return self.mlp(u).squeeze(-1)  # (E, B)


class TwoLayerTransformer(_Ensemble):
    """Fig A.5 variant: h1 = h0 + Attn1(h0) (full causal), h2 = h1 + MLP1(h1), z = MLP(h2_last + Attn2(h2)_last).

    Our reading of the authors' description "the same attention twice with a residual, an MLP
    (W -> 512 -> 512 -> W) between"; h0 = LN(t).
    """

    def __init__(self, E: int, D: int, width: int):
        super().__init__(E)
        W = D + 2
        self.W = W
        self.ln = ELayerNorm(E, W)
        self.qkv1 = ELinear(E, W, 3 * W, bias=False)
        self.qkv2 = ELinear(E, W, 3 * W, bias=False)
        self.mlp_mid = EMLP(E, W, width, W)
        self.mlp = EMLP(E, W, width, 1)

    def reset_member(self, e, g):
        for m in (self.ln, self.qkv1, self.mlp_mid, self.qkv2, self.mlp):
            m.reset(e, g)

    def param_groups(self):
        mlp = [p for n, p in self.named_parameters() if n.startswith("mlp")]  # mlp and mlp_mid
        attn = [p for n, p in self.named_parameters() if not n.startswith("mlp")]
        return {"attn": attn, "mlp": mlp}

    def forward(self, x, labels):
        t = tokens(x, labels, one_hot=True)
        E, B, N, W = t.shape
        h = self.ln(t.reshape(E, B * N, W)).view(E, B, N, W)
        q, k, v = self.qkv1(h.reshape(E, B * N, W)).view(E, B, N, 3 * W).split(W, dim=-1)
        scores = torch.einsum("ebnw,ebmw->ebnm", q, k)  # (E, B, N, N), scale 1.0
        causal = torch.ones(N, N, dtype=torch.bool, device=x.device).tril()
        a = torch.softmax(scores.masked_fill(~causal, float("-inf")), dim=-1)
        h = h + torch.einsum("ebnm,ebmw->ebnw", a, v)
        h = h + self.mlp_mid(h.reshape(E, B * N, W)).view(E, B, N, W)
        q, k, v = self.qkv2(h.reshape(E, B * N, W)).view(E, B, N, 3 * W).split(W, dim=-1)
        a2 = torch.softmax(torch.einsum("ebnw,ebw->ebn", k, q[:, :, -1]), dim=-1)
        u = h[:, :, -1] + torch.einsum("ebn,ebnw->ebw", a2, v)
        return self.mlp(u).squeeze(-1)


# ----------------------------------------------------------------------------- minimal model and MLP
class MinimalModel(_Ensemble):
    """Eq (3): z = phi(x_target) + w * sum_{j<N} softmax_j(beta x_j . x_target) l_j.

    Labels are +-1 scalars; the sum runs over the N-1 context tokens. w0 = 0 (paper), beta0 configurable.
    The "attention" parameters are the two scalars w and beta (one per member).
    """

    def __init__(self, E: int, D: int, width: int, beta0: float = 0.0, w0: float = 0.0):
        super().__init__(E)
        self.w = nn.Parameter(torch.full((E, 1), float(w0)))
        self.beta = nn.Parameter(torch.full((E, 1), float(beta0)))
        self.beta0, self.w0 = float(beta0), float(w0)
        self.mlp = EMLP(E, D, width, 1)

    def reset_member(self, e, g):
        self.mlp.reset(e, g)
        with torch.no_grad():
            self.w[e] = self.w0
            self.beta[e] = self.beta0

    def attention_logit(self, x, labels):
        """z_ATT of eq (3): (E, B)."""
        E, B, N, D = x.shape
        target = x[:, :, -1].reshape(E * B, 1, D)
        sims = torch.bmm(target, x.reshape(E * B, N, D).transpose(1, 2)).view(E, B, N)[..., :-1]  # x_j . x_target
        a = torch.softmax(self.beta[..., None] * sims, dim=-1)
        return self.w * (a * labels[:, :, :-1]).sum(-1)

    def forward(self, x, labels):
        z_mlp = self.mlp(x[:, :, -1]).squeeze(-1)  # (E, B)
        return z_mlp + self.attention_logit(x, labels)


class MLPOnly(_Ensemble):
    """The MLP phi alone on the target item: the memorisation experiments (Fig 5, A.2, A.3)."""

    def __init__(self, E: int, D: int, width: int):
        super().__init__(E)
        self.mlp = EMLP(E, D, width, 1)

    def reset_member(self, e, g):
        self.mlp.reset(e, g)

    def logits(self, items):
        """items: (M, D) shared by all members or (E, M, D) -> (E, M)."""
        if items.dim() == 2:
            items = items.expand(self.E, *items.shape)
        return self.mlp(items).squeeze(-1)

    def forward(self, x, labels):
        return self.mlp(x[:, :, -1]).squeeze(-1)


MODELS = {
    "transformer1": OneLayerTransformer,
    "transformer2": TwoLayerTransformer,
    "minimal": MinimalModel,
    "mlp": MLPOnly,
}


def _check_build_args(name, E, D, width, seeds, kwargs) -> None:
    """ValueError for anything `build` cannot make a model of (before any allocation)."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(MODELS)}")
    for arg, v in (("E", E), ("D", D), ("width", width)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{arg}={v!r}: must be an integer >= 1")
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"seeds={seeds!r}: must be a sequence of integers, one per member") from None
    if len(seeds) != E:
        raise ValueError(f"need one seed per member: got {len(seeds)} seeds for E={E}")
    for s in seeds:
        if not isinstance(s, numbers.Integral) or isinstance(s, bool):
            raise ValueError(f"seed {s!r}: must be an integer")
    try:
        inspect.signature(MODELS[name]).bind(E, D, width, **kwargs)
    except TypeError as e:
        raise ValueError(f"model {name!r}: {e}") from None
    for arg, v in kwargs.items():
        if arg in ("beta0", "w0") and not (isinstance(v, numbers.Real) and not isinstance(v, bool)
                                           and math.isfinite(v)):
            raise ValueError(f"{arg}={v!r}: must be a finite number")


def build(name: str, E: int, D: int, width: int, seeds, **kwargs) -> _Ensemble:
    """An ensemble of E members of model `name`, member e initialised from seeds[e]. Arguments are checked first."""
    _check_build_args(name, E, D, width, seeds, kwargs)
    return MODELS[name](E, D, width, **kwargs).init_members(seeds)


# ----------------------------------------------------------------------------- plain single-model reference
class PlainOneLayerTransformer(nn.Module):
    """The one-layer transformer written with stock layers (nn.LayerNorm, nn.Linear, scaled_dot_product_attention).

    A literal single-model transcription of the authors' architecture: full causal attention over every
    position, then the last position. Used as the naive baseline and as the reference in tests.
    """

    def __init__(self, D: int, width: int):
        super().__init__()
        W = D + 2
        self.ln = nn.LayerNorm(W)
        self.qkv = nn.Linear(W, 3 * W, bias=False)
        self.mlp = nn.Sequential(nn.Linear(W, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, 1))

    def forward(self, t):  # t: (B, N, W) tokens -> (B,)
        h = self.ln(t)
        q, k, v = self.qkv(h).chunk(3, dim=-1)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0)
        return self.mlp(h[:, -1] + att[:, -1]).squeeze(-1)

    @classmethod
    def from_member(cls, ens: OneLayerTransformer, e: int) -> "PlainOneLayerTransformer":
        D = ens.W - 2
        width = ens.mlp.l1.weight.shape[2]
        m = cls(D, width)
        with torch.no_grad():
            m.ln.weight.copy_(ens.ln.weight[e, 0])
            m.ln.bias.copy_(ens.ln.bias[e, 0])
            m.qkv.weight.copy_(ens.qkv.weight[e].T)
            for plain, el in zip((m.mlp[0], m.mlp[2], m.mlp[4]), (ens.mlp.l1, ens.mlp.l2, ens.mlp.l3)):
                plain.weight.copy_(el.weight[e].T)
                plain.bias.copy_(el.bias[e, 0])
        return m

    def to_member(self, ens: OneLayerTransformer, e: int) -> OneLayerTransformer:
        """Write these weights into member e of an ensemble (the inverse of :meth:`from_member`)."""
        with torch.no_grad():
            ens.ln.weight[e, 0].copy_(self.ln.weight)
            ens.ln.bias[e, 0].copy_(self.ln.bias)
            ens.qkv.weight[e].copy_(self.qkv.weight.T)
            for plain, el in zip((self.mlp[0], self.mlp[2], self.mlp[4]), (ens.mlp.l1, ens.mlp.l2, ens.mlp.l3)):
                el.weight[e].copy_(plain.weight.T)
                el.bias[e, 0].copy_(plain.bias)
        return ens
