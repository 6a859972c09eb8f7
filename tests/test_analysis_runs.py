"""Per-run tables shared by the chapters (lib/icl_kinetics/analysis/runs.py): the sigmoid K* that never raises and
censored t_ICL."""
import numpy as np

from icl_kinetics import analysis as A
from synthetic import minimal_cfg


def test_safe_sweep_threshold_never_raises():
    cfg = minimal_cfg(Ks=(64, 64, 128, 128, 256, 256), seeds=tuple(range(6)), wd_attn=(0.0,) * 6)
    thr, note = A.safe_sweep_threshold({"final_icl_acc": np.full(6, 0.5)}, cfg, n_boot=10)
    assert np.isnan(thr.k_star) and "flat" in note
    cfg2 = minimal_cfg()
    thr, note = A.safe_sweep_threshold({"final_icl_acc": np.array([0.5, 0.9])}, cfg2, n_boot=10)
    assert np.isnan(thr.k_star) and "distinct" in note
    acc = np.array([0.5, 0.52, 0.6, 0.9, 1.0, 0.98])
    thr, note = A.safe_sweep_threshold({"final_icl_acc": acc}, cfg, n_boot=20)
    assert 64 < thr.k_star < 256 and note == "ok"


def test_censored_t_icl_marks_never_acquired_as_inf():
    t = A.censored_t_icl({"t_icl": np.array([100.0, np.nan, 300.0])})
    assert t[0] == 100 and t[2] == 300 and np.isposinf(t[1])
