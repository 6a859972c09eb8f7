"""Synthetic in-context classification data (paper section 2, Fig 2a), batched over an ensemble.

Conventions (as in the authors' code, see `official-code.md`):

* ``N`` counts the target: a sequence holds ``N - 1`` context tokens followed by the target.
* Items are ``x ~ N(0, 1/D)`` in ``D`` dimensions; each item has a label in {-1, +1}.
* A dataset of ``K`` pairs has exactly ``K/2`` items of each label (a balanced random split).
  ``K = None`` means ``K -> infinity``: fresh items and labels for every sequence.
* ``pool = P > 0`` (optional, K = infinity only): instead of fresh Gaussian items, every sequence takes N - 1
  distinct items from a fixed pool of P Gaussian items, with fresh random labels on every use (see
  :func:`_pooled_items`). No item-label pair ever repeats by design, so nothing can be memorised and the only
  solution is still ICL; what changes is the cost: B x N indices instead of B x N x D normals.
* All members of an ensemble share one bank of items (the authors reuse the same items across runs,
  only labels, initialisation and sampling vary); member ``e`` uses the first ``K_e`` items with its own
  labels.

Every sampler returns ``(x, labels)`` with ``x: (E, B, N, D)`` and ``labels: (E, B, N)`` in {-1, +1};
position ``N - 1`` is the target, whose label is the training target (models must not read it).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch


def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)  # numpy integers are Integral too


def _check_int(name: str, v, lo: int) -> None:
    if not _is_int(v) or v < lo:
        raise ValueError(f"{name} must be an integer >= {lo}; got {name}={v!r}")


def _check_n(N) -> None:
    if not _is_int(N) or N < 2:
        raise ValueError(f"N must be >= 2 and an integer (N counts the target); got N={N!r}")


def _check_generator(g) -> None:
    if not isinstance(g, torch.Generator):
        raise ValueError(f"g must be a torch.Generator (torch.Generator(device).manual_seed(seed)); got {g!r}")


def _check_balanced_n(N) -> None:
    if N % 2 or N < 4:
        raise ValueError(f"balanced contexts need an even N >= 4; got N={N}")


def _check_k(Ks):
    for K in Ks:
        if K is None:
            continue
        if not isinstance(K, int) or K < 2 or K % 2:
            raise ValueError(f"K must be an even integer >= 2 or None (infinity); got K={K!r}")


@dataclass
class ItemBank:
    """Items shared by an ensemble and per-member labels.

    items:  (K_max, D) float, x ~ N(0, 1/D)
    labels: (E, K_max) float in {-1, +1}; member e's first K_e items are split K_e/2 : K_e/2
    """

    items: torch.Tensor
    labels: torch.Tensor
    Ks: tuple  # per member, int or None
    pool: torch.Tensor | None = None  # (P, D) items reused with fresh labels by K = infinity members, or None

    @classmethod
    def create(cls, Ks, D: int, member_seeds, data_seed: int = 10, device="cpu", pool: int = 0) -> "ItemBank":
        Ks = tuple(Ks)
        _check_k(Ks)
        _check_int("D", D, 1)
        if not Ks:
            raise ValueError("an ensemble needs at least one member (Ks is empty)")
        if len(member_seeds) != len(Ks):
            raise ValueError("member_seeds and Ks must have one entry per ensemble member")
        for seed in member_seeds:
            if not _is_int(seed):
                raise ValueError(f"member seeds must be integers; got seed {seed!r}")
        _check_int("data_seed", data_seed, 0)
        finite = [K for K in Ks if K is not None]
        k_max = max(finite) if finite else 2
        g = torch.Generator().manual_seed(data_seed)
        items = torch.randn(k_max, D, generator=g) / math.sqrt(D)
        labels = torch.zeros(len(Ks), k_max)
        for e, (K, seed) in enumerate(zip(Ks, member_seeds)):
            k = k_max if K is None else K
            perm = torch.randperm(k, generator=torch.Generator().manual_seed(10_000 + int(seed)))
            lab = torch.ones(k)
            lab[perm[: k // 2]] = -1.0
            labels[e, :k] = lab
        pool_items = None
        if pool:
            _check_int("pool", pool, 2)
            gp = torch.Generator().manual_seed(data_seed + 1_000_003)  # a stream apart from the finite-K items
            pool_items = (torch.randn(pool, D, generator=gp) / math.sqrt(D)).to(device)
        return cls(items.to(device), labels.to(device), Ks, pool_items)

    @property
    def E(self) -> int:
        return len(self.Ks)

    @property
    def D(self) -> int:
        return self.items.shape[1]

    def k_tensor(self) -> torch.Tensor:
        """(E,) long: K per member; members with K = infinity get K_max (their bank entries are unused)."""
        k_max = self.items.shape[0]
        return torch.tensor([k_max if K is None else K for K in self.Ks], device=self.items.device)

    def infinite_mask(self) -> torch.Tensor:
        return torch.tensor([K is None for K in self.Ks], device=self.items.device)

    def subset(self, members: torch.Tensor) -> "ItemBank":
        """The bank of the ensemble rows `members` (long tensor of member indices)."""
        rows = members.tolist()
        return ItemBank(self.items, self.labels[members], tuple(self.Ks[e] for e in rows), self.pool)

    def gather(self, idx: torch.Tensor):
        """idx: (E, B, N) long -> x (E, B, N, D), labels (E, B, N)."""
        x = self.items[idx]
        lab = torch.gather(self.labels, 1, idx.flatten(1)).view_as(idx)
        return x, lab


def _fresh(E: int, B: int, N: int, D: int, g, device, contexts: str, pool: torch.Tensor | None = None):
    """Novel items (fresh Gaussians, or distinct pool items, see `_pooled_items`) with labels drawn for this
    sequence only: uniform ("standard" contexts), or "balanced" / "conflict" (see `balanced_labels`); the target
    copies a context item."""
    if pool is None:
        x = torch.randn(E, B, N, D, generator=g, device=device).div_(math.sqrt(D))
    else:
        idx = _pooled_items(E, B, N, pool.shape[0], g, device)  # (E, B, N)
    if contexts != "standard":
        lab = balanced_labels(E, B, N, g, device, conflict=contexts == "conflict")
        src = _same_label_source(lab, g)
    else:
        lab = torch.randint(0, 2, (E, B, N), generator=g, device=device).float() * 2 - 1
        src = torch.randint(0, N - 1, (E, B), generator=g, device=device)
    lab[:, :, -1] = torch.gather(lab, 2, src[..., None]).squeeze(2)
    if pool is not None:  # copy the target in index space, then gather every item once
        idx[:, :, -1] = torch.gather(idx, 2, src[..., None]).squeeze(2)
        return pool.index_select(0, idx.flatten()).view(E, B, N, D), lab
    x[:, :, -1] = torch.gather(x, 2, src[..., None, None].expand(E, B, 1, D)).squeeze(2)
    return x, lab


def _pooled_items(E: int, B: int, N: int, P: int, g, device) -> torch.Tensor:
    """(E, B, N) pool indices, distinct within each sequence, every index uniform over the pool of P items.

    Consecutive chunks of N - 1 entries of random permutations of the pool, or, when a step needs far fewer
    items than the pool holds, independent draws with repeats redrawn (`_distinct_draws`). Within a sequence no
    item repeats (as with fresh Gaussians, where a repeat has probability 0), so no two context tokens show one
    item with two labels. The last position is a placeholder that `_fresh` overwrites with a copy of a context item.

    Why this is K = infinity for the task: the label of every token is drawn afresh on every use, independent
    of which pool item it decorates, so E[label | item] = 0 and no item-label association exists to memorise;
    a sequence is N - 1 distinct i.i.d. N(0, I/D) items with independent uniform labels and a target copying one
    of them, exactly as with fresh sampling. The one difference is that items recur across sequences (each of
    the P items appears in about E B (N - 1) / P sequences per step); tests/test_data.py::test_pool_sampler_*
    check that t_ICL and the ICL curves match fresh sampling within noise.
    """
    n_seq = E * B
    if n_seq * (N - 1) < P // 16:  # a small demand: redraw repeats (cheaper than permuting the whole pool)
        ctx = _distinct_draws((E, B, N - 1), P, g, device)
    else:  # chunks of random permutations of the pool
        per_perm = P // (N - 1)  # sequences one permutation provides
        perms = [torch.randperm(P, generator=g, device=device)[: per_perm * (N - 1)]
                 for _ in range(-(-n_seq // per_perm))]
        ctx = torch.cat(perms)[: n_seq * (N - 1)].view(E, B, N - 1)
    return torch.cat([ctx, ctx[..., :1]], dim=-1)


def _distinct_draws(shape: tuple, high, g, device) -> torch.Tensor:
    """Integers uniform in [0, high) (`high`: an int or a tensor broadcasting to `shape`), distinct along the last
    dimension: draw, then redraw every entry equal to an earlier one in its row until none is. Each position
    ends up uniform over the values its predecessors do not hold, so a row is a uniformly random ordered set of
    distinct values. Cheap when repeats are rare (row length << high)."""
    n = shape[-1]
    sub = (torch.rand(shape, generator=g, device=device) * high).long().clamp_max(high - 1)
    earlier = torch.tril(torch.ones(n, n, dtype=torch.bool, device=device), diagonal=-1)
    while True:
        dup = ((sub[..., :, None] == sub[..., None, :]) & earlier).any(-1)
        if not dup.any():
            return sub
        fresh = (torch.rand(sub.shape, generator=g, device=device) * high).long().clamp_max(high - 1)
        sub = torch.where(dup, fresh, sub)


def balanced_labels(E, B, N, g, device, conflict: bool = False):
    """(E, B, N) labels whose first N-1 entries hold N/2 of one label and N/2 - 1 of the other.

    With the target copying a context item of the minority label, the N tokens hold exactly N/2 of each.
    The minority label is the target's label, chosen uniformly; it is placed so that a copy exists.
    ``conflict``: the target's label is the context's *majority* instead (N/2 against N/2 - 1), so that the
    balanced task's shortcut, "answer the context's minority label", and copying the target's label disagree
    on every sequence (the test contexts of `sample_icl_eval(..., contexts="conflict")`).
    """
    target = torch.randint(0, 2, (E, B), generator=g, device=device).float() * 2 - 1  # (E, B)
    ctx = torch.ones(E, B, N - 1, device=device)
    ctx[..., : N // 2] = -1.0  # N/2 of -1, N/2 - 1 of +1
    ctx = ctx * (-target if conflict else target)[..., None]  # the target's label: majority or minority
    perm = torch.rand(E, B, N - 1, generator=g, device=device).argsort(-1)
    ctx = torch.gather(ctx, 2, perm)
    return torch.cat([ctx, target[..., None]], dim=2)


def _same_label_source(labels, g):
    """(E, B): a uniformly chosen context position whose label equals the target's (labels: (E, B, N))."""
    same = labels[..., :-1] == labels[..., -1:]  # (E, B, N-1)
    score = (torch.rand(same.shape, generator=g, device=labels.device) + 1e-6) * same
    return score.argmax(-1)


