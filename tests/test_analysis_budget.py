"""analysis.budget: runs cut to a fraction of their budget (the measured clock's bearing on a rung's budgets)."""
import numpy as np
import pytest

from icl_kinetics.analysis import budget
from icl_kinetics.analysis.ladder import Rung, RungData
from icl_kinetics.config import RunConfig

NAN = np.nan
STEPS = np.arange(0, 101, 10)  # (11,) evaluations every 10 of 100 iterations
# member 0 acquires at 30 and stops at 40; member 1 acquires at 90; member 2 never (drifts up to 0.7);
# member 3 went non-finite at step 60 (frozen: NaN from there)
ICL = np.array([[.5, .6, .8, .97, .995] + [NAN] * 6,
                [.5, .5, .5, .52, .55, .6, .65, .7, .8, .96, .98],
                [.5, .5, .5, .5, .5, .52, .55, .6, .62, .65, .7],
                [.5, .5, .5, .5, .5, .5] + [NAN] * 5])


def run_and_cfg():
    cfg = RunConfig(model="transformer1", D=8, N=6, width=16, Ks=(64,) * 4, seeds=(0, 1, 2, 3),
                    wd_attn=(0.0,) * 4, steps=100, eval_every=10, early_stop=0.99)
    final = np.array([.995, .98, .7, .5])
    run = dict(steps=STEPS, icl_acc=ICL, iwl_acc=1 - ICL, final_icl_acc=final, final_iwl_acc=1 - final,
               t_icl=np.array([30.0, 90.0, NAN, NAN]), stopped_at=np.array([40, 100, 100, 60]),
               nonfinite=np.array([False, False, False, True]))
    return run, cfg


def test_the_whole_budget_changes_nothing():
    run, cfg = run_and_cfg()
    cut, c = budget.cut_run(run, cfg, 1.0)
    assert c == cfg and set(cut) == set(run)
    for k in run:
        np.testing.assert_array_equal(cut[k], run[k])


def test_a_cut_ends_every_member_at_its_last_value_at_or_before_it():
    run, cfg = run_and_cfg()
    cut, c = budget.cut_run(run, cfg, 0.55)  # between evaluations: the cut is the last one at or before 55
    assert c.steps == 50 and list(cut["steps"]) == [0, 10, 20, 30, 40, 50]
    np.testing.assert_allclose(cut["final_icl_acc"], [.995, .6, .52, .5])  # the early stopper keeps its value
    np.testing.assert_allclose(cut["final_iwl_acc"], 1 - np.array([.995, .6, .52, .5]))
    np.testing.assert_array_equal(cut["t_icl"], [30.0, NAN, NAN, NAN])  # acquired at 90: past the cut
    np.testing.assert_array_equal(cut["stopped_at"], [40, 50, 50, 50])
    np.testing.assert_array_equal(cut["nonfinite"], [False] * 4)  # it went non-finite at 60, after the cut


def test_a_cut_exactly_at_an_acquisition_keeps_it_and_one_before_a_stop_ends_the_stopper_there():
    run, cfg = run_and_cfg()
    cut, c = budget.cut_run(run, cfg, 0.3)
    assert c.steps == 30 and cut["t_icl"][0] == 30.0 and cut["final_icl_acc"][0] == .97
    assert cut["stopped_at"][0] == 30  # stopped at 40 on the full budget
    d = RungData("x", "cpu", {"a": run}, {"a": cfg}, 1, True)
    assert budget.acquired_after(d, budget.cut_rung(d, 0.3)) == (1, 2)  # member 1 (at 90), not member 0 (at 30)
    assert budget.acquired_after(d, budget.cut_rung(d, 0.2)) == (2, 2)


def test_a_row_with_no_value_stays_nan():
    run, cfg = run_and_cfg()
    run["icl_acc"] = ICL.copy()
    run["icl_acc"][2] = NAN
    cut, _ = budget.cut_run(run, cfg, 0.5)
    assert np.isnan(cut["final_icl_acc"][2]) and cut["final_icl_acc"][1] == .6


@pytest.mark.parametrize("fraction, match", [(0.0, "must lie in"), (-0.1, "must lie in"), (1.5, "must lie in"),
                                             (0.05, "keeps 1 evaluation")])
def test_impossible_cuts_are_refused(fraction, match):
    run, cfg = run_and_cfg()
    with pytest.raises(ValueError, match=match):
        budget.cut_run(run, cfg, fraction)


def test_an_array_it_cannot_cut_is_refused():
    run, cfg = run_and_cfg()
    run["wbeta"] = np.zeros((4, 11, 3))  # a probe with no final value
    with pytest.raises(ValueError, match="cannot cut wbeta"):
        budget.cut_run(run, cfg, 0.5)


def test_cut_rung_cuts_every_sub_run_to_its_own_budget():
    run, cfg = run_and_cfg()
    d = RungData("x", "cpu", {"a": run}, {"a": cfg}, 2, False)
    c = budget.cut_rung(d, 0.8)
    assert c.configs["a"].steps == 80 and c.status == d.status and c.runs["a"]["icl_acc"].shape == (4, 9)


