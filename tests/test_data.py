import numpy as np
import pytest
import torch

from icl_kinetics import data


def bank(Ks=(200, 1000, None), D=16):
    return data.ItemBank.create(Ks, D, member_seeds=list(range(len(Ks))))


def test_labels_balanced_per_member():
    b = bank()
    for e, K in enumerate(b.Ks):
        if K is not None:
            lab = b.labels[e, :K]
            assert (lab == 1).sum() == K // 2 and (lab == -1).sum() == K // 2


def test_items_scale_and_shared_bank():
    b = bank(Ks=(4000,), D=64)
    norms = b.items.norm(dim=1) ** 2
    assert abs(norms.mean().item() - 1.0) < 0.02  # x ~ N(0, 1/D): E|x|^2 = 1
    b2 = data.ItemBank.create((4000,), 64, member_seeds=[5])
    assert torch.equal(b.items, b2.items)  # the same items across runs (data seed), labels differ
    assert not torch.equal(b.labels, b2.labels)


def test_train_target_is_copy_of_context_item_with_its_label():
    b = bank()
    g = torch.Generator().manual_seed(0)
    x, lab = data.sample_train(b, 64, 10, g)
    assert x.shape == (3, 64, 10, 16) and lab.shape == (3, 64, 10)
    same = (x[:, :, :-1] == x[:, :, -1:]).all(-1)  # (E, B, N-1)
    assert same.any(-1).all()
    # the copy carries the target's label
    e, bb, j = torch.nonzero(same, as_tuple=True)
    assert torch.equal(lab[e, bb, j], lab[e, bb, -1])


def test_train_items_come_from_first_K_with_member_labels():
    b = bank(Ks=(20, 40))
    g = torch.Generator().manual_seed(1)
    x, lab = data.sample_train(b, 256, 8, g)
    for e, K in enumerate(b.Ks):
        flat = x[e].reshape(-1, 16)
        d = torch.cdist(flat, b.items[:K], compute_mode="donot_use_mm_for_euclid_dist")
        idx = d.argmin(1)
        assert torch.allclose(d.min(1).values, torch.zeros(len(flat)), atol=1e-6)
        assert torch.equal(lab[e].reshape(-1), b.labels[e, idx])


def test_balanced_contexts_hold_half_of_each_label():
    b = bank()
    g = torch.Generator().manual_seed(2)
    x, lab = data.sample_train(b, 128, 10, g, balanced=True)
    assert torch.equal((lab > 0).sum(-1), torch.full((3, 128), 5))
    same = (x[:, :, :-1] == x[:, :, -1:]).all(-1)
    assert same.any(-1).all()


@pytest.mark.parametrize("contexts, target_count", [("balanced", 4), ("conflict", 5)])
def test_balanced_and_conflict_eval_contexts(contexts, target_count):
    """N = 10: 9 context tokens hold 5 of one label and 4 of the other; the target's label is the minority (4)
    in balanced contexts and the majority (5) in conflict contexts, and a copy of the target is always there."""
    g = torch.Generator().manual_seed(4)
    x, lab = data.sample_icl_eval(3, 256, 10, 16, g, contexts=contexts)
    same_label = (lab[..., :-1] == lab[..., -1:]).sum(-1)  # (E, B)
    assert torch.equal(same_label, torch.full((3, 256), target_count))
    copy = (x[:, :, :-1] == x[:, :, -1:]).all(-1)  # (E, B, N-1)
    assert copy.any(-1).all()
    assert torch.equal(torch.gather(lab[..., :-1], 2, copy.float().argmax(-1, keepdim=True)).squeeze(-1),
                       lab[..., -1])  # the copy carries the target's label
    assert 0.4 < (lab[..., -1] > 0).float().mean() < 0.6  # the target's label is uniform


def test_iwl_eval_has_distinct_items_and_no_target_copy():
    b = bank(Ks=(100, 1000))
    g = torch.Generator().manual_seed(3)
    x, lab = data.sample_iwl_eval(b, 200, 50, g)
    for e in range(2):
        d = torch.cdist(x[e].reshape(-1, 16), x[e].reshape(-1, 16)).view(200, 50, 200, 50)
        # within each sequence all 50 items are distinct
        for s in range(0, 200, 37):
            m = d[s, :, s, :] + torch.eye(50) * 10
            assert m.min() > 1e-6


def test_icl_eval_items_are_novel():
    b = bank(Ks=(1000,))
    g = torch.Generator().manual_seed(4)
    x, _ = data.sample_icl_eval(1, 50, 10, 16, g)
    assert torch.cdist(x.reshape(-1, 16), b.items).min() > 1e-3


def test_impossible_inputs_raise():
    with pytest.raises(ValueError, match="even"):
        data.ItemBank.create((101,), 8, [0])
    with pytest.raises(ValueError, match="N must be >= 2"):
        data.sample_train(bank(), 4, 1, torch.Generator())
    with pytest.raises(ValueError, match="K >= N"):
        data.sample_iwl_eval(bank(Ks=(20,)), 4, 30, torch.Generator())


