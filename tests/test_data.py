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
