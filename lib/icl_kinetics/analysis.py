"""From stored results to the numbers the chapters report (per-member tables, thresholds, times).

Functions here take the arrays of one run (``Result[run]``, a dict of numpy arrays) and its
:class:`~icl_kinetics.train.RunConfig`; they do no training and no plotting.
"""
from __future__ import annotations

import numpy as np

from . import fits
from .train import RunConfig


def members(cfg: RunConfig) -> dict:
    """Per-member K (inf for K = infinity), seed and attention weight decay as numpy arrays."""
    return {"K": np.array([np.inf if k is None else k for k in cfg.Ks], float),
            "seed": np.asarray(cfg.seeds), "wd_attn": np.asarray(cfg.wd_attn, float)}


def sweep_threshold(run: dict, cfg: RunConfig, n_boot: int = 500) -> fits.Threshold:
    """K* from the sigmoid fit of final ICL accuracy against log10 K (the authors' analysis)."""
    K = members(cfg)["K"]
    return fits.fit_threshold(K, run["final_icl_acc"], n_boot=n_boot)


def acquired(run: dict, threshold: float = 0.95) -> np.ndarray:
    """(E,) bool: the member's ICL accuracy exceeded `threshold` at some evaluation."""
    return np.nanmax(run["icl_acc"], axis=1) > threshold


SETTING_FIELDS = ("model", "D", "N", "width", "lr", "batch", "steps", "eval_every", "n_eval")


def settings_table(configs: dict, fields=SETTING_FIELDS) -> str:
    """A Markdown table comparing run configurations, e.g. {"paper": cfg_paper, "cpu (this book)": cfg}.

    Adds the number of runs (members), the distinct K values and attention weight decays.
    """
    def fmt_k(cfg):
        ks = sorted({np.inf if k is None else k for k in cfg.Ks})
        s = ", ".join("inf" if k == np.inf else f"{int(k)}" for k in ks)
        return s if len(s) < 60 else f"{len(ks)} values, {ks[0]:g} to {ks[-1]:g}"

    rows = list(fields) + ["runs", "K", "attention wd"]
    head = "| setting | " + " | ".join(configs) + " |\n|---|" + "---|" * len(configs) + "\n"
    body = ""
    for r in rows:
        vals = []
        for cfg in configs.values():
            if r == "runs":
                vals.append(str(cfg.E))
            elif r == "K":
                vals.append(fmt_k(cfg))
            elif r == "attention wd":
                vals.append(", ".join(f"{w:g}" for w in sorted(set(cfg.wd_attn))))
            else:
                vals.append(f"{getattr(cfg, r):g}" if isinstance(getattr(cfg, r), float) else str(getattr(cfg, r)))
        body += f"| {r} | " + " | ".join(vals) + " |\n"
    return head + body


# --- chapter 05 ---
# Memorisation scaling law (section 3.6, Fig 5, A.2, A.3): I_K(inf) from MLP-only runs, its power law in K,
# and the K* it predicts through eq 12 (t_ICL(N) = I_K*(inf)). Time is gradient-flow time t = lr x iterations.
import dataclasses as _dc  # noqa: E402


@_dc.dataclass
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
    from .theory import i_k
    t, c1 = np.asarray(t, float), np.asarray(c1, float)
    ok = np.isfinite(t) & np.isfinite(c1)
    t, c1 = t[ok], c1[ok]
    if len(t) < 2:
        return IKInfinity(np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, False, "too few samples")
    ik = i_k(t, c1)
    T, observed = float(t[-1]), float(ik[-1])
    before = float(np.interp(t[0] + 0.9 * (T - t[0]), t, ik))
    last10 = (observed - before) / observed if observed > 0 else np.nan
    win = (t >= fit_from * T) & (t > 0) & (c1 > 0)
    p, tail = np.nan, np.inf
    c1_end = float(c1[-1])
    if win.sum() >= min_points:
        slope, icpt = np.polyfit(np.log(t[win]), np.log(c1[win]), 1)
        p = -float(slope)
        c1_end = float(np.exp(icpt + slope * np.log(T)))  # fitted c1(T): robust to SGD noise in the last sample
        if p > 1:
            tail = 2.0 * c1_end * T / (p - 1.0)
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


@_dc.dataclass
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
                          f"only {len(used)} K value(s) with converged I_K(inf): no power-law fit")
    sel = np.isin(K, used)
    x, y = np.log10(K[sel]), np.log10(val[sel])
    lf = fits.linear_fit(x, y)
    groups = [np.flatnonzero(K[sel] == k) for k in used]
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, size=len(g)) for g in groups])
        s, b = np.polyfit(x[idx], y[idx], 1)
        boot.append((s, b))
    boot = np.asarray(boot)
    nu_ci = tuple(np.percentile(boot[:, 0], [2.5, 97.5]))
    A_ci = tuple(10 ** np.percentile(boot[:, 1], [2.5, 97.5]))
    return ScalingFit(float(lf.slope), float(10 ** lf.intercept), nu_ci, A_ci, tuple(lf.slope_ci),
                      float(lf.r2), used, excluded, boot, True)


def kstar_from_scaling(N, A: float, nu: float, beta0: float = 0.0):
    """K* solving I_K*(inf) = t_ICL(N) (eq 12) with I_K(inf) = A K^nu and t_ICL = N sqrt(2 pi) e^-beta0 (eq 11):
    K* = (t_ICL / A)^(1/nu), i.e. eq 13 with the prefactor (sqrt(2 pi)/A)^(1/nu) fixed by the fit."""
    from .theory import k_star_prediction
    return k_star_prediction(N, beta0, nu=nu, prefactor=(np.sqrt(2 * np.pi) / A) ** (1.0 / nu))


def kstar_table(fit: ScalingFit, Ns, beta0: float = 0.0) -> list:
    """Predicted K* per N with a 95% interval propagated from the seed bootstrap of (nu, A); each row says
    whether K* lies inside the K range the fit used (else it is an extrapolation of the power law)."""
    from .theory import t_icl_eq11
    rows = []
    for N in Ns:
        t_icl = float(t_icl_eq11(N, beta0))
        if not fit.ok:
            rows.append(dict(N=int(N), t_icl=t_icl, k_star=np.nan, ci=[np.nan, np.nan], within_fitted_range=False))
            continue
        ks = float(kstar_from_scaling(N, fit.A, fit.nu, beta0))
        kb = kstar_from_scaling(N, 10 ** fit.boot[:, 1], fit.boot[:, 0], beta0)
        kb = kb[np.isfinite(kb)]
        ci = [float(v) for v in np.percentile(kb, [2.5, 97.5])] if len(kb) else [np.nan, np.nan]
        rows.append(dict(N=int(N), t_icl=t_icl, k_star=ks, ci=ci,
                         within_fitted_range=bool(fit.Ks_used.min() <= ks <= fit.Ks_used.max())))
    return rows


