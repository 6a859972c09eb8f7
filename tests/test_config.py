"""config.py describes runs without the trainer: it names what models and probes exist without importing them."""
import subprocess
import sys

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
