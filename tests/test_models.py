import torch

from icl_kinetics import data, models


def _batch(E=3, B=5, N=7, D=6, seed=0):
    b = data.ItemBank.create((None,) * E, D, list(range(E)))
    return data.sample_train(b, B, N, torch.Generator().manual_seed(seed))


def test_member_matches_plain_transformer():
    E, D, width = 3, 6, 16
    x, lab = _batch(E=E, D=D)
    ens = models.build("transformer1", E, D, width, seeds=[11, 12, 13])
    z = ens(x, lab)
    t = models.tokens(x, lab, one_hot=True)
    for e in range(E):
        plain = models.PlainOneLayerTransformer.from_member(ens, e)
        torch.testing.assert_close(z[e], plain(t[e]), rtol=1e-5, atol=1e-5)


def test_member_init_depends_only_on_its_seed():
    a = models.build("transformer1", 2, 6, 16, seeds=[5, 6])
    b = models.build("transformer1", 3, 6, 16, seeds=[9, 5, 1])
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        torch.testing.assert_close(pa[0], pb[1], msg=na)


def test_plain_init_distribution_matches_pytorch_default():
    ens = models.build("transformer1", 1, 30, 64, seeds=[0])
    ref = torch.nn.Linear(32, 96, bias=False)
    assert abs(ens.qkv.weight.std().item() - ref.weight.std().item()) < 0.01


def test_target_label_is_never_read():
    x, lab = _batch()
    for name in ("transformer1", "transformer2", "minimal", "mlp"):
        m = models.build(name, 3, 6, 16, seeds=[0, 1, 2])
        flipped = lab.clone()
        flipped[:, :, -1] *= -1
        torch.testing.assert_close(m(x, lab), m(x, flipped), msg=name)


def test_minimal_model_eq3():
    """z = MLP(x_t) + w sum_j softmax(beta x_j.x_t) l_j over the N-1 context tokens."""
    x, lab = _batch(E=2, N=5)
    m = models.build("minimal", 2, 6, 8, seeds=[0, 1], beta0=0.3)
    with torch.no_grad():
        m.w.fill_(1.7)
    z = m(x, lab)
    e, b = 1, 2
    xt = x[e, b, -1]
    s = torch.softmax(0.3 * (x[e, b, :-1] @ xt), 0)
    phi = m.mlp(xt[None, None].expand(2, 1, 6))[e, 0, 0]
    torch.testing.assert_close(z[e, b], phi + 1.7 * (s * lab[e, b, :-1]).sum())
    assert m.w.shape == (2, 1) and abs(m.beta[0].item() - 0.3) < 1e-7


def test_param_groups_split_attention_and_mlp():
    m = models.build("transformer1", 2, 6, 8, seeds=[0, 1])
    g = m.param_groups()
    n_attn = sum(p.numel() for p in g["attn"])
    assert n_attn == 2 * (8 * 8 * 3 + 2 * 8)  # qkv + LayerNorm, W = D + 2 = 8
    assert len(g["attn"]) + len(g["mlp"]) == len(list(m.parameters()))
    mm = models.build("minimal", 2, 6, 8, seeds=[0, 1])
    assert {id(p) for p in mm.param_groups()["attn"]} == {id(mm.w), id(mm.beta)}


def test_paper_size_parameter_count():
    m = models.build("transformer1", 1, 63, 512, seeds=[0])
    n = sum(p.numel() for p in m.parameters())
    assert 300_000 < n < 320_000  # about 0.31 M, as the authors' model


def test_member_matches_plain_transformer_outputs_and_gradients_with_trained_layernorm():
    """The fused forward of OneLayerTransformer (no N x W tensors) is exact algebra: with random LayerNorm
    weights and biases, every member's output and every parameter gradient equal the stock-layer model's."""
    E, D, width = 3, 6, 16
    x, lab = _batch(E=E, D=D, N=9)
    ens = models.build("transformer1", E, D, width, seeds=[1, 2, 3])
    g = torch.Generator().manual_seed(4)
    with torch.no_grad():
        ens.ln.weight.copy_(1 + 0.5 * torch.randn(ens.ln.weight.shape, generator=g))
        ens.ln.bias.copy_(0.5 * torch.randn(ens.ln.bias.shape, generator=g))
    z = ens(x, lab)
    torch.nn.functional.softplus(-lab[:, :, -1] * z).sum().backward()
    t = models.tokens(x, lab, one_hot=True)
    for e in range(E):
        plain = models.PlainOneLayerTransformer.from_member(ens, e)
        zp = plain(t[e])
        torch.testing.assert_close(z[e], zp, rtol=1e-5, atol=1e-5)
        torch.nn.functional.softplus(-lab[e, :, -1] * zp).sum().backward()
        torch.testing.assert_close(ens.ln.weight.grad[e, 0], plain.ln.weight.grad, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ens.ln.bias.grad[e, 0], plain.ln.bias.grad, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ens.qkv.weight.grad[e].T, plain.qkv.weight.grad, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ens.mlp.l1.weight.grad[e].T, plain.mlp[0].weight.grad, rtol=1e-4, atol=1e-5)