# --- chapters 02 and 06 ---
# Minimal model (Fig 3) and transience (section 3.7, appendix A.4-A.5, Fig 2e, 6d, A.6). Time in the ODEs is
# gradient-flow time t = lr x iterations; curves are (E, T) arrays sampled at run["steps"].
TRANSIENCE_CLASSES = ("never", "persistent", "transient")
ACQUIRE_ACC, FADE_ACC = 0.99, 0.90  # the paper's Fig A.6 definition


def safe_sweep_threshold(run: dict, cfg: RunConfig, n_boot: int = 500):
    """:func:`sweep_threshold` that never raises: returns (Threshold, note).

    On degenerate data (e.g. every run at chance, too few K values) the sigmoid fit can fail; the Threshold then
    holds NaNs and ``note`` says why. A fit whose K* sits on the edge of its allowed range (the sampled K range
    +- 0.5 decades) is returned with a note, because such a K* only bounds the threshold.
    """
    K = members(cfg)["K"]
    acc = np.asarray(run["final_icl_acc"], float)
    ok = np.isfinite(K) & np.isfinite(acc)
    nan = fits.Threshold(np.nan, (np.nan, np.nan), np.full(4, np.nan), 0)
    if len(np.unique(K[ok])) < 3:
        return nan, f"only {len(np.unique(K[ok]))} distinct finite K: no sigmoid fit"
    if np.ptp(acc[ok]) < 0.05:
        return nan, f"final ICL accuracy is flat across K ({acc[ok].min():.2f} to {acc[ok].max():.2f}): no transition"
    try:
        thr = fits.fit_threshold(K[ok], acc[ok], n_boot=n_boot)
    except (RuntimeError, ValueError) as e:
        return nan, f"sigmoid fit failed ({type(e).__name__}: {e})"
    x = np.log10(K[ok])
    lo, hi = x.min() - 0.5, x.max() + 0.5
    b = thr.params[1]
    if min(b - lo, hi - b) < 1e-3:
        return thr, "K* lies on the edge of the fitted range: it only bounds the threshold"
    return thr, "ok"


def first_index(mask: np.ndarray) -> np.ndarray:
    """Per row of a boolean (E, T) array, the first True column; -1 when the row has none."""
    mask = np.asarray(mask, bool)
    return np.where(mask.any(1), mask.argmax(1), -1)


def acquisition_index(icl_acc, acquire: float = ACQUIRE_ACC) -> np.ndarray:
    """(E,) index of the first evaluation with ICL accuracy >= `acquire`; -1 if never (NaNs count as not)."""
    return first_index(np.nan_to_num(np.asarray(icl_acc, float), nan=-np.inf) >= acquire)


