"""Tests of K* and t_ICL against N (lib/icl_kinetics/analysis/scaling.py, chapters 07, 08, 10) on synthetic data
whose answers are known by construction."""
import numpy as np
import pytest

from icl_kinetics import analysis as A
from icl_kinetics.fits import sigmoid


def synthetic_times(slope, intercept=0.0, sd=0.3, n=60, Ns=(10, 20, 30, 40), seed=0, censor_at=None):
    rng = np.random.default_rng(seed)
    out = {}
    for N in Ns:
        t = (slope * N + intercept) * rng.lognormal(0, sd, n)
        if censor_at is not None:
            t = np.where(t > censor_at * N, np.inf, t)
        out[N] = t
    return out


def synthetic_sweeps(exponent, Ns=(10, 20, 40), C=20.0, seeds=3, noise=0.02, seed=0):
    rng = np.random.default_rng(seed)
    Ks = np.geomspace(10, 1e5, 13)
    out = {}
    for N in Ns:
        kstar = C * N**exponent
        K = np.repeat(Ks, seeds)
        acc = sigmoid(np.log10(K), 8.0, np.log10(kstar), 0.5, 0.5) + noise * rng.standard_normal(len(K))
        out[N] = (K, np.clip(acc, 0, 1))
    return out


def test_censored_median_counts_censored_runs_as_largest():
    t = np.array([1.0, 2.0, 3.0, np.inf, np.inf])
    cm = A.censored_median(t, n_boot=500)
    assert cm.median == 3.0  # dropping the censored runs would give 2
    assert cm.n == 5 and cm.n_censored == 2
    assert cm.ci[0] <= cm.median <= cm.ci[1]
    assert np.isposinf(cm.ci[1])  # resamples with >= 3 censored runs have an infinite median
    # NaN means censored too
    assert A.censored_median([1.0, 2.0, 3.0, np.nan, np.nan], n_boot=0).median == 3.0


def test_censored_median_infinite_when_most_runs_censored():
    assert np.isposinf(A.censored_median([5.0, np.inf, np.inf], n_boot=10).median)
    assert np.isnan(A.censored_median([], n_boot=10).median)


def test_censored_median_interval_covers_true_median():
    rng = np.random.default_rng(1)
    x = rng.lognormal(np.log(100), 0.5, 400)
    cm = A.censored_median(x, n_boot=500)
    assert cm.ci[0] < 100 < cm.ci[1]
    assert cm.ci[1] - cm.ci[0] < 30


def test_median_vs_n_recovers_linear_scaling():
    f = A.median_vs_n_fit(synthetic_times(50.0, n=200), n_boot=400)
    assert f.ok
    assert f.line.slope == pytest.approx(50, rel=0.15)
    assert f.slope_ci_boot[0] < 50 < f.slope_ci_boot[1]
    assert f.loglog_ci_boot[0] < 1 < f.loglog_ci_boot[1]
    assert f.prop == pytest.approx(50, rel=0.15)
    assert f.intercept_ci_boot[0] < 0 < f.intercept_ci_boot[1]


def test_median_vs_n_detects_superlinear_scaling():
    times = {N: 2.0 * N**2 * np.random.default_rng(N).lognormal(0, 0.2, 60) for N in (10, 20, 30, 40)}
    f = A.median_vs_n_fit(times, n_boot=400)
    assert f.loglog.slope == pytest.approx(2, abs=0.1)
    assert f.loglog_ci_boot[0] > 1.5


def test_median_vs_n_drops_n_with_infinite_median_and_degenerates_gracefully():
    times = synthetic_times(50.0, n=11)
    times[40] = np.array([np.inf] * 8 + [1.0, 2.0, 3.0])
    f = A.median_vs_n_fit(times, n_boot=50)
    assert f.ok and "40" in f.message and np.isposinf(f.medians[-1].median)
    bad = A.median_vs_n_fit({10: [np.inf, np.inf], 20: [1.0, np.inf, np.inf]}, n_boot=50)
    assert not bad.ok and np.isnan(bad.prop) and "no fit" in bad.message


