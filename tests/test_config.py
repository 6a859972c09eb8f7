"""config.py describes runs without the trainer: it names what models and probes exist without importing them."""
import subprocess
import sys

import numpy as np

from icl_kinetics import config, models, train


def test_model_and_probe_names_match_the_implementations():
    assert set(config.MODEL_NAMES) == set(models.MODELS)
    assert set(config.PROBE_NAMES) == set(train.PROBES)
    assert train.RunConfig is config.RunConfig


def test_reading_side_imports_no_torch():
    code = ("import sys; import icl_kinetics.config, icl_kinetics.store, icl_kinetics.verdicts, icl_kinetics.fits; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_n_context_is_the_theorys_N():
    assert config.n_context(20) == 19


def test_expected_arrays_are_what_train_returns():
    """What a shard is checked against before it is merged (issue 33.6) is what the trainer writes: every array,
    with its shape, for each evaluation kind and probe, and an evaluation grid whose last step is off the grid."""
    for kw in (dict(model="minimal", probes=("wbeta", "mlp_stats"), evals=("icl", "iwl")),
               dict(model="transformer1", evals=("iwl",), steps=25)):
        cfg = config.RunConfig(**dict(dict(D=8, N=4, width=8, Ks=(None, 64), seeds=(0, 1), wd_attn=(0.0, 0.0),
                                           steps=20, eval_every=10, n_eval=16, batch=8, lr=0.05), **kw))
        arrays = train.train(cfg, progress=False)
        arrays.pop("wall_s")
        assert {k: np.shape(v) for k, v in arrays.items()} == config.expected_arrays(cfg)
        assert list(arrays["steps"]) == config.eval_steps(cfg)
    assert config.eval_steps(cfg) == [0, 10, 20, 25]
    assert set(config.PROBE_ARRAYS) == set(config.PROBE_NAMES)
