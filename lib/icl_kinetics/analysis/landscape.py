"""Chapter 3, the loss landscape (section 3.3, Fig 4, eqs 5, 6, 9, 20): how flat the landscape is near the
origin, the saddle that balanced contexts create, and where eq 6 (the small-w expansion) holds. Everything is
computed from :mod:`icl_kinetics.theory` while the book builds; no stored results."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate

from ..rules import Choice
from .. import theory as T
from .section import Section, glued, kept, plotted


@dataclass(frozen=True)
class Flatness(Section):
    err_5_20: float = glued()
    range_L: float = glued()
    grad_origin: float = glued()
    grad_theory: float = glued()
    grad_max: float = glued()
    grad_ratio: float = glued()
    flat_frac: float = glued()
    w: np.ndarray = plotted()
    beta: np.ndarray = plotted()
    L: np.ndarray = plotted()
    N: int = plotted()
    trajectories: dict = plotted()
    choices: dict = kept()  # {analysis choice: rule_flat statistics}


def flatness(N: int = 100) -> Flatness:
    """Eq 5 against eq 20 on a (w, beta) grid, the landscape with the ODE and GD trajectories (Fig 4), and the
    gradient norm at the origin against eq 6's 1/(2N)."""
    w = np.linspace(-4, 8, 121)
    beta = np.linspace(-3, 8, 111)
    W, B = np.meshgrid(w, beta)
    L5 = T.loss_gaussian(W, B, N)      # eq 5, Gauss-Hermite over eta
    L20 = T.loss_exact(W, B, N)        # eq 20/21, exact binomial sum over n_+
    ode = T.integrate_icl_ode(N, beta0=0.0, w0=0.0)                         # eqs 7-8, stopped at beta = log N
    gd = T.simulate_gd_exact(N, beta0=0.0, w0=0.0, lr=1.0, n_steps=3000)   # plain GD on eq 21, t = lr x steps
    gb, gw = np.gradient(L5, beta, w)
    gnorm = np.hypot(gw, gb)
    i0, j0 = np.argmin(np.abs(beta)), np.argmin(np.abs(w))
    grad_origin, grad_max = float(gnorm[i0, j0]), float(gnorm.max())
    grad_theory = 0.5 / N                      # eq 6: |grad L|(0, 0) = c1/N e^0 = 1/(2N)
    flat = gnorm < 2 * grad_theory
    ge = np.hypot(*np.gradient(L20, beta, w))
    inner = (np.abs(W) <= 2) & (np.abs(B) <= 2)  # a window about a third as wide, around the origin
    choices = {"eq 5 loss, the plotted window, numerical gradient at the origin (the chapter's)": Choice(
                   dict(grad_ratio=grad_max / grad_origin), "the landscape Fig 4 draws"),
               "exact loss (eq 20)": Choice(dict(grad_ratio=float(ge.max() / ge[i0, j0])),
                                            "without eq 5's large-N approximation"),
               "gradient at the origin from eq 6, 1/(2N)": Choice(dict(grad_ratio=grad_max / grad_theory),
                                                                   "the analytic gradient instead of a numerical one"),
               "window |w|, |beta| <= 2": Choice(dict(grad_ratio=float(gnorm[inner].max()) / grad_origin),
                                                 "a window about a third as wide around the origin")}
    numbers = dict(err_5_20=float(np.abs(L5 - L20).max()), range_L=float(L20.max() - L20.min()),
                   grad_origin=grad_origin, grad_theory=grad_theory, grad_max=grad_max,
                   grad_ratio=grad_max / grad_origin, flat_frac=float(100 * flat.mean()))
    figure = dict(w=w, beta=beta, L=L5, N=N, trajectories={
        "eqs 7-8 (to beta = log N)": (ode.w, ode.beta),
        "GD on exact loss (3000 steps, lr = 1)": (gd.w[:, 0], gd.beta[:, 0])})
    return Flatness.of(numbers, figure, dict(choices=choices))


