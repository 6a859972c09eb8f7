"""The minimal model against eqs 7-8 (lib/icl_kinetics/analysis/dynamics.py, chapter 02) on synthetic curves."""
import numpy as np
import pytest

from icl_kinetics import analysis as A
from icl_kinetics import theory as T
from synthetic import minimal_cfg


def test_crossing_time_interpolates():
    c = np.array([[0.0, 1.0, 2.0, 3.0], [0, 0, 0, 0.0]])
    np.testing.assert_allclose(A.crossing_time([0, 10, 20, 30], c, 1.5), [15.0, np.nan])


def test_member_icl_ode_matches_constant_c_theory():
    cfg = minimal_cfg()
    steps = np.arange(0, 5001, 250)
    run = {"steps": steps, "c1": np.full((2, len(steps)), 0.5), "c2": np.full((2, len(steps)), 0.5)}
    ode, ode_steps = A.member_icl_ode(run, cfg, 0)
    ref = T.t_icl_ode(10, 0.0)  # N counts the target: 10 context items
    assert ode.t_icl == pytest.approx(ref, rel=1e-4)
    assert ode_steps[-1] == pytest.approx(ode.t[-1] / cfg.lr)
