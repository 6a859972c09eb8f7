import numpy as np
import pytest
import torch

from icl_kinetics import data, models
from icl_kinetics.stats import first_crossing, last_finite
from icl_kinetics.train import RunConfig, evaluate, sampling_seed, train


def cfg(**kw):
    base = dict(model="minimal", D=16, N=8, width=16, Ks=(None, 64), seeds=(0, 1), wd_attn=(0.0, 0.0),
                steps=30, eval_every=10, n_eval=64, lr=0.05)
    base.update(kw)
    return RunConfig(**base)


def test_shapes_and_records():
    r = train(cfg(probes=("wbeta", "mlp_stats")), progress=False)
    assert list(r["steps"]) == [0, 10, 20, 30]
    for k in ("icl_acc", "icl_loss", "iwl_acc", "iwl_loss", "train_loss", "w", "beta", "c1", "c2", "c3"):
        assert r[k].shape == (2, 4), k
    assert np.isnan(r["iwl_acc"][0]).all()  # K = infinity: nothing to memorise
    assert np.isfinite(r["iwl_acc"][1]).all()
    assert r["w"][0, 0] == 0.0  # w0 = 0


def test_deterministic():
    a = train(cfg(), progress=False)
    b = train(cfg(), progress=False)
    for k in ("icl_loss", "train_loss"):
        np.testing.assert_array_equal(a[k], b[k])


def test_ensemble_members_train_like_single_runs():
    """A member's trajectory depends on its own seed, K and weight decay, not on the other members,
    when the data stream is the same: compare a 2-member run with a copy whose second member differs."""
    a = train(cfg(wd_attn=(0.0, 0.0)), progress=False)
    b = train(cfg(wd_attn=(0.0, 0.5)), progress=False)
    np.testing.assert_allclose(a["icl_loss"][0], b["icl_loss"][0], rtol=1e-5)
    assert not np.allclose(a["icl_loss"][1], b["icl_loss"][1])


def test_per_member_weight_decay_shrinks_attention_only():
    """Member 1 carries attention weight decay 5: its beta decays as (1 - lr wd)^t; member 0's does not."""
    c = cfg(Ks=(None, None), wd_attn=(0.0, 5.0), steps=20, eval_every=10, beta0=1.0, probes=("wbeta",),
            evals=("icl",), lr=0.05)
    r = train(c, progress=False)
    expected = (1 - 0.05 * 5.0) ** 20
    assert abs(r["beta"][1, -1] - expected) < 0.05, r["beta"][1]
    assert abs(r["beta"][0, -1] - 1.0) < 0.05, r["beta"][0]


def test_sgd_step_matches_torch_optim():
    """One step of our ensembled SGD equals torch.optim.SGD(weight_decay) on the plain model."""
    c = cfg(model="transformer1", Ks=(None,), seeds=(3,), wd_attn=(0.1,), wd_mlp=0.0, steps=1, eval_every=1,
            evals=("icl",), n_eval=8)
    ens = models.build("transformer1", 1, c.D, c.width, c.seeds)
    plain = models.PlainOneLayerTransformer.from_member(ens, 0)
    bank = data.ItemBank.create(c.Ks, c.D, c.seeds)
    g = torch.Generator().manual_seed(sampling_seed(c))
    x, lab = data.sample_train(bank, c.batch, c.N, g)
    opt = torch.optim.SGD([{"params": [plain.ln.weight, plain.ln.bias, plain.qkv.weight], "weight_decay": 0.1},
                           {"params": plain.mlp.parameters(), "weight_decay": 0.0}], lr=c.lr)
    loss = torch.nn.functional.softplus(-lab[0, :, -1] * plain(models.tokens(x, lab, True)[0])).mean()
    loss.backward()
    opt.step()
    r = train(c, progress=False)
    # evaluate the plain model after its step on the same evaluation set as train() used
    ens_after = plain.to_member(models.build("transformer1", 1, c.D, c.width, c.seeds), 0)
    ev = evaluate(ens_after, bank, c, torch.device("cpu"))
    np.testing.assert_allclose(r["icl_loss"][0, -1], ev["icl_loss"][0].item(), rtol=1e-4)


def test_early_stop_and_t_icl():
    steps = np.array([0, 10, 20, 30])
    curve = np.array([[0.5, 0.96, 0.99, 1.0], [0.5, 0.5, 0.6, 0.7]])
    np.testing.assert_array_equal(first_crossing(steps, curve, 0.95, strict=True), [10.0, np.nan])
    curve2 = np.array([[0.5, 0.7, np.nan, np.nan]])
    assert last_finite(curve2)[0] == 0.7


def test_nonfinite_member_is_stopped_and_reported():
    c = cfg(lr=1e6, steps=30, Ks=(None, None), wd_attn=(0.0, 0.0), beta0=0.0)
    r = train(c, progress=False)
    assert r["nonfinite"].dtype == bool and r["nonfinite"].shape == (2,)
    assert r["nonfinite"].any()
    assert (r["stopped_at"][r["nonfinite"]] < 30).all()


