"""Figures, one module per figure family; every function returns a matplotlib Figure whose title carries the
paper's figure number. Modules: ``style`` (colours, panels, titles), ``accuracy`` (chapters 1-2), ``theory``
(chapters 3-4), ``memorization`` (chapter 5), ``transience`` (chapters 2, 6, 11), ``scaling`` (chapters 7, 8, 10),
``outcomes`` (chapters 9, 12), ``ladder`` (chapter 13). Every public name is re-exported here.
"""
import matplotlib.pyplot as plt

from .style import (PAPER_BLUE, PAPER_RED, PAPER_GREEN, GREY, figure, title, k_colors, k_label, n_colors,
                    plain_log_ticks, legend)
from .accuracy import (accuracy_curves, accuracy_vs_k, fig_icl_curves_pair, fig_icl_during_training,
                       fig_icl_iwl_vs_k, fig_icl_vs_k_pair, fig_ode_overlay)
from .theory import (fig_loss_landscape, fig_balanced_landscape, fig_eq6_error, fig_t_icl_vs_beta0,
                     fig_t_icl_histogram, fig_gd_vs_ode, fig_t_icl_vs_N, fig_tau_k)
from .memorization import fig_mlp_order_parameters, fig_ik_curves, fig_memorization_scaling, fig_kstar_prediction
from .transience import (fig_eq15_minimal, TRANSIENCE_STYLE, fig_minimal_transience, fig_transformer_transience,
                         fig_loss_relation, fig_transience_time, fig_eq16_branches)
from .scaling import fig_kstar_vs_n, fig_ticl_vs_n, fig_ticl_histograms, fig_relative_tail, fig_seed_consistency
from .ladder import fig_ladder
from .outcomes import (OUTCOME_COLORS, fig_ticl_outcomes, fig_outcome_curves, fig_ik_illustration,
                       fig_acquisition_probability, fig_balanced_curves,
                       fig_final_accuracy_hists, fig_solutions)

__all__ = [
    "plt", "PAPER_BLUE", "PAPER_RED", "PAPER_GREEN", "GREY", "figure", "title", "k_colors", "k_label", "n_colors",
    "plain_log_ticks", "accuracy_curves", "accuracy_vs_k", "fig_icl_curves_pair", "fig_icl_during_training",
    "fig_icl_iwl_vs_k", "fig_icl_vs_k_pair", "fig_ode_overlay", "fig_loss_landscape", "fig_balanced_landscape",
    "fig_eq6_error", "fig_t_icl_vs_beta0", "fig_t_icl_histogram", "fig_gd_vs_ode", "fig_t_icl_vs_N", "fig_tau_k",
    "fig_mlp_order_parameters", "fig_ik_curves", "fig_memorization_scaling", "fig_kstar_prediction",
    "fig_eq15_minimal", "TRANSIENCE_STYLE", "fig_minimal_transience", "fig_transformer_transience",
    "fig_loss_relation", "fig_transience_time", "fig_eq16_branches", "fig_kstar_vs_n", "fig_ticl_vs_n",
    "fig_ticl_histograms", "fig_relative_tail", "fig_seed_consistency", "fig_ladder", "OUTCOME_COLORS", "fig_ticl_outcomes",
    "fig_outcome_curves", "fig_ik_illustration", "fig_acquisition_probability", "fig_balanced_curves",
    "fig_final_accuracy_hists", "fig_solutions",
]