@pytest.mark.parametrize("exponent", [1.0, 1.43])
def test_kstar_vs_n_recovers_exponent(exponent):
    f = A.kstar_vs_n_fit(synthetic_sweeps(exponent), n_boot=60)
    assert f.ok and f.used.all()
    assert f.k_star == pytest.approx(20.0 * np.array([10, 20, 40]) ** exponent, rel=0.1)
    assert f.exponent == pytest.approx(exponent, abs=0.05)
    assert f.exponent_ci_boot[0] - 0.01 < exponent < f.exponent_ci_boot[1] + 0.01
    assert np.all(f.ci[:, 0] <= f.k_star * 1.0001) and np.all(f.ci[:, 1] >= f.k_star * 0.9999)
    assert f.n_boot_ok > 40


def test_each_kstar_interval_is_its_sweeps_own_whatever_the_exponent_bootstrap():
    """A K* reads the same on every page: kstar_vs_n_fit's per-N interval is fit_threshold's on that sweep alone
    (chapter 1, the ladder, chapter 13), not a marginal of the joint bootstrap, and does not move with n_boot."""
    from icl_kinetics import fits
    sweeps = synthetic_sweeps(1.2, noise=0.05)
    a, b = A.kstar_vs_n_fit(sweeps, n_boot=40), A.kstar_vs_n_fit(sweeps, n_boot=80, seed=3)
    for i, n in enumerate(sorted(sweeps)):
        own = fits.fit_threshold(*sweeps[n]).ci
        assert tuple(a.ci[i]) == tuple(b.ci[i]) == own
    assert a.exponent_ci_boot != b.exponent_ci_boot  # the exponent's interval is the joint bootstrap's


def test_kstar_bootstrap_interval_widens_with_noise():
    quiet = A.kstar_vs_n_fit(synthetic_sweeps(1.2, noise=0.01), n_boot=60)
    noisy = A.kstar_vs_n_fit(synthetic_sweeps(1.2, noise=0.05), n_boot=60)  # 5x wider; noisier data only fit slower
    w = lambda f: f.exponent_ci_boot[1] - f.exponent_ci_boot[0]  # noqa: E731
    assert w(noisy) > 2 * w(quiet)


def test_kstar_vs_n_flat_sweep_is_left_out_and_degenerate_data_give_nan():
    sw = synthetic_sweeps(1.0)
    K = sw[40][0]
    sw[40] = (K, np.full(len(K), 0.5))  # never acquires ICL: no transition
    f = A.kstar_vs_n_fit(sw, n_boot=20)
    assert f.ok and not f.used[2] and np.isnan(f.k_star[2]) and "40" in f.message
    sw[20] = (K, np.full(len(K), 0.5))
    g = A.kstar_vs_n_fit(sw, n_boot=20)
    assert not g.ok and np.isnan(g.exponent) and np.isnan(g.exponent_ci_boot[0])


def test_pooled_relative_times():
    times = {10: np.array([1.0, 2.0, 3.0]), 20: np.array([10.0, 20.0, np.inf, 40.0, 50.0])}
    r, nc = A.pooled_relative_times(times)
    assert nc == 1
    np.testing.assert_allclose(np.sort(r), np.sort([0.5, 1, 1.5, 0.25, 0.5, 1.0, 1.25]))