def rung(value, lo, hi, status="complete"):
    return Rung("s", "paper_net", value, lo, hi, status, "", "")


def row(stat, full, cut, status="complete"):
    return budget.BudgetRow(stat, "x", status, full, cut, cut, 0, 1)


def test_the_summary_groups_what_stayed_moved_is_partial_or_undefined():
    rows = [row("K*", rung(100, 80, 120), rung(110, 90, 130)),
            row("K* exponent", rung(1.0, .9, 1.1), rung(1.3, 1.2, 1.4)),
            row("never bar at chance", rung(.3, .2, .5), rung(.3, .2, .5), status="partial: 2 of 4 shards finished"),
            row("other", rung(1.0, NAN, NAN), rung(1.0, .9, 1.1))]  # a failed interval never counts as moved
    s = budget.summarize(rows, 0.86)
    assert s == ("cut to 0.86 of its budget, K* stays inside the full budget's 95% interval; K* exponent moves "
                 "outside the full budget's 95% interval; never bar at chance: the rung is partial or not run "
                 "(decides nothing); other: no value or interval on one of the budgets")
    assert budget.summarize([row("K*", rung(1, 0, 2), None)], 1.0) == "K*: no cut made"
    assert budget.summarize([], 0.9) == "no budget-dependent statistic at this rung"


def test_the_ratio_sentence_covers_a_ratio_above_the_expected_and_a_zero_low_end():
    assert budget.worth(0.89, 0.86, 5, 50).startswith("the rung's budgets are worth 0.89 of the paper's")
    assert "no cut is made there" in budget.worth(0.89, 0.0, 5, 50)
    assert "at least the paper's" in budget.worth(1.02, 0.95, 5, 50)


def test_budget_sensitivity_assembles_rows_from_the_rungs_data(monkeypatch):
    run, cfg = run_and_cfg()
    fast = RungData("ticl_vs_n", "cpu", {"a": run}, {"a": cfg}, 1, True)
    slow = RungData("ticl_clock", "cpu", {"a": run}, {"a": cfg.__class__(**{**cfg.to_dict(), "lr": 0.01})},
                    1, True)
    data = {"ticl_clock": slow, "phenomenology": fast,
            "kstar_vs_n": RungData("kstar_vs_n", "cpu", {}, {}, 2, False)}
    monkeypatch.setattr(budget, "rung_data", lambda name, profile, out=None: data[name])
    monkeypatch.setattr(budget, "clock_rung", lambda d: rung(4.0, 0.0, 4.5))  # low end 0: that cut is not made
    mean_final = lambda d: rung(float(np.nanmean(next(iter(d.runs.values()))["final_icl_acc"])), .6, .9)  # noqa
    monkeypatch.setattr(budget, "BUDGET_STATISTICS", {"K*": ("phenomenology", mean_final),
                                                      "K* exponent": ("kstar_vs_n", mean_final)})
    s = budget.budget_sensitivity("cpu")
    assert (s.expected, s.fraction, s.fraction_lo, s.clock_n) == (5.0, 0.8, 0.0, 6)  # cpu ticl_vs_n lr 0.05 / 0.01; 4 / 5
    k = s.rows[0]
    assert k.at_lo is None and k.at.value == pytest.approx(np.mean([.995, .8, .62, .5]))  # cut at step 80
    assert (k.late, k.acquirers) == (1, 2) and k.cells()[4] == "no cut"
    assert s.rows[1].full is None and s.rows[1].cells()[2] == "- (not run)"
    assert "no cut is made there" in s.worth and "K* exponent: the rung is partial or not run" in s.summary


def test_no_clock_check_is_a_one_line_error(tmp_path):
    with pytest.raises(ValueError, match="no lr clock ratio at paper_net .*run ticl_clock there first"):
        budget.budget_sensitivity("paper_net", out=tmp_path)


def test_curves_shorter_than_steps_are_refused():
    """Issue 33.7: before, an IndexError (the docstring promises ValueError)."""
    run, cfg = run_and_cfg()
    run["icl_acc"] = ICL[:, :5]
    with pytest.raises(ValueError, match=r"cannot cut icl_acc \(4, 5\): a curve must be \(members, 11 evaluations\)"):
        budget.cut_run(run, cfg, 0.5)


def test_a_damaged_stored_result_is_an_error(tmp_path):
    """Issue 33.3: the budget section reads the ladder's rungs; a damaged clock check is not "no clock ratio"."""
    import shutil
    from icl_kinetics import store
    from icl_kinetics.errors import DamagedResultError
    d = tmp_path / "ticl_clock"
    d.mkdir()
    for suffix in (".npz", ".json"):
        shutil.copy(store.RESULTS_DIR / "ticl_clock" / f"paper_net{suffix}", d)
    npz = d / "paper_net.npz"
    blob = bytearray(npz.read_bytes())
    blob[5000:5002] = bytes(b ^ 0xFF for b in blob[5000:5002])
    npz.write_bytes(bytes(blob))
    with pytest.raises(DamagedResultError, match=f"{npz} does not match the checksum.*git checkout -- {npz}"):
        budget.budget_sensitivity("paper_net", out=tmp_path)
