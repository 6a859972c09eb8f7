"""Chapter 5, the memorisation scaling law (section 3.6, Fig 5, A.2, A.3): I_K(inf) from MLP-only runs, its
power law in K, and the K* it predicts through eq 12 (t_ICL(N) = I_K*(inf)); chapter 9 inverts I_K(t) (eq 12).
Time is gradient-flow time t = lr x iterations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rules import Choice
from ..prose import count
from .. import fits
from .. import stats as st
from ..theory import i_k
from ..theory import k_star_prediction, t_icl_eq11
from ..config import RunConfig
from ..verdicts import STALL_EXPONENT
from .runs import members
from .section import Section, glued, kept, plotted


@dataclass
class IKInfinity:
    """Estimate of I_K(inf) = 2 int_0^inf c1 dt from a c1(t) sampled on [0, T].

    ``value = observed + tail``: ``observed`` is I_K(T) (trapezoid over the run), ``tail`` the extrapolated
    2 int_T^inf c1 under a power law c1 ~ a t^-p fitted to the end of the run (``inf`` if p <= 1: the fitted
    tail does not integrate). ``tail_frac = tail / value``; ``last10_frac`` the fraction of I_K(T) added over the
    last 10% of the run time (a model-free check). ``converged``: p > 1 and tail_frac <= tol and last10_frac
    <= last10_tol; ``reason`` says which test failed.
    """
    value: float
    observed: float
    tail: float
    tail_frac: float
    tail_exponent: float
    last10_frac: float
    c1_end: float
    t_end: float
    converged: bool
    reason: str


def power_law_tail(t, c1, fit_from: float = 0.5, min_points: int = 4) -> tuple:
    """The tail 2 int_T^inf c1 dt that turns I_K(T) into I_K(inf): c1 ~ a t^-p fitted by least squares in log-log
    over the run's end, t in [fit_from T, T]; then 2 int_T^inf a t^-p dt = 2 c1(T) T / (p - 1), infinite for
    p <= 1 (the integral diverges). Returns (p, fitted c1(T), tail); (NaN, last c1, inf) with fewer than
    `min_points` positive samples to fit."""
    T = t[-1]
    win = (t >= fit_from * T) & (t > 0) & (c1 > 0)
    if win.sum() < min_points:
        return np.nan, float(c1[-1]), np.inf
    slope, icpt = np.polyfit(np.log(t[win]), np.log(c1[win]), 1)
    p, c1_end = -float(slope), float(np.exp(icpt + slope * np.log(T)))  # fitted c1(T): robust to SGD noise
    return p, c1_end, (2.0 * c1_end * T / (p - 1.0) if p > 1 else np.inf)


def ik_infinity(t, c1, tol: float = 0.05, last10_tol: float = 0.05, fit_from: float = 0.5,
                min_points: int = 4) -> IKInfinity:
    """I_K(inf) from a sampled c1(t) (t in lr x iterations, t[0] = 0), with a convergence verdict.

    The tail beyond the last sample T is extrapolated with a power law c1 = a t^-p, fitted by least squares
    to log c1 against log t over t in [fit_from * T, T] (a heavy tail: an exponential decay shows up as a large
    p and a negligible tail, a plateau or 1/t decay as p <= 1, i.e. a divergent integral). Then
    tail = 2 a T^(1-p) / (p - 1). The estimate counts as converged when the tail is finite and at most ``tol``
    of the total, and the run's last 10% of time added at most ``last10_tol`` of I_K(T). NaN samples (stopped
    members) are dropped. Needs at least ``min_points`` positive samples in the fit window, else not converged.
    """
    t, c1 = np.asarray(t, float), np.asarray(c1, float)
    ok = np.isfinite(t) & np.isfinite(c1)
    t, c1 = t[ok], c1[ok]
    if len(t) < 2:
        return IKInfinity(np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, False, "too few samples")
    ik = i_k(t, c1)
    T, observed = float(t[-1]), float(ik[-1])
    before = float(np.interp(t[0] + 0.9 * (T - t[0]), t, ik))
    last10 = (observed - before) / observed if observed > 0 else np.nan
    p, c1_end, tail = power_law_tail(t, c1, fit_from, min_points)
    value = observed + tail
    tail_frac = tail / value if np.isfinite(value) and value > 0 else 1.0
    reasons = []
    if not np.isfinite(p):
        reasons.append(f"fewer than {min_points} positive samples to fit the tail")
    elif p <= 1:
        reasons.append(f"c1 decays as t^-{p:.2f} at the end of the run (p <= 1: the integral diverges)")
    elif tail_frac > tol:
        reasons.append(f"extrapolated tail is {100 * tail_frac:.0f}% of the total (> {100 * tol:.0f}%)")
    if not (np.isfinite(last10) and last10 <= last10_tol):
        reasons.append(f"the last 10% of the run added {100 * last10:.1f}% of I_K (> {100 * last10_tol:.0f}%)")
    converged = not reasons
    return IKInfinity(value=float(value) if np.isfinite(value) else np.inf, observed=observed,
                      tail=float(tail), tail_frac=float(tail_frac), tail_exponent=p, last10_frac=float(last10),
                      c1_end=c1_end, t_end=T, converged=bool(converged),
                      reason="converged" if converged else "; ".join(reasons))


def memorization_table(run: dict, cfg: RunConfig, **kw) -> dict:
    """Per-member I_K(inf) estimates of an MLP-only run (``memorization`` experiment).

    Returns dict of (E,) arrays: K, seed, value, observed, tail, tail_frac, tail_exponent, last10_frac,
    c1_end, final_train_acc, converged (bool), and ``reason`` (list of str). ``kw`` go to :func:`ik_infinity`.
    Time t = lr x steps.
    """
    m = members(cfg)
    t = cfg.lr * np.asarray(run["steps"], float)
    ests = [ik_infinity(t, c, **kw) for c in run["c1"]]
    out = {"K": m["K"], "seed": m["seed"]}
    for f in ("value", "observed", "tail", "tail_frac", "tail_exponent", "last10_frac", "c1_end"):
        out[f] = np.array([getattr(e, f) for e in ests], float)
    out["converged"] = np.array([e.converged for e in ests], bool)
    out["reason"] = [e.reason for e in ests]
    acc = run.get("train_acc")
    out["final_train_acc"] = (np.array([r[np.isfinite(r)][-1] if np.isfinite(r).any() else np.nan for r in acc])
                              if acc is not None else np.full(len(ests), np.nan))
    return out


@dataclass
class ScalingFit:
    """I_K(inf) = A K^nu fitted on members whose estimate converged (all seeds of a K must converge).

    ``nu_ci``/``A_ci``: 95% percentile bootstrap that resamples seeds within each K; ``nu_ci_ols``: t interval
    of the least-squares slope on all included members (captures departures from a straight line that the
    seed bootstrap does not). ``boot``: (n_boot_ok, 2) bootstrap (nu, log10 A) pairs, for propagation.
    """
    nu: float
    A: float
    nu_ci: tuple
    A_ci: tuple
    nu_ci_ols: tuple
    r2: float
    Ks_used: np.ndarray
    Ks_excluded: dict  # K -> reason
    boot: np.ndarray
    ok: bool
    message: str = ""


def fit_memorization_scaling(table: dict, n_boot: int = 2000, seed: int = 0, K_range=None) -> ScalingFit:
    """Power-law fit log10 I_K(inf) = log10 A + nu log10 K over the K whose every seed converged.

    ``K_range``: optional (K_min, K_max) to fit a sub-range only (a sensitivity check for curvature); K outside
    it are listed as excluded. Degenerate data (fewer than 2 distinct usable K) give ``ok=False`` and NaNs
    instead of an exception.
    """
    K, val, conv = np.asarray(table["K"], float), np.asarray(table["value"], float), np.asarray(table["converged"])
    lo, hi = K_range if K_range is not None else (-np.inf, np.inf)
    excluded, used = {}, []
    for k in np.unique(K):
        g = K == k
        if not lo <= k <= hi:
            excluded[float(k)] = f"outside the fitted range [{lo:g}, {hi:g}]"
        elif not conv[g].all():
            bad = [r for r, c in zip(np.asarray(table["reason"], object)[g], conv[g]) if not c]
            excluded[float(k)] = f"{(~conv[g]).sum()}/{g.sum()} seeds not converged: {bad[0]}"
        elif not (np.isfinite(val[g]).all() and (val[g] > 0).all()):
            excluded[float(k)] = "non-finite or non-positive estimate"
        else:
            used.append(k)
    used = np.array(used, float)
    nan2 = (np.nan, np.nan)
    if len(used) < 2:
        return ScalingFit(np.nan, np.nan, nan2, nan2, nan2, np.nan, used, excluded, np.empty((0, 2)), False,
                          f"only {count(len(used), 'K value')} with converged I_K(inf): no power-law fit")
    sel = np.isin(K, used)
    x, y = np.log10(K[sel]), np.log10(val[sel])
    lf = fits.linear_fit(x, y)
    groups = [np.flatnonzero(K[sel] == k) for k in used]
    boot = np.asarray(st.replicates(lambda idx: tuple(np.polyfit(x[idx], y[idx], 1)), n_boot=n_boot, seed=seed,
                                    groups=groups))
    nu_ci = st.interval(boot[:, 0])
    A_ci = tuple(10 ** np.asarray(st.interval(boot[:, 1])))
    return ScalingFit(float(lf.slope), float(10 ** lf.intercept), nu_ci, A_ci, tuple(lf.slope_ci),
                      float(lf.r2), used, excluded, boot, True)


def kstar_from_scaling(N, A: float, nu: float, beta0: float = 0.0):
    """K* solving I_K*(inf) = t_ICL(N) (eq 12) with I_K(inf) = A K^nu and t_ICL = N sqrt(2 pi) e^-beta0 (eq 11):
    K* = (t_ICL / A)^(1/nu), i.e. eq 13 with the prefactor (sqrt(2 pi)/A)^(1/nu) fixed by the fit."""
    return k_star_prediction(N, beta0, nu=nu, prefactor=(np.sqrt(2 * np.pi) / A) ** (1.0 / nu))


def kstar_table(fit: ScalingFit, Ns, beta0: float = 0.0) -> list:
    """Predicted K* per N with a 95% interval propagated from the seed bootstrap of (nu, A); each row says
    whether K* lies inside the K range the fit used (else it is an extrapolation of the power law)."""
    rows = []
    for N in Ns:
        t_icl = float(t_icl_eq11(N, beta0))
        if not fit.ok:
            rows.append(dict(N=int(N), t_icl=t_icl, k_star=np.nan, ci=[np.nan, np.nan], within_fitted_range=False))
            continue
        ks = float(kstar_from_scaling(N, fit.A, fit.nu, beta0))
        kb = kstar_from_scaling(N, 10 ** fit.boot[:, 1], fit.boot[:, 0], beta0)
        kb = kb[np.isfinite(kb)]
        ci = list(st.interval(kb))
        rows.append(dict(N=int(N), t_icl=t_icl, k_star=ks, ci=ci,
                         within_fitted_range=bool(fit.Ks_used.min() <= ks <= fit.Ks_used.max())))
    return rows


def invert_ik(t, ik, targets) -> np.ndarray:
    """tau_K for each target: the first time at which the increasing curve I_K(t) (sampled at t) reaches the
    target, linearly interpolated; +inf where it never does within the sampled range (eq 12: ICL is never
    acquired). With I_K(t) = t (K = infinity) this is the identity. Times in the units of `t`."""
    t, ik = np.asarray(t, float), np.asarray(ik, float)
    ok = np.isfinite(t) & np.isfinite(ik)
    t, ik = t[ok], np.maximum.accumulate(ik[ok])
    out = np.full(np.shape(targets), np.inf)
    for i, y in np.ndenumerate(np.asarray(targets, float)):
        if not np.isfinite(y) or len(ik) == 0 or y > ik[-1]:
            continue
        j = int(np.argmax(ik >= y))
        out[i] = t[0] if j == 0 else float(np.interp(y, ik[j - 1:j + 1], t[j - 1:j + 1]))
    return out


def half_range_fits(tab: dict, fit: ScalingFit, n_boot: int = 2000, seed: int = 1) -> dict:
    """The memorisation power law refitted on the lower and on the upper half of the K values `fit` used
    ({"low": ScalingFit, "high": ScalingFit}); their disagreement measures the curvature of log I_K(inf)."""
    half = (len(fit.Ks_used) + 1) // 2
    out = {}
    for part, ks in (("low", fit.Ks_used[:half]), ("high", fit.Ks_used[-half:])):
        out[part] = (fit_memorization_scaling(tab, n_boot=n_boot, seed=seed, K_range=(ks.min(), ks.max()))
                     if half >= 3 else ScalingFit(np.nan, np.nan, (np.nan,) * 2, (np.nan,) * 2, (np.nan,) * 2,
                                                  np.nan, np.array([]), {}, np.empty((0, 2)), False, "too few K"))
    return out


def _mlp_params(c) -> int:
    """Parameters of the two-hidden-layer MLP of a config (D -> width -> width -> 1)."""
    return c.D * c.width + c.width + c.width ** 2 + c.width + c.width + 1


@dataclass(frozen=True)
class MemorizationSettings(Section):
    profile: str = glued()
    D: int = glued()
    width: int = glued()
    lr: float = glued()
    batch: int = glued()
    steps: int = glued()
    eval_every: int = glued()
    t_end: float = glued()
    K_min: int = glued()
    K_max: int = glued()
    n_K: int = glued()
    n_seeds: int = glued()
    paper_D: int = glued()
    paper_width: int = glued()
    paper_lr: float = glued()
    paper_steps: int = glued()
    params: int = glued()
    params_paper: int = glued()
    params_ratio: float = glued()


def memorization_settings(run: dict, cfg: RunConfig, paper_cfg: RunConfig, profile: str) -> MemorizationSettings:
    """The numbers of chapter 5's settings table: this profile's MLP runs against the paper profile's."""
    t = cfg.lr * run["steps"].astype(float)
    K = members(cfg)["K"]
    Ks = np.unique(K)
    numbers = dict(profile=profile, D=cfg.D, width=cfg.width, lr=cfg.lr, batch=cfg.batch, steps=cfg.steps,
                   eval_every=cfg.eval_every, t_end=float(t[-1]), K_min=int(Ks.min()), K_max=int(Ks.max()),
                   n_K=len(Ks), n_seeds=int(np.sum(K == Ks[0])), paper_D=paper_cfg.D, paper_width=paper_cfg.width,
                   paper_lr=paper_cfg.lr, paper_steps=paper_cfg.steps, params=_mlp_params(cfg),
                   params_paper=_mlp_params(paper_cfg), params_ratio=_mlp_params(paper_cfg) / _mlp_params(cfg))
    return MemorizationSettings.of(numbers)


