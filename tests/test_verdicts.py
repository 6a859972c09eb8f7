import numpy as np
"""Every outcome of every verdict rule, reached with synthetic statistics; the scorecard is generated."""
from pathlib import Path

import pytest

from icl_kinetics import verdicts as V

R, N, U = V.REPRODUCED, V.NOT_REPRODUCED, V.UNDECIDED
nan = float("nan")

CASES = {
    "fig2b_transition": [
        (dict(K=[10, 100, 1000, 10000], final_acc=[0.5, 0.55, 1, 1], kstar=300, kstar_ci=(200, 400)), R),
        (dict(K=[10, 100, 1000, 10000], final_acc=[0.7, 0.8, 1, 1], kstar=300, kstar_ci=(200, 400)), N),
        (dict(K=[200, 1000, 10000], final_acc=[0.5, 1, 1], kstar=300, kstar_ci=(200, 400)), U),
    ],
    "fig2c_opposite": [(dict(rho=-0.9, rho_ci=(-0.95, -0.8)), R), (dict(rho=0.3, rho_ci=(0.1, 0.5)), N),
                       (dict(rho=-0.3, rho_ci=(-0.6, 0.1)), U)],
    "fig2d_abrupt": [(dict(ratio=0.2, n=10), R), (dict(ratio=0.8, n=10, start=0.7), N), (dict(ratio=0.2, n=2), U)],
    "fig3c_transience": [(dict(n_transient=6, n_acquired=6), R), (dict(n_transient=0, n_acquired=6), N),
                         (dict(n_transient=2, n_acquired=6), U)],
    "eq7_ode": [(dict(ratio=1.2, ci=(1.1, 1.3)), R), (dict(ratio=2.5, ci=(2.2, 2.8)), N),
                (dict(ratio=1.5, ci=(1.2, 1.9)), U)],
    "fig4_flat": [(dict(grad_ratio=200), R), (dict(grad_ratio=3), N), (dict(grad_ratio=nan), U)],
    "eq9_saddle": [(dict(eig_neg=-0.5, eig_pos=0.5, frac_balanced=0.5, frac_standard=1.0), R),
                   (dict(eig_neg=0.1, eig_pos=0.5, frac_balanced=0.5, frac_standard=1.0), N),
                   (dict(eig_neg=nan, eig_pos=0.5, frac_balanced=0.5, frac_standard=1.0), U)],
    "eq11_exp1": [(dict(slope=-1.1, target=-1), R), (dict(slope=-1.5, target=-1), N),
                  (dict(slope=nan, target=-1), U)],
    "figA1b_tail": [(dict(skew=2.0), R), (dict(skew=0.2), N), (dict(skew=nan), U)],
    "fig5_nu": [(dict(nu=0.72, ci=(0.70, 0.74), low_ci=(0.65, 0.75), high_ci=(0.7, 0.8)), R),
                (dict(nu=0.75, ci=(0.72, 0.78), low_ci=(0.65, 0.70), high_ci=(0.84, 0.89)), N),
                (dict(nu=1.2, ci=(1.1, 1.3), low_ci=(1.1, 1.3), high_ci=(1.1, 1.3)), N),
                (dict(nu=0.75, ci=(0.4, 1.1), low_ci=(0.6, 0.9), high_ci=(0.6, 0.9)), U)],
    "fig5_finite": [(dict(converged=[1, 1, 1, 0]), R), (dict(converged=[1, 0, 1, 1]), U), (dict(converged=[]), U),
                    (dict(converged=[1, 1, 0, 0], stalled=[0, 0, 1, 0]), N),
                    (dict(converged=[1, 1, 1, 0], stalled=[0, 0, 0, 0]), R)],
    "figA6_trend": [(dict(rho=-0.8, p=0.001, n_transient=10, n_levels=5), R),
                    (dict(rho=0.5, p=0.1, n_transient=10, n_levels=5), N),
                    (dict(rho=-0.9, p=0.01, n_transient=3, n_levels=2), U),
                    (dict(rho=-0.2, p=0.5, n_transient=10, n_levels=5), U)],
    "fig6d_eq16": [(dict(slope=-0.45, ci=(-0.55, -0.4), n_runs=8, intercept=0.05, intercept_ci=(-0.1, 0.2)), R),
                   (dict(slope=0.04, ci=(-0.04, 0.16), n_runs=3, intercept=0.0, intercept_ci=(-0.1, 0.1)), N),
                   (dict(slope=-0.45, ci=(-0.55, -0.4), n_runs=8, intercept=-0.35, intercept_ci=(-0.5, -0.19)), N),
                   (dict(slope=-0.45, ci=(-0.55, -0.4), n_runs=8), U),  # the intercept was not measured
                   (dict(slope=0.04, ci=(-0.04, 0.16), n_runs=2), U), (dict(slope=-0.5, ci=(-1.2, 0.2), n_runs=8), U)],
    "fig6a_exponent": [(dict(exponent=1.3, ci=(1.2, 1.45), inv_nu=1.3, inv_nu_range=(1.16, 1.47)), R),
                       (dict(exponent=0.9, ci=(0.8, 1.0), inv_nu=1.3, inv_nu_range=(1.16, 1.47)), N),
                       (dict(exponent=2.0, ci=(1.9, 2.1), inv_nu=1.3, inv_nu_range=(1.16, 1.47)), N),
                       (dict(exponent=1.2, ci=(0.95, 1.3), inv_nu=1.3, inv_nu_range=(1.16, 1.47)), U),
                       (dict(exponent=1.2, ci=(0.5, 1.9), inv_nu=1.3, inv_nu_range=(1.16, 1.47)), U)],
    "fig6b_linear": [(dict(slope=1.05, ci=(0.95, 1.15)), R), (dict(slope=1.6, ci=(1.4, 1.8)), N),
                     (dict(slope=1.0, ci=(0.5, 1.6)), U)],
    "fig6c_bimodal": [
        (dict(n=96, n_acq=48, n_never=48, late_ci=(0.0, 0.1), chance_ci=(0.8, 1.0)), R),
        (dict(n=96, n_acq=81, n_never=15, late_ci=(0.02, 0.12), chance_ci=(0.0, 0.2)), N),  # never ends at chance
        (dict(n=96, n_acq=48, n_never=48, late_ci=(0.4, 0.6), chance_ci=(0.8, 1.0)), N),  # late acquirers
        (dict(n=96, n_acq=48, n_never=48, late_ci=(0.1, 0.3), chance_ci=(0.8, 1.0)), U),
        (dict(n=48, n_acq=24, n_never=24, late_ci=(0.0, 0.1), chance_ci=(0.8, 1.0)), U),
        (dict(n=96, n_acq=1, n_never=95, late_ci=(0.0, 0.8), chance_ci=(0.2, 0.4)), U),  # one outcome only
    ],
    "figA4_tail": [(dict(n_acquired=128, frac_censored=0.0, skew=1.0, skew_ci=(0.5, 1.5)), R),
                   (dict(n_acquired=128, frac_censored=0.0, skew=0.1, skew_ci=(-0.3, 0.5)), N),
                   (dict(n_acquired=40, frac_censored=0.0, skew=1.0, skew_ci=(0.5, 1.5)), U),
                   (dict(n_acquired=128, frac_censored=0.2, skew=1.0, skew_ci=(0.5, 1.5)), U)],
    "fig6e_balanced": [(dict(p_fewer=0.001, n_per_k=5), R), (dict(p_fewer=0.4, n_per_k=5), N),
                       (dict(p_fewer=0.001, n_per_k=2), U)],
    "fig6e_copying": [(dict(copy_ci=(0.7, 0.98), n_acquired=20), R), (dict(copy_ci=(0.02, 0.3), n_acquired=20), N),
                      (dict(copy_ci=(0.3, 0.7), n_acquired=20), U), (dict(copy_ci=(0.6, 1.0), n_acquired=3), U)],
}
# claims sharing a rule with one tested above
SHARED = {"fig3a_transition": "fig2b_transition", "fig3b_abrupt": "fig2d_abrupt", "eq37_exp2": "eq11_exp1",
          "fig2e_transience": "fig3c_transience", "eq16_minimal": "fig6d_eq16",
          "fig6c_bimodal_minimal": "fig6c_bimodal", "fig6c_bimodal_kstar": "fig6c_bimodal",
          "fig6c_bimodal_khalf": "fig6c_bimodal"}


