"""Tests of the transience analysis (lib/icl_kinetics/analysis/transience.py and loss_relation.py, chapters 02,
06 and 11) on synthetic curves whose answers are known by construction."""
import numpy as np
import pytest

from icl_kinetics import analysis as A
from icl_kinetics import theory as T
from synthetic import minimal_cfg


STEPS = np.arange(0, 2000, 100)  # 20 evaluations


def curve(points):
    """Piecewise-constant accuracy curve on STEPS from {first step: value}."""
    c = np.full(len(STEPS), 0.5)
    for s, v in sorted(points.items()):
        c[STEPS >= s] = v
    return c


@pytest.fixture
def accs():
    return np.stack([
        curve({300: 0.995, 900: 0.95, 1200: 0.6}),        # transient: falls below 0.9 at step 1200
        curve({300: 0.995, 900: 0.92}),                   # persistent: dips but never below 0.9
        curve({300: 0.985}),                              # never reaches 0.99
        curve({200: 0.95, 400: 0.5, 800: 0.999, 1500: 0.85}),  # early dip before acquisition does not count
        curve({0: 1.0, 100: 0.2}),                        # acquired at the first evaluation, fades at once
    ])


def _synthetic_losses(coef, n_members=4, seed=0, noise=0.02):
    """After ICL, w rises then decays; L_ICL = e^-w, L_IWL = coef * w (eq 16 has coef = 1/2)."""
    rng = np.random.default_rng(seed)
    T = 60
    s = np.linspace(0, 1, T)
    w = np.stack([3 + 4 * np.sin(np.pi * s) * (1 + 0.2 * i) for i in range(n_members)])
    icl = np.exp(-w)
    iwl = coef * w + noise * rng.standard_normal(w.shape)
    return icl, iwl, np.ones_like(w, bool)


def _eq16_run(slope=-0.5, noise=0.0, E=10, T=60, seed=0):
    """Runs that acquire ICL, whose IWL loss follows slope * log L_ICL on the ICL branch, then fade; after fading
    L_ICL = slope * log L_IWL."""
    rng = np.random.default_rng(seed)
    acc = np.full((E, T), 0.5)
    icl_loss = np.full((E, T), 0.69)
    iwl_loss = np.full((E, T), 0.69)
    for e in range(E):
        a, f = 5 + e % 5, 35 + e % 5  # acquisition and fading indices
        acc[e, a:f] = 0.999
        acc[e, f:] = 0.6
        li = np.geomspace(1e-4, 5e-2, f - a)[::-1] * np.exp(rng.normal(0, 0.05, f - a))
        icl_loss[e, a:f] = li
        iwl_loss[e, a:f] = slope * np.log(li) + noise * rng.standard_normal(f - a)
        lw = np.geomspace(5e-2, 1e-4, T - f)
        iwl_loss[e, f:] = lw
        icl_loss[e, f:] = slope * np.log(lw) + noise * rng.standard_normal(T - f)
    return dict(icl_acc=acc, icl_loss=icl_loss, iwl_loss=iwl_loss)


def test_transience_time_and_classes(accs):
    t = A.transience_time(STEPS, accs)
    np.testing.assert_array_equal(t, [1200, np.nan, np.nan, 1500, 100])
    assert list(A.classify_transience(accs)) == ["transient", "persistent", "never", "transient", "transient"]
    np.testing.assert_array_equal(A.acquisition_index(accs), [3, 3, -1, 8, 0])


def test_thresholds_are_parameters(accs):
    # with a 0.98 acquisition level the third curve counts as acquired (and never fades)
    assert A.classify_transience(accs, acquire=0.98)[2] == "persistent"
    # with a 0.93 fade level the second curve (dip to 0.92 at 900) becomes transient at 900
    assert A.transience_time(STEPS, accs, fade=0.93)[1] == 900


def test_nan_after_stop_is_not_a_fall():
    acc = curve({300: 0.995})
    acc[10:] = np.nan  # member stopped
    assert A.classify_transience(acc[None])[0] == "persistent"
    assert not A.branch_mask(acc[None], "icl")[0, 10:].any()


def test_branch_masks_partition_post_acquisition(accs):
    icl, faded = A.branch_mask(accs, "icl"), A.branch_mask(accs, "faded")
    assert not (icl & faded).any()
    # transient member 0: ICL branch is steps 300..1100, faded from 1200 on
    np.testing.assert_array_equal(STEPS[icl[0]], np.arange(300, 1200, 100))
    np.testing.assert_array_equal(STEPS[faded[0]], np.arange(1200, 2000, 100))
    assert not icl[2].any() and not faded[2].any()  # never acquired
    assert icl[1, 3:].all() and not faded[1].any()  # persistent: ICL branch to the end
    with pytest.raises(ValueError):
        A.branch_mask(accs, "other")