@dataclass(frozen=True)
class OrderParameters(Section):
    c1_end_smallK: float = glued()
    c1_end_largeK: float = glued()
    c3_min: float = glued()
    acc_end_min: float = glued()
    t: np.ndarray = plotted()
    c1: np.ndarray = plotted()
    c2: np.ndarray = plotted()
    c3: np.ndarray = plotted()
    K: np.ndarray = plotted()


def order_parameters(run: dict, cfg: RunConfig) -> OrderParameters:
    """Fig A.2: c1, c2, c3 of the MLP-only runs; c1 at the end for the smallest and largest K, the smallest c3 and
    the lowest final training accuracy of any member."""
    t = cfg.lr * run["steps"].astype(float)
    K = members(cfg)["K"]
    Ks = np.unique(K)
    tab = memorization_table(run, cfg)
    c1_end = np.array([np.nanmean(run["c1"][K == k, -1]) for k in Ks])
    numbers = dict(c1_end_smallK=float(c1_end[0]), c1_end_largeK=float(c1_end[-1]),
                   c3_min=float(np.nanmin(run["c3"])), acc_end_min=float(np.nanmin(tab["final_train_acc"])))
    return OrderParameters.of(numbers, dict(t=t, c1=run["c1"], c2=run["c2"], c3=run["c3"], K=K))