def _flows_reach_icl(loss_fn, starts, N, t_max) -> np.ndarray:
    """(n,) bool: whether the gradient flow of `loss_fn` (vectorised over arrays of w and beta) from each start
    (n, 2) reaches ICL, w and beta > 0 where beta first reaches log N (or at t_max). All starts are integrated as
    one system, each frozen once it reaches log N: the same outcomes as one flow per start, in a third of the
    time (the loss is evaluated on all starts at once)."""
    n, target = len(starts), np.log(N)

    def rhs(t, y):
        w, b, e = y[:n], y[n:], 1e-5
        gw = (loss_fn(w + e, b) - loss_fn(w - e, b)) / (2 * e)
        gb = (loss_fn(w, b + e) - loss_fn(w, b - e)) / (2 * e)
        done = b >= target
        return np.concatenate([np.where(done, 0.0, -gw), np.where(done, 0.0, -gb)])

    # rtol 1e-4: only the sign of w and beta at the end is read; it gives every start of two sets of 40 the outcome
    # that rtol 1e-6 gives, with a quarter of the steps
    sol = integrate.solve_ivp(rhs, (0, t_max), np.concatenate([starts[:, 0], starts[:, 1]]), rtol=1e-4, atol=1e-9)
    return (sol.y[:n, -1] > 0) & (sol.y[n:, -1] > 0)


@dataclass(frozen=True)
class BalancedSaddle(Section):
    eig_neg: float = glued()
    eig_pos: float = glued()
    frac_bal: float = glued()
    frac_std: float = glued()
    frac_pred: float = glued()
    w: np.ndarray = plotted()
    beta: np.ndarray = plotted()
    L_exact: np.ndarray = plotted()
    L_eq9: np.ndarray = plotted()
    N: int = plotted()
    frac_balanced: float = kept()
    frac_standard: float = kept()
    choices: dict = kept()  # {analysis choice: rule_saddle statistics}


def balanced_saddle(N: int = 100, n_init: int = 40, seed: int = 0) -> BalancedSaddle:
    """Eq 9: the Hessian of the exact balanced loss at the origin (finite differences) and the fraction of random
    initialisations whose gradient flow reaches ICL, balanced against binomial contexts and against the linearised
    prediction (ICL iff w0 + beta0 > 0)."""
    wb, bb = np.linspace(-4, 4, 81), np.linspace(-3, 3, 61)
    Wb, Bb = np.meshgrid(wb, bb)
    h = 1e-3

    def Lb(a, b):
        return float(T.loss_balanced_exact(a, b, N))

    def hessian_eigs(h):
        H = np.array([[Lb(h, 0) - 2 * Lb(0, 0) + Lb(-h, 0), (Lb(h, h) - Lb(h, -h) - Lb(-h, h) + Lb(-h, -h)) / 4],
                      [(Lb(h, h) - Lb(h, -h) - Lb(-h, h) + Lb(-h, -h)) / 4, Lb(0, h) - 2 * Lb(0, 0) + Lb(0, -h)]])
        return np.linalg.eigvalsh(H / h**2)
    eig = hessian_eigs(h)
    inits = np.random.default_rng(seed).normal(0, 0.3, size=(n_init, 2))
    frac_bal = float(np.mean(_flows_reach_icl(lambda a, b: T.loss_balanced_exact(a, b, N), inits, N, 40 * N)))
    frac_std = float(np.mean(_flows_reach_icl(lambda a, b: T.loss_gaussian(a, b, N, n_quad=31), inits, N, 40 * N)))
    pred = float(np.mean(inits.sum(1) > 0))    # linearised eq 9 flow: ICL iff w0 + beta0 > 0
    numbers = dict(eig_neg=float(eig[0] * N), eig_pos=float(eig[1] * N), frac_bal=100 * frac_bal,
                   frac_std=100 * frac_std, frac_pred=100 * pred)
    figure = dict(w=wb, beta=bb, L_exact=T.loss_balanced_exact(Wb, Bb, N), L_eq9=T.loss_balanced(Wb, Bb, N), N=N)
    eig_wide = hessian_eigs(1e-2)
    choices = {"Hessian step 1e-3, flows of the exact balanced loss (the chapter's)": Choice(
                   dict(eig_neg=eig[0] * N, eig_pos=eig[1] * N, frac_balanced=frac_bal, frac_standard=frac_std),
                   "finite differences at the origin and gradient flows from random small starts"),
               "Hessian step 1e-2": Choice(dict(eig_neg=eig_wide[0] * N, eig_pos=eig_wide[1] * N,
                                                frac_balanced=frac_bal, frac_standard=frac_std),
                                           "a wider difference step: curvature beyond the origin"),
               "balanced starts from the linearised eq 9 flow (ICL iff w0 + beta0 > 0)": Choice(
                   dict(eig_neg=eig[0] * N, eig_pos=eig[1] * N, frac_balanced=pred, frac_standard=frac_std),
                   "eq 9's own prediction of which starts reach ICL")}
    return BalancedSaddle.of(numbers, figure, dict(frac_balanced=frac_bal, frac_standard=frac_std,
                                                   choices={k: Choice({f: float(v) for f, v in c.stats.items()},
                                                                      c.why) for k, c in choices.items()}))