def test_loss_relation_recovers_minus_half():
    icl, iwl, mask = _synthetic_losses(0.5)
    f = A.loss_relation_fit(icl, iwl, mask, max_loss=0.1)
    assert f["slope"] == pytest.approx(-0.5, abs=0.01)
    assert f["slope_ci"][0] < -0.5 < f["slope_ci"][1]
    assert f["intercept"] == pytest.approx(0.0, abs=0.05)
    assert f["n_members"] == 4
    assert np.all(np.exp(f["x"]) < 0.1)  # only the L_ICL << 1 points


def test_loss_relation_detects_a_different_slope():
    icl, iwl, mask = _synthetic_losses(1.0)
    f = A.loss_relation_fit(icl, iwl, mask, max_loss=0.1)
    assert f["slope"] == pytest.approx(-1.0, abs=0.02)
    assert not (f["slope_ci"][0] < -0.5 < f["slope_ci"][1])


def test_loss_relation_swap_and_degenerate():
    icl, iwl, mask = _synthetic_losses(0.5)
    g = A.loss_relation_fit(icl_loss=iwl, iwl_loss=icl, mask=mask, swap=True, max_loss=0.1)  # roles exchanged
    assert g["slope"] == pytest.approx(-0.5, abs=0.01)
    empty = A.loss_relation_fit(icl, iwl, np.zeros_like(mask))
    assert np.isnan(empty["slope"]) and empty["n_points"] == 0 and empty["note"] != "ok"


def test_lambert_w_prediction_uses_weight_decay():
    cfg = minimal_cfg()
    c3 = np.array([[1.0, 0.1, 0.01], [1.0, 0.1, 0.01]])
    w_tr = A.lambert_w_prediction({"c3": c3}, cfg)
    # w e^w = c3 / lambda_w for the decayed member; NaN without weight decay
    np.testing.assert_allclose(w_tr[0] * np.exp(w_tr[0]), c3[0] / 1e-2, rtol=1e-10)
    assert np.isnan(w_tr[1]).all()


def test_member_transience_ode_relaxes_to_lambert_w():
    cfg = minimal_cfg(lr=1.0)
    steps = np.arange(0, 3001, 100)
    run = {"steps": steps, "c3": np.full((2, len(steps)), 0.05), "w": np.full((2, len(steps)), 6.0)}
    s, w = A.member_transience_ode(run, cfg, 0, start=2)
    assert s[0] == 200 and w[0] == pytest.approx(6.0)
    assert w[-1] == pytest.approx(float(T.w_transient(0.05, 1e-2)), rel=1e-3)  # steady state of eq 44


def test_eq16_fits_recovers_both_slopes():
    f = A.eq16_fits(_eq16_run(-0.5, noise=0.05), n_boot=500)
    assert f["which"] == "transient runs" and f["selected"].all()
    assert f["icl"]["slope"] == pytest.approx(-0.5, abs=0.03)
    assert f["faded"]["slope"] == pytest.approx(-0.5, abs=0.03)
    assert A.slope_status(f["icl"]["slope"], f["icl"]["slope_ci"]) == "consistent"
    g = A.eq16_fits(_eq16_run(-0.2, noise=0.005), n_boot=300)
    assert g["icl"]["slope"] == pytest.approx(-0.2, abs=0.02)
    assert A.slope_status(g["icl"]["slope"], g["icl"]["slope_ci"]) == "right sign"


def test_eq16_fits_without_transient_runs_falls_back():
    r = _eq16_run()
    r["icl_acc"][:, 35:] = 0.999  # nobody fades
    f = A.eq16_fits(r, n_boot=50)
    assert "none transient" in f["which"] and f["selected"].all()
    assert np.isnan(f["faded"]["slope"]) and f["faded"]["n_points"] == 0


def test_slope_status():
    assert A.slope_status(-0.45, (-0.6, -0.4)) == "consistent"
    assert A.slope_status(-0.2, (-0.3, -0.1)) == "right sign"
    assert A.slope_status(0.1, (-0.1, 0.3)) == "inconsistent"
    assert A.slope_status(np.nan, (np.nan, np.nan)) == "untestable"