@dataclass(frozen=True)
class IkEstimates(Section):
    tol_pct: float = glued()
    last10_pct: float = glued()
    n_conv_K: int = glued()
    conv_K: str = glued()
    nonconv_K: str = glued()
    tail_frac_max: float = glued()
    p_min: float = glued()
    p_max: float = glued()
    acc_largest: float = glued()
    last10_largest: float = glued()
    seed_spread_pct: float = glued()
    logdiv_pct: float = glued()
    t: np.ndarray = plotted()
    c1: np.ndarray = plotted()
    ik: np.ndarray = plotted()
    K: np.ndarray = plotted()
    ik_inf: np.ndarray = plotted()
    converged: np.ndarray = plotted()
    table: dict = kept()
    rows: list = kept()
    Ks: np.ndarray = kept()


def ik_estimates(run: dict, cfg: RunConfig, tol: float = 0.05, last10_tol: float = 0.05) -> IkEstimates:
    """Fig A.3: I_K(t) per member and the estimate of I_K(inf) with its convergence test (:func:`ik_infinity`);
    which K converged for every seed, the tail fractions and exponents, the seed spread, and the size of a
    possible logarithmic divergence (c1 ~ 1/t after the run adds 2 c1(t_end) t_end ln 10 per decade).
    ``data["table"]``: the per-member table; ``data["rows"]``: it as rows for the page."""
    t = cfg.lr * run["steps"].astype(float)
    K = members(cfg)["K"]
    Ks = np.unique(K)
    tab = memorization_table(run, cfg, tol=tol, last10_tol=last10_tol)
    ik = np.array([i_k(t, c) for c in np.nan_to_num(run["c1"], nan=0.0)])
    conv = tab["converged"]
    conv_K = [int(k) for k in Ks if conv[K == k].all()]
    nonconv_K = [int(k) for k in Ks if not conv[K == k].all()]

    def finite_max(a):
        return float(np.nanmax(a)) if np.isfinite(a).any() else float("nan")

    def finite_min(a):
        return float(np.nanmin(a)) if np.isfinite(a).any() else float("nan")

    spread = [np.ptp(tab["value"][K == k]) / np.mean(tab["value"][K == k]) for k in conv_K]
    log_div = 2 * tab["c1_end"] * float(t[-1]) * np.log(10) / tab["value"]
    numbers = dict(tol_pct=100 * tol, last10_pct=100 * last10_tol, n_conv_K=len(conv_K),
                   conv_K=", ".join(map(str, conv_K)) or "none", nonconv_K=", ".join(map(str, nonconv_K)) or "none",
                   tail_frac_max=(float(100 * np.nanmax(np.where(conv, tab["tail_frac"], np.nan)))
                                  if conv.any() else float("nan")),
                   p_min=finite_min(np.where(conv, tab["tail_exponent"], np.nan)),
                   p_max=finite_max(np.where(conv, tab["tail_exponent"], np.nan)),
                   acc_largest=float(np.nanmean(tab["final_train_acc"][K == Ks.max()])),
                   last10_largest=float(100 * np.nanmean(tab["last10_frac"][K == Ks.max()])),
                   seed_spread_pct=100 * max(spread) if spread else float("nan"),
                   logdiv_pct=100 * finite_max(np.where(conv, log_div, np.nan)))
    rows = [[int(K[i]), tab["seed"][i], f"{tab['observed'][i]:.1f}", f"{tab['tail'][i]:.2f}", f"{tab['value'][i]:.1f}",
             f"{tab['tail_exponent'][i]:.2f}", f"{100 * tab['last10_frac'][i]:.2f}%", tab["reason"][i]]
            for i in range(len(K))]
    figure = dict(t=t, c1=run["c1"], ik=ik, K=K, ik_inf=tab["value"], converged=conv)
    return IkEstimates.of(numbers, figure, dict(table=tab, rows=rows, K=K, Ks=Ks))