def _grad_exact(Wg, Bg, n, h=1e-5):
    gw_ = (T.loss_exact(Wg + h, Bg, n) - T.loss_exact(Wg - h, Bg, n)) / (2 * h)
    gb_ = (T.loss_exact(Wg, Bg + h, n) - T.loss_exact(Wg, Bg - h, n)) / (2 * h)
    return gw_, gb_


def grad_rel_err(Wg, Bg, n):
    """Relative error of eq 6's gradient (c1 = c2 = 1/2) against the exact loss's (central differences)."""
    ew, eb = _grad_exact(Wg, Bg, n)
    aw, ab = T.grad_small_w(Wg, Bg, n, c1=0.5, c2=0.5)
    return np.hypot(aw - ew, ab - eb) / np.hypot(ew, eb)


@dataclass(frozen=True)
class Eq6Validity(Section):
    box_loss_100: float = glued()
    box_grad_100: float = glued()
    slope_loss: float = glued()
    slope_grad: float = glued()
    err_sqrtN: float = glued()
    b10: float = glued()
    sqrtN: float = glued()
    logN: float = glued()
    w: np.ndarray = plotted()
    beta: np.ndarray = plotted()
    rel_err_grid: np.ndarray = plotted()
    N_grid: int = plotted()
    w_line: np.ndarray = plotted()
    err_vs_w: dict = plotted()
    beta_line: np.ndarray = plotted()
    err_vs_beta: dict = plotted()
    w_fixed: float = plotted()


def eq6_validity(N: int = 100) -> Eq6Validity:
    """Where eq 6 holds: its gradient error on a grid and along lines, and its loss and gradient errors in the
    initialisation box |w|, |beta| <= 0.5 as functions of N (with their log-log slopes)."""
    we, be = np.linspace(-3, 3, 61), np.linspace(-2, 5, 71)
    We, Be = np.meshgrid(we, be)
    grid_err = grad_rel_err(We, Be, N)
    Ns = [20, 100, 1000]
    w_line, b_line = np.geomspace(0.05, 10, 60), np.linspace(-2, 7, 60)
    err_w = {n: grad_rel_err(w_line, 0.0, n) for n in Ns}
    err_b = {n: grad_rel_err(1.0, b_line, n) for n in Ns}
    Wn, Bn = np.meshgrid(np.linspace(-0.5, 0.5, 11), np.linspace(-0.5, 0.5, 11))
    Wn, Bn = Wn[Wn != 0], Bn[Wn != 0]
    Nscan = np.array([20, 50, 100, 300, 1000])
    box_loss = []
    for n in Nscan:
        ex = T.loss_exact(Wn, Bn, n) - np.log(2)
        box_loss.append(np.max(np.abs((T.loss_small_w(Wn, Bn, n) - np.log(2) - ex) / ex)))
    box_loss = np.array(box_loss)
    box_grad = np.array([grad_rel_err(Wn, Bn, n).max() for n in Nscan])
    # gradient error at N = 100 along beta = 0 at |w| = sqrt(N) (end of panel b), and where it reaches 10% along
    # w = 1 (in beta > 0)
    pos = b_line > 0
    numbers = dict(box_loss_100=float(100 * box_loss[Nscan == 100][0]),
                   box_grad_100=float(100 * box_grad[Nscan == 100][0]),
                   slope_loss=float(np.polyfit(np.log(Nscan), np.log(box_loss), 1)[0]),
                   slope_grad=float(np.polyfit(np.log(Nscan), np.log(box_grad), 1)[0]),
                   err_sqrtN=100 * float(grad_rel_err(np.sqrt(N), 0.0, N)),
                   b10=float(b_line[pos][np.argmax(err_b[100][pos] > 0.1)]),
                   sqrtN=float(np.sqrt(N)), logN=float(np.log(N)))
    figure = dict(w=we, beta=be, rel_err_grid=grid_err, N_grid=N, w_line=w_line, err_vs_w=err_w, beta_line=b_line,
                  err_vs_beta=err_b, w_fixed=1.0)
    return Eq6Validity.of(numbers, figure)
