"""Tests of lib/icl_kinetics/stats.py: intervals, the bootstrap and the crossing helper, on data whose answers are
known by construction."""
import numpy as np
import pytest

from icl_kinetics import stats as st


def test_proportion_ci_wilson_and_empty():
    p, lo, hi = st.proportion_ci(0, 20)
    assert p == 0 and lo == pytest.approx(0, abs=1e-12) and 0.1 < hi < 0.2  # Wilson: 0.161 for 0/20
    p, lo, hi = st.proportion_ci(10, 20)
    assert p == 0.5 and lo < 0.5 < hi and hi - 0.5 == pytest.approx(0.5 - lo)
    assert all(np.isnan(st.proportion_ci(0, 0)))


def test_interval_uses_conf_and_ignores_nan():
    v = np.arange(101.0)
    assert st.interval(v) == (2.5, 97.5)
    assert st.interval(v, conf=0.5) == (25.0, 75.0)
    assert st.interval(np.r_[v, np.nan]) == (2.5, 97.5)
    assert all(np.isnan(st.interval([])))
    # order statistics keep +inf (censored times) instead of turning it into NaN
    lo, hi = st.interval(np.r_[np.arange(10.0), [np.inf] * 10], conf=0.5, method="inverted_cdf")
    assert np.isfinite(lo) and hi == np.inf


def test_resample_within_groups_matches_choice_and_stays_in_group():
    groups = [np.array([0, 1, 2]), np.array([3, 4])]
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    idx = st.resample(a, groups=groups)
    ref = np.concatenate([b.choice(g, size=len(g)) for g in groups])
    np.testing.assert_array_equal(idx, ref)
    assert set(idx[:3]) <= {0, 1, 2} and set(idx[3:]) <= {3, 4}


def test_resample_clusters_keeps_clusters_whole():
    clusters = [np.array([0, 1]), np.array([2, 3, 4])]
    for seed in range(20):
        idx = [int(i) for i in st.resample(np.random.default_rng(seed), clusters=clusters)]
        assert len(idx) in (4, 5, 6)
        while idx:
            head = [0, 1] if idx[0] == 0 else [2, 3, 4]
            assert idx[:len(head)] == head
            idx = idx[len(head):]


def test_replicates_skips_failures_and_none():
    def fn(idx):
        if idx[0] == 0:
            raise ValueError("bad draw")
        return None if idx[0] == 1 else float(idx.mean())

    vals = st.replicates(fn, n=3, n_boot=200, seed=0)
    assert 0 < len(vals) < 200 and all(np.isfinite(vals))


def test_bootstrap_median_interval_covers_truth():
    x = np.random.default_rng(0).normal(5.0, 1.0, 400)
    est, (lo, hi) = st.bootstrap(np.median, x, n_boot=500, seed=1)
    assert lo < 5.0 < hi and lo < est < hi and hi - lo < 0.4
    _, (lo50, hi50) = st.bootstrap(np.median, x, n_boot=500, seed=1, conf=0.5)
    assert lo < lo50 < hi50 < hi


def test_first_crossing_strict_interpolated_and_never():
    x = np.array([0.0, 10.0, 20.0, 30.0])
    c = np.array([[0.0, 1.0, 2.0, 3.0], [0.0, 0.5, np.nan, 0.5], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(st.first_crossing(x, c, 1.0), [10.0, np.nan, 0.0])
    np.testing.assert_array_equal(st.first_crossing(x, c, 1.0, strict=True), [20.0, np.nan, np.nan])
    np.testing.assert_allclose(st.first_crossing(x, c, 1.5, interpolate=True), [15.0, np.nan, np.nan])
    np.testing.assert_array_equal(st.first_index(c >= 1.0), [1, -1, 0])


def test_counts_that_cannot_be_a_proportion_are_refused():
    """Issue 33.7: before, proportion_ci(19, 1) gave a proportion above 1, proportion_ci(2.5, 5) truncated k to 2
    and wilson_interval(17, 0) gave NaN."""
    for k, n in ((19, 1), (2.5, 5), (-1, 5), (3, 4.5)):
        with pytest.raises(ValueError, match="whole number"):
            st.proportion_ci(k, n)
    with pytest.raises(ValueError, match="n must be a whole number >= 1"):
        st.wilson_interval(17, 0)
    with pytest.raises(ValueError, match="k must be"):
        st.wilson_interval(np.array([1, 5]), np.array([4, 4]))
    assert st.proportion_ci(np.int64(3), 10.0)[0] == 0.3  # numpy and whole float counts are counts