def test_iwl_eval_is_exact_when_K_equals_N_and_for_large_K():
    b = data.ItemBank.create((12, 6000), 8, member_seeds=[0, 1])
    g = torch.Generator().manual_seed(5)
    x, lab = data.sample_iwl_eval(b, 64, 12, g)
    # K = N: every sequence is a permutation of all 12 items; the large-K member has distinct items too
    for e, K in enumerate((12, 6000)):
        d = torch.cdist(x[e].reshape(-1, 8), b.items[:K], compute_mode="donot_use_mm_for_euclid_dist")
        idx = d.argmin(1).view(64, 12)
        assert all(len(set(row.tolist())) == 12 for row in idx)
    first = torch.cdist(x[0, :, 0], b.items[:12], compute_mode="donot_use_mm_for_euclid_dist").argmin(1)
    assert len(set(first.tolist())) > 6  # the first position is not always the same item


def test_iwl_eval_with_infinite_members():
    b = data.ItemBank.create((None, 12, None), 8, member_seeds=[0, 1, 2])
    x, lab = data.sample_iwl_eval(b, 16, 10, torch.Generator().manual_seed(6))
    assert x.shape == (3, 16, 10, 8)
    d = torch.cdist(x[1].reshape(-1, 8), b.items[:12], compute_mode="donot_use_mm_for_euclid_dist").argmin(1)
    assert all(len(set(row.tolist())) == 10 for row in d.view(16, 10))


# ----------------------------------------------------------------------------- the pool sampler for K = infinity
@pytest.mark.parametrize("P, E, B, N, calls", [(97, 3, 400, 8, 1),  # permutations of the pool
                                                (4096, 1, 10, 8, 600)])  # few items per step (< P / 16): redrawn repeats
def test_pool_sampler_items_distinct_within_sequences_and_uniform(P, E, B, N, calls):
    g = torch.Generator().manual_seed(0)
    idx = torch.cat([data._pooled_items(E, B, N, P, g, "cpu") for _ in range(calls)], dim=1)  # (E, B calls, N)
    ctx = idx[..., :-1]
    assert idx.shape == (E, B * calls, N) and int(idx.min()) >= 0 and int(idx.max()) < P
    assert all(len(set(row.tolist())) == N - 1 for row in ctx.reshape(-1, N - 1))  # no repeat in a context
    counts = torch.bincount(ctx.flatten(), minlength=P).numpy()
    from scipy.stats import chisquare
    assert chisquare(counts).pvalue > 1e-3  # every pool item equally likely


def test_pool_sampler_labels_carry_no_information_about_items():
    """The same pool item gets +1 and -1 equally often across sequences: nothing to memorise."""
    bank = data.ItemBank.create((None,) * 2, 8, [0, 1], pool=64)
    g = torch.Generator().manual_seed(1)
    x, lab = data.sample_train(bank, 2000, 6, g)
    ctx, ctx_lab = x[:, :, :-1].reshape(-1, 8), lab[:, :, :-1].flatten()  # the target repeats a context token
    item = torch.cdist(ctx, bank.pool).argmin(1)  # which pool item each context token shows
    assert torch.allclose(bank.pool[item], ctx)
    plus = torch.bincount(item, weights=(ctx_lab > 0).double(), minlength=64)
    total = torch.bincount(item, minlength=64).double()
    from scipy.stats import chi2_contingency
    assert chi2_contingency(np.stack([plus.numpy(), (total - plus).numpy()])).pvalue > 1e-3  # label independent
    assert torch.equal(x[:, :, -1:].expand_as(x[:, :, :-1]).eq(x[:, :, :-1]).all(-1).any(-1),
                       torch.ones(2, 2000, dtype=torch.bool))  # the target copies a context item


def test_pool_sampler_matches_fresh_sampling_within_noise():
    """t_ICL and the mean ICL curve with a deliberately small pool (each item reused ~10 times per step) agree
    with exact fresh sampling: Mann-Whitney p > 0.05 on t_ICL, and the mean curves within 3 standard errors."""
    from scipy.stats import mannwhitneyu

    from icl_kinetics.train import RunConfig, train
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = {pool: train(RunConfig(model="transformer1", D=8, N=6, width=16, lr=0.1, batch=32, Ks=(None,) * 32,
                                      seeds=tuple(range(32)), wd_attn=(0.0,) * 32, steps=1500, eval_every=25,
                                      n_eval=256, evals=("icl",), early_stop=0.99, pool=pool), progress=False)
                for pool in (0, 512)}
    finally:
        torch.set_num_threads(n)
    t0, t1 = runs[0]["t_icl"], runs[512]["t_icl"]
    assert not np.isnan(t0).any() and not np.isnan(t1).any()
    assert mannwhitneyu(t0, t1).pvalue > 0.05
    assert 0.8 < np.median(t1) / np.median(t0) < 1.25
    # curves: after a member stops its accuracy stays at its last value (it is frozen above 0.99)
    c0, c1 = (np.where(np.isnan(r["icl_acc"]), r["final_icl_acc"][:, None], r["icl_acc"]) for r in runs.values())
    se = np.sqrt(c0.var(0) / len(c0) + c1.var(0) / len(c1)) + 1e-3
    assert np.all(np.abs(c0.mean(0) - c1.mean(0)) < 3 * se + 0.02)


def test_pool_field_is_left_out_of_configs_when_unused():
    """Configs stored before the pool existed still match: `pool` is written only when set."""
    from icl_kinetics.train import RunConfig
    base = dict(model="transformer1", D=8, N=6, width=16, Ks=(None,), seeds=(0,), wd_attn=(0.0,), steps=2,
                eval_every=1)
    assert "pool" not in RunConfig(**base).to_dict()
    c = RunConfig(**base, pool=64)
    assert c.to_dict()["pool"] == 64 and RunConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="pool=8 < 2N=12"):
        RunConfig(**base, pool=8)