@dataclass(frozen=True)
class ScalingLaw(Section):
    nu: float = glued()
    nu_lo: float = glued()
    nu_hi: float = glued()
    nu_ols_lo: float = glued()
    nu_ols_hi: float = glued()
    A: float = glued()
    A_lo: float = glued()
    A_hi: float = glued()
    r2: float = glued()
    nu_paper: float = glued()
    local_min: float = glued()
    local_max: float = glued()
    nu_low: float = glued()
    nu_low_lo: float = glued()
    nu_low_hi: float = glued()
    K_low: str = glued()
    nu_high: float = glued()
    nu_high_lo: float = glued()
    nu_high_hi: float = glued()
    K_high: str = glued()
    K: np.ndarray = plotted()
    ik_inf: np.ndarray = plotted()
    converged: np.ndarray = plotted()
    fit: ScalingFit = plotted()
    t_icl_lines: dict = plotted()
    ik_observed: np.ndarray = plotted()
    sub: dict = kept()


def scaling_law(est: IkEstimates, Ns, n_boot: int = 2000, nu_paper: float = 0.7) -> ScalingLaw:
    """Fig 5: the power law I_K(inf) = A K^nu over the converged K (:func:`fit_memorization_scaling`), local
    slopes between neighbouring K, the fits on the lower and upper half of the K range, and the t_ICL(N) of eq 11
    at the N the validation chapters train (drawn as horizontal lines)."""
    tab, K = est.table, est.K
    fit = fit_memorization_scaling(tab, n_boot=n_boot, seed=0)
    lines = {f"t_ICL(N={n}) = {t_icl_eq11(n, 0.0):.0f}": float(t_icl_eq11(n, 0.0)) for n in Ns}
    numbers = dict(nu=fit.nu, nu_lo=fit.nu_ci[0], nu_hi=fit.nu_ci[1], nu_ols_lo=fit.nu_ci_ols[0],
                   nu_ols_hi=fit.nu_ci_ols[1], A=fit.A, A_lo=fit.A_ci[0], A_hi=fit.A_ci[1], r2=fit.r2,
                   nu_paper=nu_paper, local_min=float("nan"), local_max=float("nan"))
    if fit.ok:  # local slopes between neighbouring K: does one power law describe the whole range?
        gm = np.array([np.exp(np.mean(np.log(tab["value"][K == k]))) for k in fit.Ks_used])
        local = np.diff(np.log(gm)) / np.diff(np.log(fit.Ks_used))
        numbers.update(local_min=float(local.min()), local_max=float(local.max()))
    sub = half_range_fits(tab, fit)
    for part, f in sub.items():
        ks = f.Ks_used
        numbers.update({f"nu_{part}": f.nu, f"nu_{part}_lo": f.nu_ci[0], f"nu_{part}_hi": f.nu_ci[1],
                        f"K_{part}": f"{int(ks.min())}-{int(ks.max())}" if len(ks) else "—"})
    figure = dict(K=K, ik_inf=tab["value"], converged=tab["converged"], fit=fit, t_icl_lines=lines,
                  ik_observed=tab["observed"])
    return ScalingLaw.of(numbers, figure, dict(fit=fit, sub=sub))


