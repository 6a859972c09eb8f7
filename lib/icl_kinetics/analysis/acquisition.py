"""Chapter 4, the dynamics of ICL acquisition (sections 3.4-3.5, eqs 7-12, Fig A.1): t_ICL from eqs 7-8 against
its closed forms, the distribution of t_ICL for random beta0, gradient descent on the exact loss against the ODE,
t_ICL against N, and tau_K (eq 10) for decaying c1. Computed from :mod:`icl_kinetics.theory` while the book
builds; no stored results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from ..rules import Choice
from .. import theory as T
from ..theory import GDResult
from .section import Section, glued, kept, plotted


@dataclass(frozen=True)
class TIclVsBeta0(Section):
    slope_small: float = glued()
    slope_neg: float = glued()
    t_ode_0: float = glued()
    t11_0: float = glued()
    ratio11_0: float = glued()
    ratio11_m05: float = glued()
    ratio11_p05: float = glued()
    ratio37_m5: float = glued()
    ratio37h_m5: float = glued()
    ratio11_m5: float = glued()
    eq11_err_max: float = glued()
    beta0: np.ndarray = plotted()
    t_ode: np.ndarray = plotted()
    t_eq11: np.ndarray = plotted()
    t_eq37: np.ndarray = plotted()
    N: int = plotted()
    fits: list = plotted()
    t_eq37_half: np.ndarray = plotted()
    choices_small: dict = kept()  # {fit window: eq 11 slope}
    choices_neg: dict = kept()  # {fit window: eq 37 slope}


def t_icl_vs_beta0(N: int = 100) -> TIclVsBeta0:
    """Fig A.1a: t_ICL from eqs 7-8 against beta0 with eq 11 and eq 37 (as printed, and eq 36 integrated), and the
    log-slopes for |beta0| <= 0.5 (eq 11: -1) and beta0 in [-5, -3.5] (eq 37: -2)."""
    beta0 = np.linspace(-5, 1.5, 66)
    t_ode, t11 = T.t_icl_ode(N, beta0), T.t_icl_eq11(N, beta0)
    t37 = T.t_icl_eq37(N, beta0)               # as printed in the paper: N e^{-2 beta0} (c1 = c2)
    t37h = T.t_icl_eq37(N, beta0, factor=0.5)  # exact integral of eq 36: N e^{-2 beta0} / 2

    def fit_slope(lo, hi):
        m = (beta0 >= lo - 1e-9) & (beta0 <= hi + 1e-9)
        s, b = np.polyfit(beta0[m], np.log(t_ode[m]), 1)
        return (lo, hi), float(s), float(b)

    def at(b):
        return int(np.argmin(np.abs(beta0 - b)))

    fit_small, fit_neg = fit_slope(-0.5, 0.5), fit_slope(-5.0, -3.5)
    small = np.abs(beta0) <= 0.5 + 1e-9
    numbers = dict(slope_small=fit_small[1], slope_neg=fit_neg[1], t_ode_0=float(t_ode[at(0)]),
                   t11_0=float(t11[at(0)]), ratio11_0=float(t_ode[at(0)] / t11[at(0)]),
                   ratio11_m05=float(t_ode[at(-0.5)] / t11[at(-0.5)]),
                   ratio11_p05=float(t_ode[at(0.5)] / t11[at(0.5)]), ratio37_m5=float(t_ode[at(-5)] / t37[at(-5)]),
                   ratio37h_m5=float(t_ode[at(-5)] / t37h[at(-5)]), ratio11_m5=float(t_ode[at(-5)] / t11[at(-5)]),
                   eq11_err_max=float(100 * np.max(t_ode[small] / t11[small] - 1)))
    figure = dict(beta0=beta0, t_ode=t_ode, t_eq11=t11, t_eq37=t37, N=N, fits=[fit_small, fit_neg], t_eq37_half=t37h)
    def windows(chapters, others):  # a computation on the equations: no sampling, the fit window is the choice
        return {f"beta0 in [{lo:g}, {hi:g}]" + (" (the chapter's)" if (lo, hi) == chapters else ""):
                Choice(dict(slope=fit_slope(lo, hi)[1]), "the regime of the asymptote read "
                       + ("as the chapter does" if (lo, hi) == chapters else "narrower" if hi - lo < chapters[1] -
                          chapters[0] else "wider" if hi - lo > chapters[1] - chapters[0] else "shifted"))
                for lo, hi in (chapters,) + others}
    return TIclVsBeta0.of(numbers, figure, dict(
        choices_small=windows((-0.5, 0.5), ((-0.25, 0.25), (-1.0, 1.0))),
        choices_neg=windows((-5.0, -3.5), ((-5.0, -4.0), (-4.5, -3.0)))))


@dataclass(frozen=True)
class TIclDistribution(Section):
    sd_beta0: float = glued()
    hist_median: float = glued()
    hist_mean: float = glued()
    hist_mean_over_median: float = glued()
    hist_skew: float = glued()
    hist_p99_over_median: float = glued()
    hist_p1_over_median: float = glued()
    lognormal_mean_over_median: float = glued()
    interp_err: float = glued()
    t_icl: np.ndarray = plotted()
    beta0_sd: float = plotted()
    N: int = plotted()
    choices: dict = kept()  # {spread of beta0: rule_ode_tail statistics}


def t_icl_distribution(N: int = 100, sd: float = 0.5, slope_small: float = -1.0, n: int = 20000,
                       seed: int = 0) -> TIclDistribution:
    """Fig A.1b: t_ICL for beta0 ~ N(0, sd^2) (the paper does not state its distribution). t_ICL(beta0) is smooth,
    so log t_ICL is interpolated on a fine ODE grid, checked against direct integration at 20 draws. The
    log-normal prediction uses the local slope `slope_small` of log t_ICL in beta0."""
    b_samples = np.random.default_rng(seed).normal(0.0, sd, n)
    # step 0.05; the slow side to -5 sd of the largest spread the choices use; the fast side stops below
    # beta0 = log N, where ICL is there at t = 0
    b_grid = np.arange(-5.0, min(3.5, np.log(N) - 0.1) + 1e-9, 0.05)
    logt_grid = np.log(T.t_icl_ode(N, b_grid))
    t_samples = np.exp(np.interp(b_samples, b_grid, logt_grid))
    check = b_samples[:20]
    interp_err = float(np.max(np.abs(np.exp(np.interp(check, b_grid, logt_grid)) / T.t_icl_ode(N, check) - 1)))
    med, mean = float(np.median(t_samples)), float(np.mean(t_samples))
    skew = float(scipy_stats.skew(t_samples))
    z = np.random.default_rng(seed).normal(0.0, 1.0, n)  # the same draws, rescaled to other spreads of beta0

    def skew_at(s):
        return float(scipy_stats.skew(np.exp(np.interp(s * z, b_grid, logt_grid))))
    choices = {f"sd of beta0 = {sd:g} (the chapter's)": Choice(
                   dict(skew=skew_at(sd)), "the spread of the initial attention strength the chapter assumes"),
               f"sd of beta0 = {sd / 2:g}": Choice(dict(skew=skew_at(sd / 2)), "half the spread"),
               f"sd of beta0 = {2 * sd:g}": Choice(dict(skew=skew_at(2 * sd)), "twice the spread")}
    sig = abs(slope_small) * sd      # lognormal prediction from the local slope
    numbers = dict(sd_beta0=sd, hist_median=med, hist_mean=mean, hist_mean_over_median=mean / med, hist_skew=skew,
                   hist_p99_over_median=float(np.percentile(t_samples, 99) / med),
                   hist_p1_over_median=float(np.percentile(t_samples, 1) / med),
                   lognormal_mean_over_median=float(np.exp(sig ** 2 / 2)), interp_err=100 * interp_err)
    return TIclDistribution.of(numbers, dict(t_icl=t_samples, beta0_sd=sd, N=N), dict(choices=choices))


@dataclass(frozen=True)
class GdVsOde(Section):
    gd_ratio_m05: float = glued()
    gd_ratio_0: float = glued()
    gd_ratio_p05: float = glued()
    gd_ratio_0_small_lr: float = glued()
    w_end: float = glued()
    beta_end: float = glued()
    gd: GDResult = plotted()
    odes: list = plotted()
    N: int = plotted()
    lr: float = plotted()


def gd_vs_ode(N: int = 100, lr: float = 1.0) -> GdVsOde:
    """Plain gradient descent on the exact loss against eqs 7-8 for beta0 in {-0.5, 0, 0.5}, and at beta0 = 0 with
    a 4x smaller learning rate (separates discretisation from the eq 6 approximation)."""
    b0s = np.array([-0.5, 0.0, 0.5])
    gd = T.simulate_gd_exact(N, beta0=b0s, w0=0.0, lr=lr, n_steps=2000, steps_after_icl=150)
    odes = [T.integrate_icl_ode(N, float(b)) for b in b0s]
    ratios = gd.t_icl / np.array([o.t_icl for o in odes])
    gd_small = T.simulate_gd_exact(N, beta0=0.0, lr=0.25, n_steps=8000, steps_after_icl=1)
    numbers = dict(gd_ratio_m05=float(ratios[0]), gd_ratio_0=float(ratios[1]), gd_ratio_p05=float(ratios[2]),
                   gd_ratio_0_small_lr=float(gd_small.t_icl[0] / odes[1].t_icl), w_end=float(gd.w[-1, 1]),
                   beta_end=float(gd.beta[-1, 1]))
    return GdVsOde.of(numbers, dict(gd=gd, odes=odes, N=N, lr=lr))


@dataclass(frozen=True)
class TIclVsN(Section):
    slope_N_ode: float = glued()
    slope_N_gd: float = glued()
    slope_N_gd_50: float = glued()
    lin_coef_ode: float = glued()
    lin_coef_eq11: float = glued()
    gd_ratio_N10: float = glued()
    gd_ratio_N1000: float = glued()
    lin_excess: float = glued()
    Ns: np.ndarray = plotted()
    t_ode: np.ndarray = plotted()
    t_gd: np.ndarray = plotted()
    t_eq11: np.ndarray = plotted()
    slope_ode: float = plotted()
    slope_gd: float = plotted()


def t_icl_vs_n(Ns=(10, 20, 50, 100, 200, 500, 1000)) -> TIclVsN:
    """t_ICL at beta0 = 0 against N from eqs 7-8 and from gradient descent on the exact loss (lr = N / 100, so
    that lr x gradient stays comparable), with log-log slopes and the linear coefficient against eq 11's
    sqrt(2 pi)."""
    Ns = np.asarray(Ns)
    t_ode_N = np.array([T.t_icl_ode(int(n), 0.0) for n in Ns])
    t_gd_N = []
    for n in Ns:
        lr_n = n / 100.0                      # gradients scale like 1/N: keep lr x gradient comparable
        g = T.simulate_gd_exact(int(n), beta0=0.0, lr=lr_n, n_steps=int(3 * T.t_icl_eq11(n, 0.0) / lr_n),
                                steps_after_icl=1)
        t_gd_N.append(g.t_icl[0])
    t_gd_N = np.array(t_gd_N)
    slope_ode = float(np.polyfit(np.log(Ns), np.log(t_ode_N), 1)[0])
    slope_gd = float(np.polyfit(np.log(Ns), np.log(t_gd_N), 1)[0])
    lin = np.polyfit(Ns, t_ode_N, 1)
    numbers = dict(slope_N_ode=slope_ode, slope_N_gd=slope_gd,
                   slope_N_gd_50=float(np.polyfit(np.log(Ns[Ns >= 50]), np.log(t_gd_N[Ns >= 50]), 1)[0]),
                   lin_coef_ode=float(lin[0]), lin_coef_eq11=float(np.sqrt(2 * np.pi)),
                   gd_ratio_N10=float(t_gd_N[0] / t_ode_N[0]), gd_ratio_N1000=float(t_gd_N[-1] / t_ode_N[-1]),
                   lin_excess=float(100 * (lin[0] / np.sqrt(2 * np.pi) - 1)))
    figure = dict(Ns=Ns, t_ode=t_ode_N, t_gd=t_gd_N, t_eq11=T.t_icl_eq11(Ns, 0.0), slope_ode=slope_ode,
                  slope_gd=slope_gd)
    return TIclVsN.of(numbers, figure)


@dataclass(frozen=True)
class TauKExamples(Section):
    tau_2000: float = glued()
    ode_2000: float = glued()
    tau_300: float = glued()
    ode_300: float = glued()
    target: float = glued(plotted=True)
    t: np.ndarray = plotted()
    c1_curves: dict = plotted()
    ik_curves: dict = plotted()
    taus: dict = plotted()
    t_odes: dict = plotted()


def tau_k_examples(N: int = 100, t_ms=(2000, 600, 300, 200)) -> TauKExamples:
    """Eqs 10 and 12 for c1(t) = e^{-t / t_m} / 2 (I_K(inf) = t_m): tau_K where I_K reaches N sqrt(2 pi) against
    the t_ICL of eqs 7-8 integrated with the same c1."""
    t = np.linspace(0, 6000, 3001)
    c1s = {f"t_m = {tm}": 0.5 * np.exp(-t / tm) for tm in t_ms}
    iks = {k: T.i_k(t, c) for k, c in c1s.items()}
    taus = {k: T.tau_k(t, c, N, 0.0) for k, c in c1s.items()}
    t_odes = {k: T.integrate_icl_ode(N, 0.0, c1=(t, c), c2=0.5, t_max=t[-1]).t_icl for k, c in c1s.items()}
    target = float(N * np.sqrt(2 * np.pi))
    numbers = dict(tau_2000=taus["t_m = 2000"], ode_2000=t_odes["t_m = 2000"], tau_300=taus["t_m = 300"],
                   ode_300=t_odes["t_m = 300"], target=target)
    return TauKExamples.of(numbers, dict(t=t, c1_curves=c1s, ik_curves=iks, target=target, taus=taus, t_odes=t_odes))