def transience_index(icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) index of the first evaluation *after* the first one with ICL accuracy >= `acquire` at which ICL
    accuracy has fallen below `fade` (the paper's transience time, Fig A.6); -1 if never acquired or never
    fades. NaN evaluations (a member stopped) never count as fallen."""
    acc = np.asarray(icl_acc, float)
    acq = acquisition_index(acc, acquire)
    T = acc.shape[1]
    after = np.arange(T)[None, :] > acq[:, None]
    fell = after & (np.nan_to_num(acc, nan=np.inf) < fade) & (acq[:, None] >= 0)
    return first_index(fell)


def transience_time(steps, icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) transience time in iterations (see :func:`transience_index`); NaN where there is none."""
    idx = transience_index(icl_acc, acquire, fade)
    steps = np.asarray(steps, float)
    return np.where(idx >= 0, steps[np.clip(idx, 0, None)], np.nan)


def classify_transience(icl_acc, acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E,) labels from :data:`TRANSIENCE_CLASSES`: ``never`` (never reached `acquire`; Fig A.6 red plus),
    ``persistent`` (acquired, no fall below `fade` before the end; yellow cross), ``transient`` (blue dot)."""
    acq = acquisition_index(icl_acc, acquire)
    tr = transience_index(icl_acc, acquire, fade)
    return np.where(acq < 0, "never", np.where(tr < 0, "persistent", "transient"))


def branch_mask(icl_acc, branch: str = "icl", acquire: float = ACQUIRE_ACC, fade: float = FADE_ACC) -> np.ndarray:
    """(E, T) bool selecting evaluations of a phase of training.

    ``branch="icl"``: from the first evaluation with ICL accuracy >= `acquire` up to (excluding) the transience
    index -- ICL is in place, the branch where eq 16's first relation (L_ICL << 1) applies.
    ``branch="faded"``: from the transience index on (eq 16's second relation, L_IWL << 1).
    Members that never acquire ICL select nothing; NaN evaluations are never selected.
    """
    acc = np.asarray(icl_acc, float)
    E, T = acc.shape
    acq = acquisition_index(acc, acquire)
    tr = transience_index(acc, acquire, fade)
    j = np.arange(T)[None, :]
    end = np.where(tr >= 0, tr, T)[:, None]
    if branch == "icl":
        m = (acq[:, None] >= 0) & (j >= acq[:, None]) & (j < end)
    elif branch == "faded":
        m = (tr[:, None] >= 0) & (j >= tr[:, None])
    else:
        raise ValueError(f"branch={branch!r}: use 'icl' or 'faded'")
    return m & np.isfinite(acc)


def loss_relation_fit(icl_loss, iwl_loss, mask, max_loss: float = 0.1, n_boot: int = 2000, seed: int = 0,
                      swap: bool = False) -> dict:
    """Fit eq 16 on the selected evaluations: L_IWL = slope * log(L_ICL) + intercept (prediction: slope -1/2,
    intercept 0), using the points of `mask` (E, T) with L_ICL < `max_loss` (the L_ICL << 1 condition).
    ``swap=True`` fits the second relation instead, L_ICL = slope * log(L_IWL) + intercept with L_IWL < max_loss.

    Points of one member are serially correlated, so the 95% interval ``slope_ci`` is a cluster bootstrap that
    resamples whole members; ``slope_ci_ols`` is the naive least-squares interval treating points as
    independent. With fewer than 2 members or 3 points the result holds NaNs and ``note`` says why.
    Returns dict(slope, intercept, slope_ci, slope_ci_ols, intercept_ci, n_points, n_members, note, x, y, member).
    """
    a, b = (np.asarray(iwl_loss, float), np.asarray(icl_loss, float)) if swap else \
        (np.asarray(icl_loss, float), np.asarray(iwl_loss, float))
    sel = np.asarray(mask, bool) & np.isfinite(a) & np.isfinite(b) & (a > 0) & (a < max_loss)
    member = np.nonzero(sel)[0]
    x, y = np.log(a[sel]), b[sel]
    out = dict(slope=np.nan, intercept=np.nan, slope_ci=(np.nan, np.nan), slope_ci_ols=(np.nan, np.nan),
               intercept_ci=(np.nan, np.nan), n_points=int(sel.sum()), n_members=int(len(np.unique(member))),
               note="ok", x=x, y=y, member=member)
    if out["n_points"] < 3 or np.ptp(x) == 0:
        out["note"] = f"only {out['n_points']} usable points: no fit"
        return out
    lf = fits.linear_fit(x, y)
    out.update(slope=float(lf.slope), intercept=float(lf.intercept), slope_ci_ols=tuple(lf.slope_ci))
    ids = np.unique(member)
    if len(ids) < 2:
        out["note"] = "a single member: only the naive least-squares interval"
        return out
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(member == i) for i in ids]
    boot_s, boot_b = [], []
    for _ in range(n_boot):
        idx = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        if np.ptp(x[idx]) == 0:
            continue
        s, c = np.polyfit(x[idx], y[idx], 1)
        boot_s.append(s)
        boot_b.append(c)
    if boot_s:
        out["slope_ci"] = tuple(np.percentile(boot_s, [2.5, 97.5]))
        out["intercept_ci"] = tuple(np.percentile(boot_b, [2.5, 97.5]))
    return out


def crossing_time(steps, curves, level: float) -> np.ndarray:
    """(E,) first time each row of `curves` (E, T) reaches `level`, linearly interpolated between the two
    evaluations around the crossing; NaN if never."""
    steps = np.asarray(steps, float)
    curves = np.atleast_2d(np.asarray(curves, float))
    idx = first_index(np.nan_to_num(curves, nan=-np.inf) >= level)
    out = np.full(len(curves), np.nan)
    for e, j in enumerate(idx):
        if j == 0:
            out[e] = steps[0]
        elif j > 0:
            y0, y1 = curves[e, j - 1], curves[e, j]
            out[e] = steps[j - 1] + (level - y0) / (y1 - y0) * (steps[j] - steps[j - 1])
    return out


def n_context(cfg: RunConfig) -> int:
    """The theory's N (number of context items, eqs 5-8): the config's N counts the target, so N - 1."""
    return cfg.N - 1


def member_icl_ode(run: dict, cfg: RunConfig, e: int, beta_threshold: float | None = None):
    """Eqs 7-8 for member `e` of a minimal-model run, integrated with the c1(t), c2(t) measured on its own MLP
    (probes ``c1``, ``c2``; linear interpolation between evaluations), from w0 = 0, beta0 = cfg.beta0, with
    N = :func:`n_context`. Returns (theory.ODEResult, steps): ``steps = ode.t / lr`` converts the ODE's
    gradient-flow time back to iterations."""
    from .theory import integrate_icl_ode
    t = cfg.lr * np.asarray(run["steps"], float)
    c1, c2 = np.asarray(run["c1"][e], float), np.asarray(run["c2"][e], float)
    ok = np.isfinite(c1) & np.isfinite(c2)
    ode = integrate_icl_ode(n_context(cfg), beta0=cfg.beta0, w0=0.0, c1=(t[ok], c1[ok]), c2=(t[ok], c2[ok]),
                            t_max=float(t[ok][-1]), beta_threshold=beta_threshold)
    return ode, ode.t / cfg.lr


def lambert_w_prediction(run: dict, cfg: RunConfig) -> np.ndarray:
    """(E, T) w_tr(t) = W(c3(t) / lambda_w) (eqs 15, 45) per member, with lambda_w = the member's attention weight
    decay: plain SGD with weight decay, p <- p - lr (grad + wd p), is gradient descent on
    L + wd |p|^2 / 2 in time t = lr x iterations, so lambda_w = wd. Members without weight decay get NaN."""
    from .theory import w_transient
    wd = members(cfg)["wd_attn"][:, None]
    c3 = np.asarray(run["c3"], float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(wd > 0, w_transient(c3, np.where(wd > 0, wd, 1.0)), np.nan)


def member_transience_ode(run: dict, cfg: RunConfig, e: int, start: int):
    """Eq 44, dw/dt = c3(t) e^-w - lambda_w w, for member `e` from evaluation index `start` (e.g. its ICL
    acquisition) with the measured w there as initial value and its measured c3(t) (lambda_w = its attention
    weight decay). Returns (steps, w) on the run's evaluation grid from `start` on."""
    from .theory import integrate_transience
    steps = np.asarray(run["steps"], float)
    t = cfg.lr * (steps[start:] - steps[start])
    c3 = np.asarray(run["c3"][e, start:], float)
    ok = np.isfinite(c3)
    lam = float(members(cfg)["wd_attn"][e])
    tt, w = integrate_transience(float(run["w"][e, start]), float(t[ok][-1]), c3=(t[ok], c3[ok]), lambda_w=lam,
                                 t_eval=t[ok])
    return steps[start] + tt / cfg.lr, w


class Sentence:
    """A string that displays without quotes: text/plain for {glue:text} (also from another page, with
    `page.ipynb::name:s`) and text/markdown for {glue:md} on its own page."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return self.text

    def _repr_markdown_(self):
        return self.text


def glue(name: str, value, display: bool = False):
    """myst_nb.glue for a number or a sentence.

    Numpy scalars become Python floats/ints so {glue:text}`name:.2f` formats; strings become a
    :class:`Sentence`, pasted with {glue:md}`name` on their page or {glue:text}`page.ipynb::name:s` elsewhere
    (MyST-NB's {glue:md} role cannot reach another page).
    """
    from myst_nb import glue as _glue

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        value = Sentence(value)
    _glue(name, value, display=display)
    return value


# --- chapters 07, 08, 10 ---
# Empirical validations (section 4): K* against N (Fig 6a, A.7), t_ICL against N (Fig 6b, A.5) and the long tail
# of t_ICL (Fig A.4). Times are training iterations. Runs that never acquired ICL within their step budget are
# right-censored: they enter as t_ICL = +inf (never dropped), so medians and order statistics stay valid.
from types import SimpleNamespace as _NS  # noqa: E402

from scipy import stats as _stats  # noqa: E402


def censored_t_icl(run: dict) -> np.ndarray:
    """(E,) t_ICL in iterations (first evaluation with ICL accuracy > 0.95), +inf for members that never got there
    within the step budget (``run["t_icl"]`` is NaN for them): right-censored, not missing."""
    t = np.asarray(run["t_icl"], float)
    return np.where(np.isfinite(t), t, np.inf)


def _order_quantile(x, q):
    """Quantiles by order statistics (no interpolation), so +inf values never turn into NaN."""
    return np.quantile(np.asarray(x, float), q, method="inverted_cdf")


@_dc.dataclass
class CensoredMedian:
    """Median of right-censored times (censored = +inf) with a percentile bootstrap interval.

    ``median`` is +inf when half or more of the runs are censored (the median is then only bounded below by the
    step budget); ``ci`` may have an infinite upper end for the same reason. ``boot``: the bootstrap medians.
    """
    median: float
    ci: tuple
    n: int
    n_censored: int
    boot: np.ndarray


def censored_median(t, n_boot: int = 2000, seed: int = 0, conf: float = 0.95) -> CensoredMedian:
    """Median of times `t` where NaN or +inf mean "never happened within the budget" (sorted last).

    The interval resamples runs with replacement (percentile bootstrap, order-statistic quantiles so infinite
    bootstrap medians are handled). An empty sample gives NaNs.
    """
    t = np.asarray(t, float)
    t = np.where(np.isnan(t), np.inf, t)
    n, n_cens = len(t), int(np.isinf(t).sum())
    if n == 0:
        return CensoredMedian(np.nan, (np.nan, np.nan), 0, 0, np.empty(0))
    rng = np.random.default_rng(seed)
    boot = np.median(t[rng.integers(0, n, (n_boot, n))], axis=1) if n_boot else np.empty(0)
    q = (1 - conf) / 2
    ci = tuple(float(v) for v in _order_quantile(boot, [q, 1 - q])) if n_boot else (np.nan, np.nan)
    return CensoredMedian(float(np.median(t)), ci, n, n_cens, boot)


@_dc.dataclass
class MedianVsN:
    """Median t_ICL against N: OLS line, log-log slope and a fit through the origin, with bootstrap intervals.

    ``line``: fits.LineFit of median = slope N + intercept (its t intervals treat the medians as exact points
    scattered about a line). ``*_boot`` intervals resample runs within each N and refit (they carry the seed noise
    of each median). ``loglog``: fits.LineFit of log10 median against log10 N (slope 1 = linear scaling).
    ``prop``: least-squares constant c of median = c N (through the origin). ``medians``: per-N
    :class:`CensoredMedian` with their own bootstrap intervals. ``n_boot_ok``: bootstrap replicates
    whose medians were all finite. ``ok`` False (and NaNs) when fewer than 3 N have a finite median.
    """
    N: np.ndarray
    medians: list  # CensoredMedian per N
    line: object
    loglog: object
    prop: float
    slope_ci_boot: tuple
    intercept_ci_boot: tuple
    loglog_ci_boot: tuple
    prop_ci_boot: tuple
    n_boot_ok: int
    ok: bool
    message: str = ""


def median_vs_n_fit(times: dict, n_boot: int = 2000, seed: int = 0, paired: bool = False,
                    min_n: int = 3) -> MedianVsN:
    """Fit median t_ICL against N from ``times = {N: (E,) t_ICL, censored = inf or NaN}``.

    ``paired=True``: run i at every N shares its seed (same initialisation), so the bootstrap draws the same run
    indices at every N (all N need the same number of runs); otherwise runs are resampled independently per N.
    ``min_n``: fewest N with a finite median needed for a fit (with 2, the OLS intervals are degenerate: use the
    bootstrap ones).

    N with an infinite median (half or more of the runs censored) are left out of the fits (listed in
    ``message``); the bootstrap skips replicates in which a used N's median is infinite.
    """
    Ns = np.array(sorted(times), float)
    meds = [censored_median(times[n], n_boot=n_boot, seed=seed) for n in sorted(times)]
    m = np.array([c.median for c in meds])
    use = np.isfinite(m) & (m > 0)
    nan2 = (np.nan, np.nan)
    dropped = [int(n) for n in Ns[~use]]
    msg = f"N = {dropped} left out: median not finite (half or more runs censored)" if dropped else ""
    if use.sum() < max(min_n, 2):
        return MedianVsN(Ns, meds, None, None, np.nan, nan2, nan2, nan2, nan2, 0, False,
                         (msg + "; " if msg else "") + f"only {use.sum()} N with a finite median: no fit")
    x, y = Ns[use], m[use]
    line, loglog = fits.linear_fit(x, y), fits.power_law_fit(x, y)
    prop = float((x * y).sum() / (x * x).sum())
    rng = np.random.default_rng(seed)
    samples = [np.where(np.isnan(np.asarray(times[n], float)), np.inf, np.asarray(times[n], float))
               for n in np.array(sorted(times))[use]]
    if paired and len({len(s) for s in samples}) != 1:
        raise ValueError("paired=True needs the same number of runs at every N")
    boot = []
    for _ in range(n_boot):
        if paired:
            ii = rng.integers(0, len(samples[0]), len(samples[0]))
            mb = np.array([np.median(s[ii]) for s in samples])
        else:
            mb = np.array([np.median(s[rng.integers(0, len(s), len(s))]) for s in samples])
        if not np.all(np.isfinite(mb)) or np.any(mb <= 0):
            continue
        s, b = np.polyfit(x, mb, 1)
        boot.append((s, b, np.polyfit(np.log10(x), np.log10(mb), 1)[0], (x * mb).sum() / (x * x).sum()))
    boot = np.asarray(boot).reshape(-1, 4)
    ci = [tuple(float(v) for v in np.percentile(boot[:, j], [2.5, 97.5])) if len(boot) else nan2 for j in range(4)]
    return MedianVsN(Ns, meds, line, loglog, prop, ci[0], ci[1], ci[2], ci[3], len(boot), True, msg)


@_dc.dataclass
class KStarVsN:
    """K* per N and the power law K* = C N^exponent fitted in log10-log10.

    ``k_star``/``notes``: the sigmoid fit of :func:`safe_sweep_threshold` per N (NaN where it failed);
    ``used``: N entering the power law (note "ok", i.e. a fitted K* inside the sampled K range).
    ``ci`` (nN, 2): per-N 95% interval from the joint bootstrap; ``exponent_ci_boot``: 95% interval of the
    exponent from the same bootstrap (every replicate resamples seeds within each K at every N, refits every K*,
    refits the line), so the K* uncertainty is propagated. ``line``: fits.LineFit of log10 K* vs log10 N, whose
    ``slope_ci`` treats the K* as exact. ``boot``: (n_boot_ok, nN) bootstrap K*.
    """
    N: np.ndarray
    k_star: np.ndarray
    ci: np.ndarray
    notes: list
    used: np.ndarray
    line: object
    exponent: float
    exponent_ci_boot: tuple
    boot: np.ndarray
    n_boot_ok: int
    ok: bool
    message: str = ""


def _kstar_point(K, acc):
    """K* and note of :func:`safe_sweep_threshold` for plain arrays (no bootstrap of its own)."""
    K = np.asarray(K, float)
    cfg = _NS(Ks=tuple(K), seeds=tuple(range(len(K))), wd_attn=(0.0,) * len(K))  # what members() reads
    thr, note = safe_sweep_threshold({"final_icl_acc": np.asarray(acc, float)}, cfg, n_boot=0)
    return thr, note


def kstar_vs_n_fit(sweeps: dict, n_boot: int = 300, seed: int = 0) -> KStarVsN:
    """K*(N) and the exponent of K* ~ N^exponent from ``sweeps = {N: (K (E,), final ICL accuracy (E,))}``.

    Each K* is the authors' sigmoid fit (:func:`safe_sweep_threshold`). The exponent is an OLS line of log10 K*
    on log10 N over the N whose fit is "ok". Its bootstrap interval resamples seeds within each (N, K), refits
    the sigmoid at every N and the line; replicates in which a used N's fit fails are skipped (counted in
    ``n_boot_ok``). Fewer than 2 usable N give ``ok=False`` and NaNs.
    """
    Ns = np.array(sorted(sweeps), float)
    data = [(np.asarray(sweeps[n][0], float), np.asarray(sweeps[n][1], float)) for n in sorted(sweeps)]
    pts = [_kstar_point(K, a) for K, a in data]
    ks = np.array([t.k_star for t, _ in pts], float)
    notes = [note for _, note in pts]
    used = np.array([note == "ok" and np.isfinite(k) for k, note in zip(ks, notes)])
    rng = np.random.default_rng(seed)
    groups = [[np.flatnonzero(K == k) for k in np.unique(K)] for K, _ in data]
    boot = np.full((n_boot, len(Ns)), np.nan)
    for b in range(n_boot):
        for i, ((K, a), g) in enumerate(zip(data, groups)):
            if not used[i]:
                continue
            idx = np.concatenate([rng.choice(gg, size=len(gg)) for gg in g])
            order = np.concatenate(g)  # resampled accuracies placed on the same K positions
            a_b = np.empty_like(a)
            a_b[order] = a[idx]
            boot[b, i] = _kstar_point(K, a_b)[0].k_star
    ok_rows = np.all(np.isfinite(boot[:, used]), axis=1) if used.any() else np.zeros(n_boot, bool)
    boot = boot[ok_rows]
    ci = np.full((len(Ns), 2), np.nan)
    for i in np.flatnonzero(used):
        if len(boot):
            ci[i] = np.percentile(boot[:, i], [2.5, 97.5])
    nan2 = (np.nan, np.nan)
    if used.sum() < 2:
        return KStarVsN(Ns, ks, ci, notes, used, None, np.nan, nan2, boot, len(boot), False,
                        f"only {used.sum()} N with a usable K*: no power-law fit")
    x = np.log10(Ns[used])
    line = fits.power_law_fit(Ns[used], ks[used])
    slopes = np.array([np.polyfit(x, np.log10(r[used]), 1)[0] for r in boot])
    eci = tuple(float(v) for v in np.percentile(slopes, [2.5, 97.5])) if len(slopes) else nan2
    msg = "" if used.all() else f"N = {[int(n) for n in Ns[~used]]} left out of the power law"
    return KStarVsN(Ns, ks, ci, notes, used, line, float(line.slope), eci, boot, len(boot), True, msg)


def skewness_ci(x, n_boot: int = 2000, seed: int = 0, conf: float = 0.95):
    """Sample skewness (adjusted Fisher-Pearson, scipy ``skew(bias=False)``) of the finite values of `x` with a
    percentile bootstrap interval. Returns (skew, (low, high), n_finite); NaNs when n < 3 or all values equal."""
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    if len(x) < 3 or np.ptp(x) == 0:
        return np.nan, (np.nan, np.nan), len(x)

    def sk(s):
        return float(_stats.skew(s, bias=False)) if np.ptp(s) > 0 else np.nan

    est, ci = fits.bootstrap(sk, x, n_boot=n_boot, seed=seed, conf=conf)
    return est, ci, len(x)


def lognormal_skewness(sd):
    """Skewness of a log-normal variable whose log has standard deviation `sd`: (e^s^2 + 2) sqrt(e^s^2 - 1)."""
    v = np.exp(np.asarray(sd, float) ** 2)
    return (v + 2) * np.sqrt(v - 1)


def log_normality(x, conf: float = 0.95) -> dict:
    """Is log x normal? For the finite, positive values of `x`: mean ``mu`` and sd ``sd`` of ln x, the chi-square
    interval of the sd (exact if ln x is normal), the Shapiro-Wilk p-value of ln x (n >= 3), the skewness of ln x,
    and ``skew_pred``: the skewness of x that a log-normal with this sd would have. NaNs with fewer than 3 values.

    If t_ICL ~ e^-beta0 (eq 11) and beta0 is normal, ln t_ICL is normal with sd(ln t_ICL) = sd(beta0).
    """
    x = np.asarray(x, float)
    y = np.log(x[np.isfinite(x) & (x > 0)])
    n = len(y)
    out = dict(n=n, mu=np.nan, sd=np.nan, sd_ci=(np.nan, np.nan), shapiro_p=np.nan, skew_log=np.nan,
               skew_pred=np.nan)
    if n < 3 or np.ptp(y) == 0:
        return out
    sd = float(np.std(y, ddof=1))
    a = (1 - conf) / 2
    lo, hi = (np.sqrt((n - 1) * sd**2 / _stats.chi2.ppf([1 - a, a], n - 1)))
    out.update(mu=float(np.mean(y)), sd=sd, sd_ci=(float(lo), float(hi)),
               shapiro_p=float(_stats.shapiro(y).pvalue), skew_log=float(_stats.skew(y, bias=False)),
               skew_pred=float(lognormal_skewness(sd)))
    return out


def pooled_relative_times(times: dict) -> tuple:
    """Pool t_ICL over N after dividing each N's times by its (censored) median. Returns (ratios of the
    acquired runs, number of censored runs left out). N whose median is not finite contribute nothing."""
    out, n_cens = [], 0
    for n in sorted(times):
        t = np.asarray(times[n], float)
        t = np.where(np.isnan(t), np.inf, t)
        med = float(np.median(t))
        n_cens += int(np.isinf(t).sum())
        if np.isfinite(med) and med > 0:
            out.append(t[np.isfinite(t)] / med)
    return (np.concatenate(out) if out else np.empty(0)), n_cens


def ticl_times(result) -> dict:
    """{N: censored t_ICL (E,)} for a ``ticl_vs_n``-like result (runs named by N, e.g. ``N20``)."""
    cfgs = result.configs()
    return {cfgs[r].N: censored_t_icl(result[r]) for r in cfgs}


def ticl_seeds(result) -> dict:
    """{N: (E,) seeds} for a ``ticl_vs_n``-like result, to pair runs across N."""
    cfgs = result.configs()
    return {cfgs[r].N: np.asarray(cfgs[r].seeds) for r in cfgs}


def seed_consistency(times: dict, seeds: dict, n_boot: int = 2000, seed: int = 0) -> dict:
    """Does a seed (an initialisation) keep its place in the t_ICL distribution across N?

    Uses the seeds present at every N with a finite t_ICL. ``L`` (n_seeds, nN): ln(t_ICL / median at that N).
    ``icc``: one-way intraclass correlation ICC(1) = (MSB - MSW) / (MSB + (k - 1) MSW), the share of the variance
    of L that is between seeds (1: t_ICL / N is fixed by the initialisation; 0: no seed effect), with a 95%
    bootstrap over seeds ``icc_ci``; ``r_mean``: mean Pearson correlation of L between pairs of N; ``seed_effect``:
    per-seed mean of L over N (if t_ICL = c N e^-beta0, an estimate of -beta0 + const); ``sd_seed_effect`` its sd.
    NaNs when fewer than 3 common seeds or 2 N.
    """
    Ns = sorted(times)
    common = set.intersection(*[set(np.asarray(seeds[n]).tolist()) for n in Ns]) if Ns else set()
    rows = []
    for sd in sorted(common):
        r = []
        for n in Ns:
            t = np.asarray(times[n], float)
            t = np.where(np.isnan(t), np.inf, t)
            med = np.median(t)
            v = t[np.flatnonzero(np.asarray(seeds[n]) == sd)[0]]
            r.append(np.log(v / med) if np.isfinite(v) and np.isfinite(med) and med > 0 else np.nan)
        rows.append(r)
    L = np.array(rows, float).reshape(-1, len(Ns))
    L = L[np.all(np.isfinite(L), axis=1)]
    out = dict(N=np.array(Ns), L=L, n_seeds=len(L), icc=np.nan, icc_ci=(np.nan, np.nan), r_mean=np.nan,
               seed_effect=np.full(len(L), np.nan), sd_seed_effect=np.nan)
    n, k = L.shape
    if n < 3 or k < 2:
        return out

    def icc(M):
        m = M.mean(1)
        msb = k * np.var(m, ddof=1)
        msw = ((M - m[:, None]) ** 2).sum() / (len(M) * (k - 1))
        den = msb + (k - 1) * msw
        return (msb - msw) / den if den > 0 else np.nan

    rng = np.random.default_rng(seed)
    boot = np.array([icc(L[rng.integers(0, n, n)]) for _ in range(n_boot)])
    boot = boot[np.isfinite(boot)]
    cc = np.corrcoef(L.T)
    out.update(icc=float(icc(L)),
               icc_ci=tuple(float(v) for v in np.percentile(boot, [2.5, 97.5])) if len(boot) else (np.nan, np.nan),
               r_mean=float(cc[np.triu_indices(k, 1)].mean()), seed_effect=L.mean(1),
               sd_seed_effect=float(np.std(L.mean(1), ddof=1)))
    return out


# --- chapters 09, 11, 12 ---
# Empirical validations (section 4): bimodal outcomes near K* (Fig 6c), the ICL/IWL loss relation of eq 16
# (Fig 6d) and balanced contexts (Fig 6e, A.8). Times are training iterations unless a name says otherwise.
BC_UNIFORM = 5.0 / 9.0  # Sarle's bimodality coefficient of a uniform distribution: > 5/9 suggests bimodality


def proportion_ci(k, n, conf: float = 0.95) -> tuple:
    """(k/n, low, high) with the Wilson score interval; NaNs when n = 0."""
    k, n = int(k), int(n)
    if n == 0:
        return np.nan, np.nan, np.nan
    lo, hi = fits.wilson_interval(k, n, conf)
    return k / n, float(lo), float(hi)


def bimodality_stats(final_acc, mid=(0.6, 0.9), n_boot: int = 2000, seed: int = 0, conf: float = 0.95) -> dict:
    """Bimodality of final ICL accuracy across seeds (Fig 6c).

    ``bc``: Sarle's bimodality coefficient (> 5/9 suggests bimodality; a two-point distribution gives ~1) with a
    percentile bootstrap interval ``bc_ci`` over seeds (resamples in which every value is equal are skipped).
    ``frac_mid``: fraction of runs with an intermediate final accuracy in (mid[0], mid[1]), Wilson interval
    ``frac_mid_ci``; ``n_low`` / ``n_mid`` / ``n_high``: runs at or below mid[0], inside, at or above mid[1].
    NaN values are ignored. Fewer than 4 values (or all equal) give NaN for ``bc``.
    """
    x = np.asarray(final_acc, float)
    x = x[np.isfinite(x)]
    n = len(x)
    n_mid = int(((x > mid[0]) & (x < mid[1])).sum())
    p, lo, hi = proportion_ci(n_mid, n, conf)
    out = dict(n=n, n_low=int((x <= mid[0]).sum()), n_mid=n_mid, n_high=int((x >= mid[1]).sum()),
               frac_mid=p, frac_mid_ci=(lo, hi), bc=np.nan, bc_ci=(np.nan, np.nan))
    if n < 4 or np.ptp(x) == 0:
        return out

    def bc(s):
        return fits.bimodality_coefficient(s) if np.ptp(s) > 0 else np.nan

    est, ci = fits.bootstrap(bc, x, n_boot=n_boot, seed=seed, conf=conf)
    out.update(bc=est, bc_ci=ci)
    return out


def compare_acquisition_times(t_k, t_inf, n_boot: int = 2000, seed: int = 0) -> dict:
    """t_ICL of the runs that acquired ICL at finite K (``t_k``) against the K = infinity distribution (``t_inf``).

    NaN or inf mark runs that never acquired; they are left out of the finite-K sample (they are the "never"
    bar of Fig 6c) and counted as censored (+inf) in the K = infinity median. Returns medians with bootstrap
    intervals (:func:`censored_median`), the ratio of medians with a percentile bootstrap interval (resampling
    both samples; replicates with an infinite median skipped), the two-sided Mann-Whitney U and two-sample
    Kolmogorov-Smirnov p-values on the finite times, and ``frac_beyond_inf_q90``: the fraction of finite-K
    acquirers slower than the 90th percentile of the K = infinity times (late acquirers). NaNs when a sample
    has no finite time.
    """
    a = np.asarray(t_k, float)
    a = a[np.isfinite(a)]
    b = np.where(np.isnan(np.asarray(t_inf, float)), np.inf, np.asarray(t_inf, float))
    bf = b[np.isfinite(b)]
    out = dict(n_k=len(a), n_inf=len(b), n_inf_censored=int(np.isinf(b).sum()), median_k=np.nan,
               median_k_ci=(np.nan, np.nan), median_inf=np.nan, median_inf_ci=(np.nan, np.nan), ratio=np.nan,
               ratio_ci=(np.nan, np.nan), mannwhitney_p=np.nan, ks_p=np.nan, frac_beyond_inf_q90=np.nan)
    if len(a) == 0 or len(bf) == 0:
        return out
    ma, mb = censored_median(a, n_boot, seed), censored_median(b, n_boot, seed + 1)
    out.update(median_k=ma.median, median_k_ci=ma.ci, median_inf=mb.median, median_inf_ci=mb.ci)
    if np.isfinite(mb.median) and mb.median > 0:
        out["ratio"] = ma.median / mb.median
        rng = np.random.default_rng(seed + 2)
        r = []
        for _ in range(n_boot):
            x = np.median(a[rng.integers(0, len(a), len(a))])
            y = np.median(b[rng.integers(0, len(b), len(b))])
            if np.isfinite(y) and y > 0:
                r.append(x / y)
        if r:
            out["ratio_ci"] = tuple(float(v) for v in np.percentile(r, [2.5, 97.5]))
    if len(a) >= 2 and len(bf) >= 2:
        out["mannwhitney_p"] = float(_stats.mannwhitneyu(a, bf, alternative="two-sided").pvalue)
        out["ks_p"] = float(_stats.ks_2samp(a, bf).pvalue)
    out["frac_beyond_inf_q90"] = float(np.mean(a > float(_order_quantile(b, 0.9))))  # q90 may be +inf (censored)
    return out


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


def eq16_fits(run: dict, max_loss: float = 0.1, n_boot: int = 2000, seed: int = 0) -> dict:
    """Both relations of eq 16 fitted on the runs that show transience (chapter 6's selection: the paper uses
    transient runs; if there are none, every run that reached 99% ICL accuracy).

    ``icl``: :func:`loss_relation_fit` of L_IWL against log L_ICL on the ICL branch (after acquisition, before
    fading; L_ICL < max_loss). ``faded``: L_ICL against log L_IWL after ICL faded (L_IWL < max_loss). Both slopes
    are predicted to be -1/2. Also returns ``classes`` (:func:`classify_transience`), ``selected`` (E,) bool,
    ``which`` (a description of the selection) and the two (E, T) branch masks.
    """
    acc = np.asarray(run["icl_acc"], float)
    classes = classify_transience(acc)
    sel = classes == "transient"
    which = "transient runs"
    if not sel.any():
        sel, which = classes != "never", "runs that reached 99% ICL accuracy (none transient)"
    icl_m, fad_m = branch_mask(acc, "icl"), branch_mask(acc, "faded")
    f1 = loss_relation_fit(run["icl_loss"], run["iwl_loss"], icl_m & sel[:, None], max_loss=max_loss,
                           n_boot=n_boot, seed=seed)
    f2 = loss_relation_fit(run["icl_loss"], run["iwl_loss"], fad_m & sel[:, None], max_loss=max_loss,
                           n_boot=n_boot, seed=seed, swap=True)
    return dict(icl=f1, faded=f2, classes=classes, selected=sel, which=which, icl_mask=icl_m, faded_mask=fad_m)


def slope_status(slope: float, ci: tuple, predicted: float = -0.5) -> str:
    """How a fitted slope with 95% interval `ci` compares with a negative prediction: "consistent" (the
    prediction lies inside the interval), "right sign" (interval entirely below 0 but excluding the prediction),
    "inconsistent" (interval touches 0 or is positive), "untestable" (NaN)."""
    if not (np.isfinite(slope) and np.all(np.isfinite(ci))):
        return "untestable"
    if ci[0] <= predicted <= ci[1]:
        return "consistent"
    if ci[1] < 0:
        return "right sign"
    return "inconsistent"


def acquisition_vs_k(K, final_acc, threshold: float = 0.75, conf: float = 0.95) -> dict:
    """Probability of acquiring ICL per K (Fig 6e): the fraction of seeds whose final ICL accuracy exceeds
    `threshold` (the paper's 75%), with Wilson intervals. Returns dict of arrays over the sorted distinct finite
    K: K, n, k (acquirers), p, lo, hi; and ``acquired`` (E,) bool per run."""
    K, acc = np.asarray(K, float), np.asarray(final_acc, float)
    acquired = np.nan_to_num(acc, nan=-np.inf) > threshold
    Ks = np.unique(K[np.isfinite(K)])
    n = np.array([(K == k).sum() for k in Ks])
    kk = np.array([acquired[K == k].sum() for k in Ks])
    ci = [proportion_ci(a, b, conf) for a, b in zip(kk, n)]
    return dict(K=Ks, n=n, k=kk, p=np.array([c[0] for c in ci]), lo=np.array([c[1] for c in ci]),
                hi=np.array([c[2] for c in ci]), acquired=acquired)


def k_half(table: dict) -> float:
    """Model-free threshold: the smallest K of an :func:`acquisition_vs_k` table at which at least half of the
    seeds acquire ICL; +inf if none does."""
    i = np.flatnonzero(np.asarray(table["p"]) >= 0.5)
    return float(table["K"][i[0]]) if len(i) else np.inf


def stratified_permutation_test(strata, group, outcome, n_perm: int = 10000, seed: int = 0) -> dict:
    """Do runs of group 1 succeed less often than group 0, allowing for strata (e.g. K)?

    Statistic: successes in group 1 minus their expectation summed over strata. The null distribution permutes
    group labels within each stratum (exact for the design). Returns dict(diff = observed statistic,
    p_less = one-sided p-value that group 1 succeeds less, p_two = two-sided), NaN without variation.
    """
    strata, group, outcome = np.asarray(strata), np.asarray(group, bool), np.asarray(outcome, bool)
    rng = np.random.default_rng(seed)
    idx = [np.flatnonzero(strata == s) for s in np.unique(strata)]

    def stat(g):
        return sum(outcome[i][g[i]].sum() - g[i].sum() * outcome[i].mean() for i in idx)

    obs = stat(group)
    null = np.empty(n_perm)
    for b in range(n_perm):
        g = group.copy()
        for i in idx:
            g[i] = group[i][rng.permutation(len(i))]
        null[b] = stat(g)
    if np.ptp(null) == 0:
        return dict(diff=float(obs), p_less=np.nan, p_two=np.nan)
    p_less = (1 + np.sum(null <= obs + 1e-12)) / (n_perm + 1)
    p_two = (1 + np.sum(np.abs(null) >= abs(obs) - 1e-12)) / (n_perm + 1)
    return dict(diff=float(obs), p_less=float(p_less), p_two=float(p_two))


def suboptimal_plateaus(steps, icl_acc, lo: float = 0.55, hi: float = 0.95, min_frac: float = 0.25,
                        max_change: float = 0.1) -> dict:
    """Runs stuck at a sub-optimal ICL accuracy (Fig A.8): for the last `min_frac` of training (in iterations)
    every evaluation lies strictly between `lo` and `hi` (above chance, below ICL) and the accuracy changed by at
    most `max_change` over that window (not still climbing). Runs stopped early (NaN at the end) never count.
    Returns dict(mask (E,) bool, duration (E,): iterations of the final stretch inside (lo, hi), level (E,):
    median accuracy over the window)."""
    steps = np.asarray(steps, float)
    acc = np.atleast_2d(np.asarray(icl_acc, float))
    E, T = acc.shape
    win = steps >= steps[-1] - min_frac * (steps[-1] - steps[0])
    inside = (acc > lo) & (acc < hi)  # NaN compares False
    duration = np.zeros(E)
    for e in range(E):
        out = np.flatnonzero(~inside[e])
        start = out[-1] + 1 if len(out) else 0
        duration[e] = steps[-1] - steps[start] if start < T else 0.0
    w = acc[:, win]
    change = np.abs(w[:, -1] - w[:, 0])
    level = np.array([np.median(r[np.isfinite(r)]) if np.isfinite(r).any() else np.nan for r in w])
    mask = inside[:, win].all(1) & (change <= max_change) & (win.sum() >= 2)
    return dict(mask=mask, duration=duration, level=level)


def collapses(icl_acc, high: float = 0.95, low: float = 0.75) -> np.ndarray:
    """Per run (rows of icl_acc (E, T)): how often ICL accuracy fell below `low` after having been above `high`
    (each fall counts once; the run must climb above `high` again before the next one counts)."""
    out = np.zeros(len(icl_acc), dtype=int)
    for e, curve in enumerate(np.asarray(icl_acc, float)):
        up = False
        for v in curve[np.isfinite(curve)]:
            if v > high:
                up = True
            elif v < low and up:
                out[e] += 1
                up = False
    return out


def bimodality_test(final_acc, t_icl, mid=(0.6, 0.9), conf: float = 0.95) -> dict:
    """The statistics of the Fig 6c rule (`verdicts.rule_bimodal`) for one set of seeds at one K.

    ``frac_acq`` with Wilson interval ``frac_acq_ci``: seeds that acquired ICL (finite ``t_icl``); Hartigan's dip
    test of unimodality on the final ICL accuracies (``dip``, ``dip_p``; the `diptest` package's interpolated
    p-value); ``frac_mid`` with ``frac_mid_ci``: seeds whose final accuracy lies strictly inside `mid`.
    """
    import diptest

    x = np.asarray(final_acc, float)
    x = x[np.isfinite(x)]
    n_acq = int(np.isfinite(np.asarray(t_icl, float)).sum())
    p, lo, hi = proportion_ci(n_acq, len(x), conf)
    n_mid = int(((x > mid[0]) & (x < mid[1])).sum())
    pm, mlo, mhi = proportion_ci(n_mid, len(x), conf)
    dip, dip_p = diptest.diptest(x) if len(x) >= 4 else (np.nan, np.nan)
    return dict(n=len(x), n_acq=n_acq, frac_acq=p, frac_acq_ci=(lo, hi), n_mid=n_mid, frac_mid=pm,
                frac_mid_ci=(mlo, mhi), dip=float(dip), dip_p=float(dip_p))


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