@dataclass(frozen=True)
class KstarPredictions(Section):
    inv_nu: float = glued()
    inv_nu_paper: float = glued()
    rows: list = plotted()
    nu: float = plotted()
    table: list = kept()


def kstar_predictions(law: ScalingLaw, Ns, nu_paper: float = 0.7) -> KstarPredictions:
    """Eq 13: K* predicted per N from the power law (and from the lower-half fit, a sensitivity check), as table
    rows for the page, with 1/nu against the paper's."""
    fit, sub = law.fit, law.sub
    rows = kstar_table(fit, Ns, beta0=0.0)
    rows_low = kstar_table(sub["low"], Ns, beta0=0.0)   # sensitivity: power law of the lower K half only

    def fmt(x, f):
        return "—" if not np.isfinite(x) else format(x, f)

    table = [[r["N"], f"{r['t_icl']:.1f}", f"{fmt(r['k_star'], '.0f')} [{fmt(r['ci'][0], '.0f')}, "
              f"{fmt(r['ci'][1], '.0f')}]", "yes" if r["within_fitted_range"] else "no (extrapolated)",
              f"{fmt(rl['k_star'], '.0f')} [{fmt(rl['ci'][0], '.0f')}, {fmt(rl['ci'][1], '.0f')}]"]
             for r, rl in zip(rows, rows_low)]
    numbers = dict(inv_nu=1 / fit.nu if fit.ok else float("nan"), inv_nu_paper=1 / nu_paper)
    return KstarPredictions.of(numbers, dict(rows=rows, nu=fit.nu), dict(table=table))


