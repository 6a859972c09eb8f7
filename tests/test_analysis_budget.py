"""analysis.budget: runs cut to a fraction of their budget (the measured clock's bearing on a rung's budgets)."""
import numpy as np
import pytest

from icl_kinetics.analysis import budget
from icl_kinetics.analysis.ladder import Rung, RungData
from icl_kinetics.config import RunConfig

NAN = np.nan
STEPS = np.arange(0, 101, 10)  # (11,) evaluations every 10 of 100 iterations
# member 0 acquires at 30 and stops at 40; member 1 acquires at 90; member 2 never (drifts up to 0.7)
ICL = np.array([[.5, .6, .8, .97, .995] + [NAN] * 6,
                [.5, .5, .5, .52, .55, .6, .65, .7, .8, .96, .98],
                [.5, .5, .5, .5, .5, .52, .55, .6, .62, .65, .7]])


def run_and_cfg():
    cfg = RunConfig(model="transformer1", D=8, N=6, width=16, Ks=(64, 64, 64), seeds=(0, 1, 2),
                    wd_attn=(0.0,) * 3, steps=100, eval_every=10, early_stop=0.99)
    final = np.array([.995, .98, .7])
    run = dict(steps=STEPS, icl_acc=ICL, iwl_acc=1 - ICL, final_icl_acc=final,
               final_iwl_acc=1 - final, t_icl=np.array([30.0, 90.0, NAN]),
               stopped_at=np.array([40, 100, 100]))
    return run, cfg


def test_the_whole_budget_changes_nothing():
    run, cfg = run_and_cfg()
    cut, c = budget.cut_run(run, cfg, 1.0)
    assert c == cfg
    for k in run:
        np.testing.assert_array_equal(cut[k], run[k])


def test_a_cut_ends_every_member_at_its_last_value_before_it():
    run, cfg = run_and_cfg()
    cut, c = budget.cut_run(run, cfg, 0.5)
    assert c.steps == 50 and list(cut["steps"]) == [0, 10, 20, 30, 40, 50]
    np.testing.assert_allclose(cut["final_icl_acc"], [.995, .6, .52])  # the early stopper keeps its stop value
    np.testing.assert_allclose(cut["final_iwl_acc"], [.005, .4, .48])
    np.testing.assert_array_equal(cut["t_icl"], [30.0, NAN, NAN])  # acquired at 90: past the cut
    np.testing.assert_array_equal(cut["stopped_at"], run["stopped_at"])  # per-member, not a curve: kept
    assert budget.acquired_after(RungData("x", "cpu", {"a": run}, {"a": cfg}, 1, True), 0.5) == (1, 2)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_impossible_fractions_are_refused(fraction):
    run, cfg = run_and_cfg()
    with pytest.raises(ValueError, match="must lie in"):
        budget.cut_run(run, cfg, fraction)


def test_cut_rung_cuts_every_sub_run_to_its_own_budget():
    run, cfg = run_and_cfg()
    d = RungData("x", "cpu", {"a": run}, {"a": cfg}, 2, False)
    c = budget.cut_rung(d, 0.8)
    assert c.configs["a"].steps == 80 and c.status == d.status and c.runs["a"]["icl_acc"].shape == (3, 9)


def rung(value, lo, hi):
    return Rung("s", "paper_net", value, lo, hi, "complete", "", "")


def test_the_summary_names_what_moved_and_what_has_no_value():
    rungs = {"K*": (rung(100, 80, 120), rung(101, 80, 120), rung(110, 90, 130)),
             "K* exponent": (rung(1.0, .9, 1.1), rung(1.0, .9, 1.1), rung(1.3, 1.2, 1.4)),
             "never bar at chance": (rung(NAN, NAN, NAN),) * 3}
    s = budget.summarize(rungs, 0.86)
    assert s.startswith("cut to 0.86 of its budget, K* stays inside") and "K* exponent moves outside it" in s
    assert s.endswith("never bar at chance: no value on one of the budgets")
    assert budget.summarize({}, 0.9) == "no budget-dependent statistic has data at this rung"


def test_no_clock_check_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="no lr clock ratio at paper_net .*run ticl_clock there first"):
        budget.budget_sensitivity("paper_net", out=tmp_path)