def test_median_vs_n_paired_bootstrap_uses_shared_seeds():
    rng = np.random.default_rng(5)
    b = rng.normal(0, 0.5, 30)  # one "initialisation" per seed, shared across N
    times = {N: 50.0 * N * np.exp(b + 0.01 * rng.standard_normal(30)) for N in (10, 20, 30, 40)}
    paired = A.median_vs_n_fit(times, n_boot=400, paired=True)
    indep = A.median_vs_n_fit(times, n_boot=400, paired=False)
    w = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert w(paired.loglog_ci_boot) < 0.3 * w(indep.loglog_ci_boot)
    assert paired.loglog_ci_boot[0] < 1 < paired.loglog_ci_boot[1]
    with pytest.raises(ValueError):
        A.median_vs_n_fit({10: [1.0, 2.0, 3.0], 20: [1.0, 2.0], 30: [3.0, 4.0, 5.0]}, paired=True)
    two = A.median_vs_n_fit({10: [1.0, 2.0, 3.0], 20: [2.0, 4.0, 6.0]}, n_boot=50, min_n=2)
    assert two.ok and two.loglog.slope == pytest.approx(1.0)


def test_seed_consistency():
    rng = np.random.default_rng(2)
    seeds = {N: np.arange(20) for N in (10, 20, 30)}
    b = rng.normal(0, 0.4, 20)
    fixed = {N: N * np.exp(b + 0.05 * rng.standard_normal(20)) for N in seeds}
    r = A.seed_consistency(fixed, seeds, n_boot=300)
    assert r["n_seeds"] == 20 and r["icc"] > 0.9 and r["icc_ci"][0] > 0.7 and r["r_mean"] > 0.9
    assert r["sd_seed_effect"] == pytest.approx(0.4, rel=0.35)
    indep = {N: N * np.exp(rng.normal(0, 0.4, 20)) for N in seeds}
    q = A.seed_consistency(indep, seeds, n_boot=300)
    assert q["icc_ci"][0] < 0.2 and q["icc"] < 0.5
    # a censored run removes its seed; shuffled seed labels break the pairing
    fixed[10][0] = np.inf
    assert A.seed_consistency(fixed, seeds, n_boot=10)["n_seeds"] == 19
    shuffled = {**seeds, 20: rng.permutation(20)}
    assert A.seed_consistency(fixed, shuffled, n_boot=100)["icc"] < r["icc"] - 0.3


def test_kstar_t_model_recovers_the_threshold_and_is_wider_than_the_seed_bootstrap():
    """Issue 32 item 3: with 4 seeds per K the t model of each K's mean gives K* an interval at least as wide as
    the percentile bootstrap of the seeds, around the same K*; and two N give the exponent."""
    from icl_kinetics.analysis.scaling import kstar_vs_n_fit
    from icl_kinetics.analysis.small_sample import kstar_t_model
    rng = np.random.default_rng(0)

    def sweep(kstar):
        Ks = np.repeat(np.geomspace(kstar / 8, kstar * 8, 7), 4)
        p = 0.5 + 0.5 / (1 + (kstar / Ks) ** 4)
        return Ks, np.clip(p + rng.normal(0, 0.08, len(Ks)), 0.45, 1.0)
    sweeps = {10: sweep(300.0), 40: sweep(1200.0)}
    tm = kstar_t_model(sweeps, n_boot=80)
    boot = kstar_vs_n_fit(sweeps, n_boot=80)
    for i in range(2):
        assert tm.ci[i, 0] < tm.k_star[i] < tm.ci[i, 1]
        assert np.log(tm.ci[i, 1] / tm.ci[i, 0]) >= 0.9 * np.log(boot.ci[i, 1] / boot.ci[i, 0])
    assert abs(tm.exponent - 1.0) < 0.3 and tm.exponent_ci[0] < tm.exponent < tm.exponent_ci[1]