def nu_rule_stats(law: ScalingLaw) -> dict:
    """The statistics the nu rule reads (`verdicts.rule_nu`) from a :func:`scaling_law` section."""
    fit, sub = law.fit, law.sub
    return dict(nu=fit.nu, ci=fit.nu_ci, low_ci=sub["low"].nu_ci, high_ci=sub["high"].nu_ci)


def nu_choices(run: dict, cfg: RunConfig, Ns, law: ScalingLaw) -> dict:
    """{analysis choice: nu rule statistics}: the chapter's (a K enters when I_K converged within 5%, seed
    bootstrap), a looser convergence test (10%: more K enter the fit) and the least-squares interval of the
    slope (departures from one straight line widen it)."""
    main = nu_rule_stats(law)
    loose = scaling_law(ik_estimates(run, cfg, tol=0.1, last10_tol=0.1), Ns)
    return {"convergence within 5%, seed bootstrap (the chapter's)": Choice(
                main, "a K enters when every seed's I_K(t) has settled; resamples the seeds within each K"),
            "convergence within 10%": Choice(nu_rule_stats(loose), "a looser convergence test: more K enter the fit"),
            "least-squares interval of nu": Choice(
                dict(main, ci=law.fit.nu_ci_ols), "one point per K with several residual degrees of freedom; it "
                "widens when the K depart from one straight line")}


