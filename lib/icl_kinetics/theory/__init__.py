"""Theory of the minimal model (paper sections 3.3-3.7, appendix A.1-A.5), used by chapters 2-8 and 11.

Modules: ``landscape`` (eqs 5, 6, 9, 20, 21; Fig 4), ``ode`` (eqs 7-8), ``closed_forms`` (t_ICL, I_K, tau_K, K*),
``transience`` (eqs 14-16, 44-45), ``gd`` (gradient descent on the exact loss), ``checks`` (argument checks,
size limits and the stable numerical helpers the modules share).

Everything here is plain numpy/scipy except :func:`simulate_gd_exact`, which uses torch autograd.
Equation numbers refer to the paper. Notation:

* ``w``, ``beta``: the two attention "order parameters" of the minimal model (eq 2/3).
* ``N``: context length.
* ``phi_plus``: MLP logits on the items of the dataset whose label is +1 (a sample of the
  distribution P^+, eq 5). ``phi_plus=0`` (the default) means the MLP does not contribute
  (z_MLP = 0), so that c1 = c2 = 1/2 and c3 = 1.

Time convention. ``t`` in every ODE / closed form below is *gradient-flow time*: with plain gradient
descent at learning rate ``lr`` on the (per-sequence average) loss, ``t = lr x iterations``. Eqs 7-8
are exactly gradient flow on eq 6 in these units (see :func:`ode_rhs` and :func:`simulate_gd_exact`).

Loss-landscape functions are vectorised: ``w`` and ``beta`` broadcast against each other (e.g. the
output of ``numpy.meshgrid``) and the result has their broadcast shape; the average over the
sample ``phi_plus`` is taken inside.

Arguments are checked before any computation (a ValueError naming the argument): the context length N is an
integer >= 2 (in the closed forms for t_ICL and K*, which are linear in N, any N > 0), c1 lies in (0, 1) and c2
in (0, 1], weight decays and learning rates are > 0, times are > 0 (sample times strictly increasing), losses are
> 0, and every number is finite. A result that would not be finite in float64 is a ValueError too, unless a
stable form gives its finite value: the eq 5/20/balanced losses at any beta (the attention on the target's copy
as sigma(beta - log(N - 1))), eq 34 at any w0 (via erfcx), the closed forms in log space. Sizes are limited
before anything is allocated: ``checks.MAX_ELEMENTS`` (5e7) elements per array built from the arguments and
N <= ``checks.MAX_N_BINOMIAL`` (1e6) for the exact binomial sum of eq 20/21 (eq 5 is its large-N form).
Two exceptions serve measured data: a NaN in a sampled curve (c1, c2 of i_k, i_k_prime; c3 of w_transient) marks
a missing sample and propagates, and arrays of bootstrap replicates of nu in k_star_prediction are evaluated
element-wise (a scalar nu must be a finite positive number).
"""
from .landscape import (eq5, loss_exact, loss_gaussian, loss_small_w, loss_balanced, loss_balanced_exact,
                        grad_small_w, mlp_order_parameters, mc_minimal_model_loss)
from .ode import eqs_7_8, ode_rhs, ODEResult, integrate_icl_ode, t_icl_ode
from .closed_forms import (t_icl_eq11, t_icl_eq34, t_icl_eq37, eq10_ik, i_k, i_k_prime, tau_k,
                           k_star_prediction)
from .transience import (transience_rhs, integrate_transience, w_transient, iwl_loss_from_icl_loss,
                         icl_loss_from_iwl_loss)
from .gd import GDResult, simulate_gd_exact

__all__ = [
    "eq5", "eq10_ik", "loss_exact", "loss_gaussian", "loss_small_w", "loss_balanced", "loss_balanced_exact",
    "grad_small_w", "mlp_order_parameters", "eqs_7_8", "ode_rhs", "ODEResult", "integrate_icl_ode",
    "t_icl_ode", "t_icl_eq11", "t_icl_eq34", "t_icl_eq37", "i_k", "i_k_prime", "tau_k",
    "transience_rhs", "integrate_transience", "w_transient", "iwl_loss_from_icl_loss",
    "icl_loss_from_iwl_loss", "k_star_prediction", "GDResult", "simulate_gd_exact",
    "mc_minimal_model_loss",
]