def test_per_seed_slopes_and_their_t_interval():
    """Each seed's own log-log slope of t_ICL against N - 1; a seed censored anywhere has none; the t interval
    covers the mean of slopes that scatter around 1.3."""
    from icl_kinetics.analysis.small_sample import mean_slope_t, per_seed_slopes
    rng = np.random.default_rng(1)
    slope = 1.3 + rng.normal(0, 0.05, 10)
    times = {N: 100.0 * (N - 1) ** slope for N in (26, 51, 101)}
    times[101][3] = np.inf
    s = per_seed_slopes(times)
    assert np.isnan(s[3]) and np.allclose(np.delete(s, 3), np.delete(slope, 3))
    m, ci = mean_slope_t(s)
    from scipy import stats
    kept = np.delete(slope, 3)
    half = stats.t.ppf(0.975, 8) * kept.std(ddof=1) / 3
    assert np.isclose(m, kept.mean()) and np.allclose(ci, (m - half, m + half))


def test_where_the_papers_exponent_falls_reads_only_the_deciding_analyses():
    """Above, below or inside the intervals of the analyses that can decide; a descriptive row never counts."""
    from icl_kinetics.analysis.threshold import ExponentEvidence, where_paper_exponent
    from icl_kinetics.rules import Choice

    def ev(*rows):
        choices = {f"c{i}": Choice(dict(ci=ci), "why", decides=d) for i, (ci, d) in enumerate(rows)}
        return ExponentEvidence(exponent=1.0, exponent_lo=0.9, exponent_hi=1.2, inv_nu=1.3, inv_nu_lo=1.2,
                                inv_nu_hi=1.4, choices=choices)
    assert where_paper_exponent(ev(((0.9, 1.2), True), ((0.8, 1.5), False))).startswith(
        "above the interval of every deciding analysis")
    assert "highest upper end is 1.30" in where_paper_exponent(ev(((0.9, 1.2), True), ((1.0, 1.3), True)))
    assert where_paper_exponent(ev(((1.5, 1.7), True)), 1.41).startswith("below")
    assert where_paper_exponent(ev(((1.0, 1.5), True), ((0.9, 1.2), True))) == \
        "inside the interval of some deciding analyses and outside others"
    assert where_paper_exponent(ev(((float("nan"), 1.0), True))).startswith("not comparable")


def test_unpaired_n_keep_the_paired_analyses_on_the_seeds_every_n_has():
    """When the N differ in seeds (a new N with fewer of them), the choice table keeps the pairing on the seeds run
    at every N; with the same seeds everywhere it is the paired table, unchanged."""
    from icl_kinetics.analysis.scaling import common_seeds, linear_choices, same_seeds
    rng = np.random.default_rng(0)
    base = np.exp(rng.normal(0, 0.3, 12))
    times = {25: 25 * base, 50: 50 * base * 1.01, 100: 100 * base, 200: 200 * base[:6]}
    seeds = {25: tuple(range(12)), 50: tuple(range(12)), 100: tuple(range(12)), 200: tuple(range(6))}
    assert not same_seeds(seeds) and same_seeds({k: v for k, v in seeds.items() if k != 200})
    assert all(len(t) == 6 for t in common_seeds(times, seeds).values())
    rows = linear_choices(times, seeds, n_boot=200)
    assert "N - 1, paired seed bootstrap on the 6 seeds run at every N" in rows
    assert "mean of the seeds' own slopes, t interval (6 uncensored seeds run at every N)" in rows
    assert "N - 1, seeds resampled independently at each N" not in rows
    paired_rows = linear_choices({k: v for k, v in times.items() if k != 200},
                                 {k: v for k, v in seeds.items() if k != 200}, n_boot=200)
    assert "N - 1, seeds resampled independently at each N" in paired_rows
    assert "mean of the seeds' own slopes, t interval (12 uncensored seeds)" in paired_rows


def test_budget_text_names_one_budget_or_which_n_have_which():
    from icl_kinetics.analysis.scaling import budget_text
    assert budget_text({25: 37_520, 100: 37_520}) == "37,520 iterations at every N" and budget_text({}) == ""
    assert budget_text({25: 37_520, 50: 37_520, 100: 37_520, 200: 93_800}) == \
        "37,520 iterations at N = 25, 50 and 100, 93,800 at N = 200"
