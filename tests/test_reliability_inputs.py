"""Boundary tests of issue 14 for the samplers, the model builder and RunConfig (point 4): a clear ValueError
before any computation for every bad argument; a valid config is hashable, finite and trains."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from test_reliability import FUZZ, any_float, any_n, clear_error_or_result

from icl_kinetics import data, models
from icl_kinetics.train import RunConfig


# --------------------------------------------------------------------------------------- samplers and models
def _bank(Ks=(None,), D=4):
    return data.ItemBank.create(Ks, D, list(range(len(Ks))))


@pytest.mark.parametrize("call, match", [
    (lambda: data.sample_icl_eval(1, 4, 0, 4, torch.Generator()), "N=0"),  # raw torch error before
    (lambda: data.sample_icl_eval(1, 4, 1, 4, torch.Generator()), "N=1"),
    (lambda: data.sample_icl_eval(0, 4, 5, 4, torch.Generator()), "E=0"),
    (lambda: data.sample_icl_eval(1, 4, 5, 0, torch.Generator()), "D=0"),
    (lambda: data.sample_icl_eval(1, 4, 5, 4, torch.Generator(), contexts="balanced"), "balanced"),
    (lambda: data.sample_icl_eval(1, 4, 5, 4, 123), "torch.Generator"),
    (lambda: data.sample_train(_bank(), 0, 5, torch.Generator()), "B=0"),  # returned empty tensors before
    (lambda: data.sample_train(_bank(), 4.0, 5, torch.Generator()), "B=4.0"),
    (lambda: data.sample_train(_bank(), 4, 2.5, torch.Generator()), "N=2.5"),
    (lambda: data.sample_train(_bank((8,)), 4, 2, torch.Generator(), balanced=True), "balanced"),
    (lambda: data.sample_iwl_eval(_bank((8,)), 0, 4, torch.Generator()), "B=0"),
    (lambda: data.ItemBank.create((8,), 0, [0]), "D=0"),
    (lambda: data.ItemBank.create((), 4, []), "at least one member"),
    (lambda: data.ItemBank.create((8,), 4, ["a"]), "seed"),
    (lambda: data.ItemBank.create((8,), 4, [0], data_seed=1.5), "data_seed=1.5"),
    (lambda: models.build("transformer1", 1, 4, 0, [0]), "width=0"),  # ZeroDivisionError before
    (lambda: models.build("mlp", 0, 4, 8, []), "E=0"),
    (lambda: models.build("minimal", 1, 0, 8, [0]), "D=0"),
    (lambda: models.build("minimal", 1, 4, 8, [0], beta0=math.nan), "beta0=nan"),
    (lambda: models.build("minimal", 1, 4, 8, [0], w0=math.inf), "w0=inf"),
    (lambda: models.build("transformer2", 2, 4, 8, [0]), "one seed per member"),
    (lambda: models.build("nope", 1, 4, 8, [0]), "unknown model"),
])
def test_sampler_and_model_bad_arguments(call, match):
    kind, msg = clear_error_or_result(call)
    assert kind == "error" and match in msg, msg


def test_valid_sampler_calls_unchanged():
    """The checks consume no random numbers: the same generator state gives the same draw as before."""
    g = torch.Generator().manual_seed(3)
    x, lab = data.sample_icl_eval(2, 3, 6, 4, g)
    assert x.shape == (2, 3, 6, 4) and lab.shape == (2, 3, 6)
    g2 = torch.Generator().manual_seed(3)
    x2 = torch.randn(2, 3, 6, 4, generator=g2) / 2.0  # _fresh draws the items first
    assert torch.equal(x[:, :, :-1], x2[:, :, :-1])


# --------------------------------------------------------------------------------------- RunConfig
BASE = dict(model="transformer1", D=8, N=6, width=16, Ks=(8, None), seeds=(0, 1), wd_attn=(0.0, 0.0), steps=10,
            eval_every=5, n_eval=8)


def cfg(**kw):
    return RunConfig(**dict(BASE, **kw))


@pytest.mark.parametrize("kw, match", [
    (dict(lr=True), "lr=True"),
    (dict(lr="0.1"), "lr='0.1'"),
    (dict(lr=math.nan), "lr=nan"),
    (dict(seeds=("a", "b")), "seed"),
    (dict(seeds=(0.5, 1.0)), "seed"),
    (dict(seeds=(True, 1)), "seed"),
    (dict(seeds=(-1, 1)), "seed"),
    (dict(wd_attn=(math.inf, 0.0)), "weight decay"),
    (dict(wd_attn=(math.nan, 0.0)), "weight decay"),
    (dict(wd_mlp=-1.0), "weight decay"),
    (dict(model="minimal", beta0=math.nan, evals=("icl",)), "beta0=nan"),
    (dict(model="minimal", beta0=math.inf, evals=("icl",)), "beta0=inf"),
    (dict(D=True), "D=True"),
    (dict(steps=10.0), "steps=10.0"),
    (dict(N=6.0), "N=6.0"),
    (dict(Ks=(8, 7)), "K=7"),
    (dict(Ks=(8.0, None)), "K=8.0"),
    (dict(data_seed=1.5), "data_seed=1.5"),
    (dict(early_stop=math.nan), "early_stop"),
    (dict(early_stop="0.9"), "early_stop"),
    (dict(balanced="yes"), "balanced"),
    (dict(evals="icl"), "evals"),
    (dict(probes=("wbeta",)), "probe"),
    (dict(Ks=8), "Ks"),
    (dict(seeds=None), "seeds"),
])
def test_runconfig_rejects(kw, match):
    kind, msg = clear_error_or_result(cfg, **kw)
    assert kind == "error" and match in msg, msg


def test_runconfig_normalises_lists_to_tuples_and_hashes():
    c = cfg(Ks=[8, None], seeds=[0, 1], wd_attn=[0.0, 1e-3], evals=["icl", "iwl"], probes=[])
    assert c.Ks == (8, None) and c.seeds == (0, 1) and c.wd_attn == (0.0, 1e-3) and c.evals == ("icl", "iwl")
    assert hash(c) == hash(cfg(wd_attn=(0.0, 1e-3)))
    assert c == RunConfig.from_dict(c.to_dict())
    # numpy scalars (what np.geomspace grids give) are accepted and stored as plain Python numbers
    c = cfg(Ks=(np.int64(8), None), seeds=(np.int64(0), 1), wd_attn=(np.float64(1e-3), 0.0), lr=np.float64(0.05))
    assert type(c.Ks[0]) is int and type(c.seeds[0]) is int and type(c.wd_attn[0]) is float and type(c.lr) is float
    assert c.to_dict() == cfg(wd_attn=(1e-3, 0.0), lr=0.05).to_dict()


K_VALUES = st.sampled_from([None, 2, 8, 7, 0, -2, 8.0, 10 ** 6])
field_values = {
    "D": st.one_of(st.integers(-2, 40), any_float),
    "N": any_n,
    "width": st.one_of(st.integers(-2, 40), any_float),
    "steps": st.integers(-2, 50),
    "lr": st.one_of(any_float, st.booleans(), st.just("0.1")),
    "seeds": st.one_of(st.tuples(st.integers(-2, 10 ** 12), st.integers(0, 3)), st.tuples(any_float, st.integers(0, 3)),
                       st.just(("x", 1)), st.lists(st.integers(0, 9), max_size=3)),
    "wd_attn": st.one_of(st.tuples(any_float, any_float), st.lists(st.floats(0, 1), min_size=2, max_size=2)),
    "beta0": any_float,
    "early_stop": st.one_of(st.none(), any_float),
    "data_seed": st.one_of(st.integers(-3, 10), any_float),
    "Ks": st.one_of(st.tuples(K_VALUES, K_VALUES), st.just([8, None])),
}


@FUZZ
@given(st.fixed_dictionaries({}, optional=field_values))
def test_fuzz_runconfig_is_valid_or_clearly_rejected(kw):
    """Any combination of field values: either a ValueError naming the problems, or a config that is hashable,
    round-trips through its dict, has finite numbers and can be built (no later failure inside train)."""
    kw = dict(kw)
    model = "minimal" if "beta0" in kw else "transformer1"
    kind, out = clear_error_or_result(cfg, model=model, evals=("icl",), **kw)
    if kind == "ok":
        c = out
        hash(c)
        assert RunConfig.from_dict(c.to_dict()) == c
        assert all(isinstance(v, tuple) for v in (c.Ks, c.seeds, c.wd_attn, c.evals, c.probes))
        assert math.isfinite(c.lr) and c.lr > 0 and math.isfinite(c.beta0)
        assert all(math.isfinite(w) and w >= 0 for w in c.wd_attn)
        assert all(type(s) is int and s >= 0 for s in c.seeds)
        m = models.build(c.model, c.E, c.D, c.width, c.seeds, **({"beta0": c.beta0} if c.model == "minimal" else {}))
        bank = data.ItemBank.create(c.Ks, c.D, c.seeds, c.data_seed)
        x, lab = data.sample_train(bank, 2, c.N, torch.Generator().manual_seed(0))
        assert torch.isfinite(m(x, lab)).all()