def sample_train(bank: ItemBank, B: int, N: int, g: torch.Generator, balanced: bool = False):
    """Training sequences exactly as in the authors' code.

    N items are drawn uniformly with replacement from each member's K items; the last one is the target;
    if it does not occur among the first N-1 it is replaced by a copy of a random context item.
    ``balanced``: every sequence holds exactly N/2 items of each label (Fig 6e, A.8).
    Members with K = infinity get fresh items every sequence.
    """
    E, device = bank.E, bank.items.device
    _check_int("B", B, 1)
    _check_n(N)
    _check_generator(g)
    if balanced:
        _check_balanced_n(N)
    inf = bank.infinite_mask()
    contexts = "balanced" if balanced else "standard"
    if inf.all():  # K = infinity for every member: no item bank to draw from
        return _fresh(E, B, N, bank.D, g, device, contexts, bank.pool)
    idx = _balanced_indices(bank, B, N, g) if balanced else authors_sequences(bank.k_tensor(), B, N, g)
    x, lab = bank.gather(idx)
    if inf.any():
        xf, lf = _fresh(E, B, N, bank.D, g, device, contexts, bank.pool)
        m = inf[:, None, None]
        x = torch.where(m[..., None], xf, x)
        lab = torch.where(m, lf, lab)
    return x, lab