@pytest.mark.parametrize("claim", sorted(CASES))
def test_verdict_rule_reaches_each_case(claim):
    for stats, expected in CASES[claim]:
        v = V.judge(claim, **stats)
        assert v.outcome == expected, (claim, stats, v)
        assert v.reason


@pytest.mark.parametrize("claim", sorted(CASES))
def test_verdict_rule_has_every_outcome(claim):
    assert {o for _, o in CASES[claim]} == set(V.OUTCOMES), claim


def test_verdict_every_claim_is_tested_and_documented():
    assert set(CASES) | set(SHARED) == set(V.CLAIMS)
    for cid, other in SHARED.items():
        rule, shared = V.CLAIMS[cid].rule, V.CLAIMS[other].rule
        assert getattr(rule, "func", rule) is getattr(shared, "func", shared)  # a partial fixes a constant
    for cid in V.CLAIMS:
        assert len(V.rule_text(cid)) > 40, cid


def test_verdict_undecided_names_the_deciding_run():
    v = V.judge("figA6_trend", rho=-0.9, p=0.01, n_transient=3, n_levels=2)
    assert "python -m icl_kinetics run transformer_transience --profile paper" in v.reason


def test_verdict_unknown_claim_and_outcome():
    with pytest.raises(KeyError, match="unknown claim"):
        V.judge("nope")
    with pytest.raises(ValueError):
        V.Verdict("x", "partly reproduced", "")