def test_extra_context_evals_leave_training_and_the_other_evals_unchanged():
    """Balanced training with the standard and conflict evaluations added after "icl" and "iwl": the training
    and the first two evaluations are bit-identical to the run without them (this is what lets experiment
    `balanced_solution` reproduce `balanced`), and a member that only counts labels would be told apart."""
    base = cfg(model="transformer1", balanced=True, Ks=(64, None), steps=20, eval_every=10)
    more = cfg(model="transformer1", balanced=True, Ks=(64, None), steps=20, eval_every=10,
               evals=("icl", "iwl", "icl_standard", "icl_conflict"))
    a, b = train(base, progress=False), train(more, progress=False)
    for k in ("icl_acc", "icl_loss", "iwl_acc", "train_loss"):
        np.testing.assert_array_equal(a[k], b[k])
    for k in ("icl_standard_acc", "icl_conflict_acc", "final_icl_conflict_acc"):
        assert k in b and k not in a
    assert np.isfinite(b["icl_conflict_acc"]).all()
    assert not np.array_equal(b["icl_conflict_acc"], b["icl_acc"])  # other contexts, other numbers


def test_conflict_eval_needs_even_n():
    with pytest.raises(ValueError, match="conflict contexts need an even N"):
        cfg(N=7, evals=("icl", "icl_conflict"))


@pytest.mark.parametrize("field,value,msg", [
    ("N", 1, "N=1"), ("lr", 0.0, "lr=0.0"), ("lr", -1.0, "lr=-1.0"), ("Ks", (10, 64), "K=10 < N=16"),
    ("Ks", (63, 64), "K=63"), ("model", "gpt", "model='gpt'"), ("seeds", (0,), "one entry per member"),
])
def test_impossible_config_names_the_field(field, value, msg):
    kw = {field: value}
    if field == "Ks" and value[0] == 10:
        kw["N"] = 16
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        cfg(**kw)


def test_config_roundtrip():
    c = cfg()
    assert RunConfig.from_dict(c.to_dict()) == c


def test_compaction_drops_stopped_members_without_changing_their_records(monkeypatch):
    """Members that stopped are removed from the computation; their records are those of an uncompacted run,
    and the members still training keep training (finite, recorded until the end)."""
    from icl_kinetics import train as tr

    c = cfg(Ks=(None,) * 6, seeds=tuple(range(6)), wd_attn=(0.0,) * 6, steps=400, eval_every=20, lr=0.1,
            beta0=1.0, evals=("icl",), early_stop=0.9, probes=("wbeta",))
    monkeypatch.setattr(tr, "COMPACT_AT", 0.0)
    plain = train(c, progress=False)
    monkeypatch.setattr(tr, "COMPACT_AT", 1.0)
    compact = train(c, progress=False)
    first = np.nanmin(plain["stopped_at"][plain["stopped_at"] < c.steps])
    early = plain["stopped_at"] == first  # stopped at the first stop: identical in both runs
    assert early.any() and not early.all(), plain["stopped_at"]
    for k in ("icl_acc", "w", "beta"):
        np.testing.assert_array_equal(compact[k][early], plain[k][early])
    np.testing.assert_array_equal(compact["stopped_at"][early], plain["stopped_at"][early])
    later = ~early
    upto = compact["steps"] <= first
    np.testing.assert_array_equal(compact["icl_acc"][:, upto], plain["icl_acc"][:, upto])
    assert np.isfinite(compact["icl_acc"][later][:, upto]).all()
    assert np.isfinite(compact["final_icl_acc"]).all()


def test_bf16_autocast_tracks_fp32():
    """precision='bf16' (issue 21): the training forward/backward under bf16 autocast, parameters and update
    in fp32. Over a short run the train loss follows the fp32 run's to bf16 precision; an unknown precision is
    a config error."""
    base = dict(model="minimal", D=8, N=6, width=16, lr=0.05, batch=32, Ks=(64, 64), seeds=(0, 1),
                wd_attn=(0.0, 0.0), steps=20, eval_every=10, n_eval=64)
    f32 = train(RunConfig(**base), progress=False)
    b16 = train(RunConfig(**base, precision="bf16"), progress=False)
    assert np.isfinite(b16["train_loss"][:, 1:]).all()
    np.testing.assert_allclose(b16["train_loss"][:, 1:], f32["train_loss"][:, 1:], rtol=3e-2)
    assert RunConfig(**base).to_dict() == RunConfig(**base, precision="fp32").to_dict()  # stored configs unchanged
    assert "precision" not in RunConfig(**base).to_dict()
    with pytest.raises(ValueError, match="precision='fp16'"):
        RunConfig(**base, precision="fp16")