def authors_sequences(K: torch.Tensor, B: int, N: int, g: torch.Generator) -> torch.Tensor:
    """The authors' training sequences, as item indices (E, B, N) into each member's K items (K: (E,)): N items
    drawn uniformly with replacement; the last is the target, and when it does not occur among the first N - 1 it
    is replaced by a copy of a random context item. :func:`sample_train` checks the inputs and calls this."""
    E, K = len(K), K[:, None, None]  # (E, 1, 1)
    idx = (torch.rand(E, B, N, generator=g, device=K.device) * K).long().clamp_max(K - 1)  # (E, B, N)
    present = (idx[..., :-1] == idx[..., -1:]).any(-1)  # (E, B): the target occurs in the context
    src = torch.randint(0, N - 1, (E, B), generator=g, device=K.device)  # a random context position
    copy = torch.gather(idx, 2, src[..., None]).squeeze(-1)
    idx[..., -1] = torch.where(present, idx[..., -1], copy)
    return idx


def _balanced_indices(bank: ItemBank, B: int, N: int, g):
    """(E, B, N) item indices with N/2 tokens of each label; the target copies a same-label context item."""
    E, device = bank.E, bank.items.device
    k_max = bank.items.shape[0]
    labels = balanced_labels(E, B, N, g, device)  # (E, B, N) desired labels
    # Positions of each label within the member's first K items: sort labels so that -1 come first.
    Kt = bank.k_tensor()  # (E,)
    valid = torch.arange(k_max, device=device)[None] < Kt[:, None]  # (E, K_max)
    key = torch.where(valid, bank.labels, torch.full_like(bank.labels, 3.0))
    order = key.argsort(dim=1, stable=True)  # (E, K_max): K/2 negatives, then K/2 positives, then unused
    half = (Kt // 2)[:, None, None]  # (E, 1, 1)
    u = torch.rand(E, B, N, generator=g, device=device)
    rank = (u * half).long().clamp_max(half - 1) + torch.where(labels > 0, half, torch.zeros_like(half))
    idx = torch.gather(order, 1, rank.flatten(1)).view(E, B, N)
    src = _same_label_source(labels, g)
    idx[..., -1] = torch.gather(idx, 2, src[..., None]).squeeze(-1)
    return idx


ICL_CONTEXTS = ("standard", "balanced", "conflict")


def sample_icl_eval(E: int, B: int, N: int, D: int, g, device="cpu", contexts: str = "standard"):
    """ICL evaluation: sequences of novel items (never seen in training) built like training sequences.

    A deliberate choice: every test sequence gets fresh items (K = infinity). The authors' code draws ICL test
    sequences from a second bank of min(20000, K) novel items instead; both are "novel items sampled like the
    training set", fresh items never repeat across test sequences.

    ``contexts``: "standard" (uniform labels), "balanced" (N/2 of each label counting the target, which is then
    the context's minority label) or "conflict" (the target's label is the context's majority: copying and the
    balanced task's minority-label shortcut give opposite answers).
    """
    _check_int("E", E, 1)
    _check_int("B", B, 1)
    _check_n(N)
    _check_int("D", D, 1)
    _check_generator(g)
    if contexts not in ICL_CONTEXTS:
        raise ValueError(f"contexts={contexts!r}: must be one of {', '.join(ICL_CONTEXTS)}")
    if contexts != "standard":
        _check_balanced_n(N)
    return _fresh(E, B, N, D, g, device, contexts)


SMALL_K = 4096  # IWL evaluation draws distinct items by sorting random keys up to this K, by rejection above


def sample_iwl_eval(bank: ItemBank, B: int, N: int, g: torch.Generator):
    """IWL evaluation: N distinct training items per sequence, so the target has no copy in the context.

    Only the weights can answer. Requires K >= N for every member; K = infinity members get no IWL.
    """
    E, device = bank.E, bank.items.device
    _check_int("B", B, 1)
    _check_n(N)
    _check_generator(g)
    for K in bank.Ks:
        if K is not None and K < N:
            raise ValueError(f"IWL evaluation needs K >= N distinct items; got K={K} < N={N}")
    Kt = bank.k_tensor()  # (E,)
    idx = torch.zeros(E, B, N, dtype=torch.long, device=device)  # K = infinity members keep item 0 (no IWL)
    finite = ~bank.infinite_mask()
    small = (Kt <= SMALL_K) & finite
    if small.any():
        # Exact for small K: the N smallest of K uniform keys (items beyond K get +inf) are a uniform N-subset.
        ks = Kt[small]
        keys = torch.rand(int(small.sum()), B, int(ks.max()), generator=g, device=device)
        keys = keys.masked_fill(torch.arange(keys.shape[-1], device=device) >= ks[:, None, None], float("inf"))
        sub = keys.topk(N, dim=-1, largest=False).indices  # (E_small, B, N)
        idx[small] = torch.gather(sub, 2, torch.rand(sub.shape, generator=g, device=device).argsort(-1))
    large = ~small & finite
    if large.any():
        # Large K: duplicates are rare; resample the repeated entries until every row is distinct.
        idx[large] = _distinct_draws((int(large.sum()), B, N), Kt[large][:, None, None], g, device)
    return bank.gather(idx)