def test_verdict_scorecard_page_is_generated_from_the_registry():
    page = Path(__file__).resolve().parents[1] / "book" / "00_results_at_a_glance.md"
    assert page.read_text() == V.scorecard_markdown(), \
        "book/00_results_at_a_glance.md is stale: run `python -m icl_kinetics scorecard`"
    text = V.scorecard_markdown()
    for cid, c in V.CLAIMS.items():
        assert f"{c.chapter}.ipynb::{cid}_verdict:s" in text


def test_the_ladder_chapter_pastes_every_claim_above_cpu_from_its_chapter():
    """Chapter 13's table of the claims at each scale is the generated one, and every claim with runs above the
    cpu scale is decided in its own chapter at that rung (the scorecard pastes from there)."""
    import nbformat
    book = Path(__file__).resolve().parents[1] / "book"
    nb = nbformat.read(book / f"{V.RUNG_PAGE}.ipynb", as_version=4)
    assert any(V.ladder_claims_markdown() in c.source for c in nb.cells if c.cell_type == "markdown"), \
        "chapter 13's table of claims is stale: paste verdicts.ladder_claims_markdown() into it"
    for rung, ids in V.RUNG_CLAIMS.items():
        for cid in ids:
            chapter = nbformat.read(book / f"{V.CLAIMS[cid].chapter}.ipynb", as_version=4)
            code = "\n".join(c.source for c in chapter.cells if c.cell_type == "code")
            assert f'"{rung}"' in code and cid in code, f"{cid} is not decided at {rung} in its chapter"


def test_verdict_scorecard_command_writes_the_page(tmp_path, monkeypatch, capsys):
    from icl_kinetics import __main__ as cli, store

    (tmp_path / "book").mkdir()
    monkeypatch.setattr(store, "REPO_ROOT", tmp_path)
    assert cli.main(["scorecard"]) == 0
    assert (tmp_path / "book" / "00_results_at_a_glance.md").read_text() == V.scorecard_markdown()


def test_a_verdict_under_analysis_choices_is_decided_only_when_every_choice_agrees():
    """Issue 20: the scorecard says reproduced or not reproduced only when every defensible choice agrees."""
    C = V.Choice
    main = dict(exponent=1.0, ci=(0.83, 1.15), inv_nu=1.3, inv_nu_range=(1.16, 1.48))
    v, rows = V.judge_choices("fig6a_exponent", {"main": C(main, "x"),
                                                 "1/nu interval": C(dict(main, inv_nu_range=(1.28, 1.32)), "y")})
    assert v.outcome == N and "both analysis choices" in v.reason and [r[1] for r in rows] == [N, N]
    assert [r[3] for r in rows] == ["x", "y"]  # each row carries its justification
    v, rows = V.judge_choices("fig6a_exponent", {"main": C(main, "x"), "N with target": C(dict(main, ci=(0.90, 1.23)), "y")})
    assert v.outcome == U and "hangs on the analysis choice" in v.reason and "N with target" in v.reason
    ok = dict(exponent=1.3, ci=(1.2, 1.45), inv_nu=1.3, inv_nu_range=(1.16, 1.47))
    assert V.judge_choices("fig6a_exponent", {"a": C(ok, "x"), "b": C(dict(ok, ci=(1.1, 1.5)), "y")})[0].outcome == R