@dataclass(frozen=True)
class NuEvidence(Section):
    """What the fig5_nu verdict reads: nu with its interval, the fits on the two halves of the K range, and the
    rule's statistics under each analysis choice (:func:`nu_choices`)."""
    nu: float = kept()
    nu_lo: float = kept()
    nu_hi: float = kept()
    nu_low: float = kept()
    nu_high: float = kept()
    choices: dict = kept()


def nu_evidence(run: dict, cfg: RunConfig, Ns, law: ScalingLaw) -> NuEvidence:
    fit, sub = law.fit, law.sub
    return NuEvidence(nu=fit.nu, nu_lo=fit.nu_ci[0], nu_hi=fit.nu_ci[1], nu_low=sub["low"].nu,
                      nu_high=sub["high"].nu, choices=nu_choices(run, cfg, Ns, law))


@dataclass(frozen=True)
class FiniteIkEvidence(Section):
    """What the fig5_finite verdict reads: per K, whether I_K(inf) converged for every seed, and whether every
    seed's I_K(t) had stopped growing (tail exponent below `verdicts.STALL_EXPONENT`)."""
    converged: list = kept()
    stalled: list = kept()
    n_conv: int = kept()
    n_k: int = kept()
    choices: dict = kept()  # {analysis choice: finite-I_K rule statistics}: convergence tolerance, stall exponent


def finite_ik_evidence(est: IkEstimates, run: dict, cfg: RunConfig) -> FiniteIkEvidence:
    def stats(tab, stall):
        K = est.K
        return dict(converged=[bool(tab["converged"][K == k].all()) for k in est.Ks],
                    stalled=[bool((tab["tail_exponent"][K == k] < stall).all()) for k in est.Ks])
    main = stats(est.table, STALL_EXPONENT)
    loose = memorization_table(run, cfg, tol=0.10, last10_tol=0.10)
    why = "every seed at a K must pass, "
    choices = {f"I_K converged within 5%, stalled below exponent {STALL_EXPONENT:g} (the chapter's)": Choice(
                   main, why + "so one seed still growing keeps its K open"),
               "converged within 10%": Choice(stats(loose, STALL_EXPONENT), why + "with a looser convergence test"),
               "stalled below exponent 0.05": Choice(stats(est.table, 0.05), why + "with a stricter stall test"),
               "stalled below exponent 0.2": Choice(stats(est.table, 0.2), why + "with a looser stall test")}
    return FiniteIkEvidence(converged=main["converged"], stalled=main["stalled"], n_conv=sum(main["converged"]),
                            n_k=len(main["converged"]), choices=choices)
