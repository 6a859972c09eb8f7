"""From stored results to the numbers the chapters report, one module per topic of the book.

Functions take the arrays of one run (``Result[run]``, a dict of numpy arrays) and its
:class:`~icl_kinetics.train.RunConfig` (or a whole stored result); they do no training and no plotting.

Building blocks: ``runs`` (per-run tables, the sigmoid K*, settings tables), ``transience`` (acquisition and
fading, eq 15), ``loss_relation`` (eq 16), ``memorization`` (I_K(inf) and its power law), ``scaling`` (censored
medians, K* and t_ICL against N), ``outcomes`` (bimodality, acquisition probability, tails). One module per
chapter turns them into the :class:`~icl_kinetics.analysis.section.Section` s a page shows: ``phenomenology``
(chapters 1-2), ``dynamics`` (chapter 2), ``landscape`` (3), ``acquisition`` (4), ``memorization`` (5),
``transience`` and ``loss_relation`` (6, 11), ``threshold`` (7), ``scaling`` (8), ``bimodality`` (9), ``tails``
(10), ``balanced`` (12), ``ladder`` (13, the scale ladder), ``budget`` (13, what the measured clock means for a
rung's budgets), ``dense`` (13, the kstar_dense shards pooled with the sweeps they extend) and ``precision``
(16, bf16 against fp32); ``small_sample`` holds the intervals honest at a few seeds
per point. Every public name of the building blocks is re-exported here.
"""
from . import (acquisition, balanced, bimodality, budget, dense, dynamics, ladder, landscape, loss_relation,
               phenomenology, precision, section, small_sample, tails, threshold)
from .runs import (members, sweep_threshold, acquired, SETTING_FIELDS, settings_table, safe_sweep_threshold,
                   n_context, censored_t_icl)
from .memorization import (IKInfinity, ik_infinity, memorization_table, ScalingFit, fit_memorization_scaling,
                           kstar_from_scaling, kstar_table, invert_ik, half_range_fits)
from .transience import (TRANSIENCE_CLASSES, ACQUIRE_ACC, FADE_ACC, acquisition_index, transience_index,
                         transience_time, classify_transience, branch_mask,
                         lambert_w_prediction, member_transience_ode, collapses)
from .loss_relation import loss_relation_fit, eq16_fits, slope_status
from .dynamics import crossing_time, member_icl_ode
from .scaling import (CensoredMedian, censored_median, MedianVsN, median_vs_n_fit, KStarVsN, kstar_vs_n_fit,
                      pooled_relative_times, ticl_times, ticl_seeds, seed_consistency)
from .outcomes import (skewness_ci, lognormal_skewness, log_normality, BC_UNIFORM, bimodality_stats,
                       compare_acquisition_times, acquisition_vs_k, k_half,
                       stratified_permutation_test, suboptimal_plateaus)

__all__ = [
    "acquisition", "balanced", "bimodality", "budget", "dynamics", "ladder", "landscape", "loss_relation",
    "phenomenology", "section", "tails", "threshold", "members", "sweep_threshold", "acquired", "SETTING_FIELDS",
    "settings_table", "safe_sweep_threshold", "n_context", "censored_t_icl", "IKInfinity", "ik_infinity",
    "memorization_table", "ScalingFit", "fit_memorization_scaling", "kstar_from_scaling", "kstar_table",
    "invert_ik", "half_range_fits", "TRANSIENCE_CLASSES", "ACQUIRE_ACC", "FADE_ACC", "acquisition_index",
    "transience_index", "transience_time", "classify_transience", "branch_mask", "loss_relation_fit",
    "lambert_w_prediction", "member_transience_ode", "eq16_fits", "slope_status", "collapses", "crossing_time",
    "member_icl_ode", "CensoredMedian", "censored_median", "MedianVsN", "median_vs_n_fit", "KStarVsN",
    "kstar_vs_n_fit", "pooled_relative_times", "ticl_times", "ticl_seeds", "seed_consistency", "skewness_ci",
    "lognormal_skewness", "log_normality", "BC_UNIFORM", "bimodality_stats", "compare_acquisition_times",
    "acquisition_vs_k", "k_half", "stratified_permutation_test", "suboptimal_plateaus",
]