def test_a_descriptive_choice_is_shown_but_never_vetoes_and_every_choice_is_justified():
    """Issue 32: a row that could never decide at the design (least squares through 3 medians) stays on the page
    as a description; a row without its justification, or a descriptive first row, is refused."""
    C = V.Choice
    main = dict(slope=1.29, ci=(1.24, 1.33))
    wide = C(dict(slope=1.29, ci=(0.95, 1.62)), "through three medians", decides=False)
    v, rows = V.judge_choices("fig6b_linear", {"seed bootstrap": C(main, "resamples seeds"), "ls": wide})
    assert v.outcome == N and "all 1 analysis choices" in v.reason
    assert "descriptive, does not decide" in rows[1][1]
    v, _ = V.judge_choices("fig6b_linear", {"seed bootstrap": C(main, "resamples seeds"), "ls": C(wide.stats, "z")})
    assert v.outcome == U  # the same row allowed to decide vetoes
    with pytest.raises(TypeError, match="not rules.Choice"):
        V.judge_choices("fig6b_linear", {"a": main})
    with pytest.raises(ValueError, match="justification"):
        C(main, " ")
    with pytest.raises(ValueError, match="must decide"):
        V.judge_choices("fig6b_linear", {"ls": wide, "a": C(main, "x")})


def test_a_bound_within_monte_carlo_error_of_its_threshold_does_not_decide():
    """Issue 32 item 2: an exponent interval whose lower end sits on 1 within Monte-Carlo error is not decided,
    and the sentence says so; a bound clear of it decides."""
    from icl_kinetics.analysis.threshold import bound_on_threshold
    boot = np.r_[np.full(25, 0.99), np.full(975, 1.2)]  # 2.5% at or below 1: on the threshold
    note = bound_on_threshold(boot)
    assert "sits on 1" in note and "2.5% of 1000" in note
    assert bound_on_threshold(np.r_[np.full(5, 0.99), np.full(995, 1.2)]) == ""  # 0.5%: clearly above
    stats = dict(exponent=1.17, ci=(1.001, 1.28), inv_nu=1.33, inv_nu_range=(1.21, 1.49))
    assert V.judge("fig6a_exponent", **stats).outcome == R
    v = V.judge("fig6a_exponent", **stats, on_threshold=note)
    assert v.outcome == U and "Monte-Carlo" in v.reason


def test_clock_rule_holds_fails_or_straddles():
    from icl_kinetics.rules import rule_clock
    assert rule_clock(5.0, (4.8, 5.2)).startswith("holds")
    assert rule_clock(4.44, (4.30, 4.40)).startswith("does not hold")
    assert rule_clock(4.6, (4.3, 4.9)).startswith("not decided") and "straddles" in rule_clock(4.6, (4.3, 4.9))
    assert rule_clock(float("nan"), (4.0, 5.0)).startswith("not decided")


@pytest.mark.parametrize("claim", sorted(CASES))
def test_every_not_decided_case_says_which_kind(claim):
    """Issue 30: 'not decided' is one of three kinds (too few runs, depends on the analysis, outside the design),
    read off every not-decided reason every rule can give."""
    for stats, expected in CASES[claim]:
        v = V.judge(claim, **stats)
        if v.outcome == U:
            assert V.undecided_kind(v.reason) in [k for k, _ in V.UNDECIDED_KINDS], (claim, v.reason)
    one = dict(n=96, n_acq=1, n_never=95, late_ci=(0.0, 0.8), chance_ci=(0.2, 0.4))
    assert V.undecided_kind(V.judge("fig6c_bimodal", **one).reason) == "outside the design"  # one outcome only
    assert V.undecided_kind("hangs on the analysis choice: not decided ... with x") == "depends on the analysis"
