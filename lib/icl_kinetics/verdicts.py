"""Every quantitative claim of the paper, the rule that decides it, and the scorecard built from them.

A claim has one verdict, decided in one chapter by one written rule with three outcomes:

* ``reproduced``                 -- the rule's test passes on our runs;
* ``not reproduced``             -- the test fails on runs large enough to decide;
* ``not decided at this scale``  -- the runs cannot decide (interval too wide, too few runs, or a design that
  cannot test the claim); the reason names what would decide it.

A rule is a plain function of the measured statistics (numbers and intervals), in :mod:`icl_kinetics.rules`, so
unit tests can reach every outcome with synthetic inputs. Chapters compute the statistics and call :func:`judge`; the scorecard page
(`book/00_results_at_a_glance.md`) is generated from :data:`CLAIMS` by :func:`scorecard_markdown` and pastes
each chapter's number and verdict with ``{glue:text}`` (a test checks the committed page is up to date).
"""
from __future__ import annotations

import inspect
import re
import string
from dataclasses import dataclass
from functools import partial
from typing import Callable

from .prose import as_math
from .rules import (  # noqa: F401  (re-exported: the rules are read as verdicts.rule_*)
    Choice, EQ16_MIN_RUNS, NOT_REPRODUCED, OUTCOMES, REPRODUCED, STALL_EXPONENT, UNDECIDED, WD_TREND_MIN_LEVELS,
    WD_TREND_MIN_RUNS, Verdict, interval_vs_band, rule_abrupt, rule_balanced, rule_copying, rule_early_or_never,
    rule_eq16, rule_finite_ik, rule_flat, rule_kstar_exponent, rule_linear, rule_long_tail, rule_nu, rule_ode_ratio,
    rule_ode_tail, rule_opposite, rule_saddle, rule_slope, rule_transience, rule_transition, rule_wd_trend)


# ----------------------------------------------------------------------------- the claims
def placeholders(template: str) -> tuple:
    """The names of a format template's placeholders, in order, each once ('{{' is a literal brace)."""
    return tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))


@dataclass(frozen=True)
class Pending:
    """A claim's evidence at a rung whose design is not complete yet: its sections are shown (numbers, choice
    table) and decide nothing; ``reason`` says what it waits for (a 'too few runs' reason)."""
    reason: str
    sections: tuple


@dataclass(frozen=True)
class Claim:
    id: str
    section: str  # scorecard section
    text: str  # the claim, markdown
    paper: str  # the paper's value
    chapter: str  # notebook stem that measures it
    ours: str  # markdown with {key} or {key:fmt} placeholders, glued by that chapter
    rule: Callable[..., tuple]
    decide_with: str = ""  # the run that would decide it when it is not decided here
    evidence: tuple = ()  # the section classes the chapter decides it on, "module.Class" under icl_kinetics.analysis
    reads: tuple = ()  # (name, section field) pairs where a rule parameter or an `ours` placeholder differs
    choices: str = ""  # the section field with {analysis choice: rule statistics}, when decided under choices

    def field_for(self, param: str) -> str:
        """The section field a rule parameter or an `ours` placeholder is read from."""
        return dict(self.reads).get(param, param)

    def rule_params(self) -> tuple:
        """The rule's parameters read from the sections: the required ones and any optional one in `reads`."""
        sig = inspect.signature(self.rule)
        return tuple(n for n, p in sig.parameters.items()
                     if p.default is inspect.Parameter.empty or n in dict(self.reads))

    def template_fields(self) -> tuple:
        """The placeholders of the scorecard's `ours` template (glued as ``<id>_<placeholder>``)."""
        return placeholders(self.ours)

    def read_names(self) -> tuple:
        """The names the verdict cell reads: the template's placeholders, and the rule's parameters unless the
        claim is decided under choices (then the rule reads each choice's statistics)."""
        return self.template_fields() + (() if self.choices else self.rule_params())

    def read_fields(self) -> tuple:
        """Every section field the claim's verdict cell reads."""
        fields = ((self.choices,) if self.choices else ()) + tuple(self.field_for(n) for n in self.read_names())
        return tuple(dict.fromkeys(fields))


SECTIONS = (
    ("phenomenology", "Phenomenology (section 3.1, Fig 2)"),
    ("minimal", "The minimal model (section 3.2, Fig 3)"),
    ("theory", "Theory (sections 3.3-3.5, Fig 4, Fig A.1)"),
    ("memorization", "Memorization scaling law (section 3.6, Fig 5, A.2, A.3)"),
    ("transience", "Transience (section 3.7, Fig 2e, 6d, A.6)"),
    ("validation", "Empirical validations with the transformer (section 4)"),
)

_P = "python -m icl_kinetics run"
_EARLY_OR_NEVER = ("{n_acq} of {n} seeds acquire, {n_late} of them late; {n_chance} of the {n_never} others end at "
                   "chance (dip test on final accuracy, descriptive: p = {dip_p:.2g})")
CLAIMS: dict[str, Claim] = {c.id: c for c in (
    Claim("fig2b_transition", "phenomenology", "sharp transition from IWL to ICL as $K$ grows (Fig 2b)",
          "$K^* \\approx 10^4$ at $N = 100$", "01_phenomenology",
          "$K^*$ = {kstar:,.0f} [{kstar_lo:,.0f}, {kstar_hi:,.0f}] at $N = 20$", rule_transition,
          choices="choices_transition", evidence=("phenomenology.Transition",)),
    Claim("fig2c_opposite", "phenomenology", "ICL and IWL accuracy follow opposite trends (Fig 2c)", "opposite",
          "01_phenomenology", "correlation {rho:.2f} [{rho_lo:.2f}, {rho_hi:.2f}] across runs", rule_opposite,
          choices="choices_rho", evidence=("phenomenology.Transition",)),
    Claim("fig2d_abrupt", "phenomenology", "ICL is acquired abruptly after a plateau (Fig 2d)", "abrupt",
          "01_phenomenology", "rise time / plateau = {ratio:.2f} (median)", rule_abrupt,
          choices="choices", evidence=("phenomenology.AbruptRise",), reads=(("ratio", "rise_ratio"),)),
    Claim("fig3a_transition", "minimal", "the minimal model shows the sharp transition (Fig 3a)", "sharp",
          "02_minimal_model", "$K^*$ = {kstar:,.0f} [{kstar_lo:,.0f}, {kstar_hi:,.0f}]", rule_transition,
          choices="choices_transition", evidence=("phenomenology.MinimalVsTransformer",)),
    Claim("fig3b_abrupt", "minimal", "abrupt acquisition in the minimal model (Fig 3b)", "abrupt",
          "02_minimal_model", "rise / plateau = {ratio:.2f}", partial(rule_abrupt, start=0.7),
          choices="choices_mm", evidence=("phenomenology.AcquisitionShape",), reads=(("ratio", "rise_mm"),)),
    Claim("fig3c_transience", "minimal", "transience when only $w, \\beta$ are regularized (Fig 3c)",
          "transient (weight decay $10^{-3}$)", "02_minimal_model", "{n_transient} of {n_acquired} runs transient "
          "at the strongest weight decay, {wd_strong:g}; at the weakest, {wd_weak:g}: {n_transient_weak} of "
          "{n_acquired_weak}", rule_transience,
          choices="choices", evidence=("phenomenology.MinimalTransience",), reads=(("n_transient", "n_transient_strong"), ("n_acquired", "n_acquired_strong"))),
    Claim("eq7_ode", "minimal", "trained $w, \\beta$ follow the ODE of eqs 7-8 with measured $c_1(t), c_2(t)$",
          "(prediction)", "02_minimal_model",
          "time to $\\beta = \\log N$, run / ODE = {ratio:.2f} [{ratio_lo:.2f}, {ratio_hi:.2f}]", rule_ode_ratio,
          evidence=("dynamics.OdeComparison",), reads=(("ratio_lo", "ode_ratio_lo"), ("ratio_hi", "ode_ratio_hi")),
          choices="choices"),
    Claim("fig4_flat", "theory", "the loss landscape is nearly flat near initialization (Fig 4)", "flat",
          "03_loss_landscape", "steepest / origin gradient = {grad_ratio:.0f} ($N = 100$)", rule_flat,
          evidence=("landscape.Flatness",), choices="choices"),
    Claim("eq9_saddle", "theory", "balanced contexts make the origin a saddle (eq 9)", "saddle",
          "03_loss_landscape", "Hessian eigenvalues {eig_neg:.2f}/N and {eig_pos:.2f}/N; {frac_bal:.0f}% of "
          "starts reach ICL vs {frac_std:.0f}%", rule_saddle,
          evidence=("landscape.BalancedSaddle",), choices="choices"),
    Claim("eq11_exp1", "theory", "$t_{\\rm ICL} \\propto e^{-\\beta_0}$ for small $\\lvert\\beta_0\\rvert$ "
          "(eq 11, Fig A.1a)", "slope $-1$", "04_icl_dynamics", "slope {slope:.2f} (ODE)", partial(rule_slope, target=-1.0),
          evidence=("acquisition.TIclVsBeta0",), reads=(("slope", "slope_small"),), choices="choices_small"),
    Claim("eq37_exp2", "theory", "$t_{\\rm ICL} \\propto e^{-2\\beta_0}$ for $-\\beta_0 \\gg 1$ (eq 37, Fig A.1a)",
          "slope $-2$", "04_icl_dynamics", "slope {slope:.2f} (ODE)", partial(rule_slope, target=-2.0),
          evidence=("acquisition.TIclVsBeta0",), reads=(("slope", "slope_neg"),), choices="choices_neg"),
    Claim("figA1b_tail", "theory", "normally distributed $\\beta_0$ gives a long-tailed $t_{\\rm ICL}$ (Fig A.1b)",
          "long-tailed", "04_icl_dynamics", "skewness {skew:.2f} (ODE)", rule_ode_tail,
          evidence=("acquisition.TIclDistribution",), reads=(("skew", "hist_skew"),), choices="choices"),
    Claim("fig5_nu", "memorization", "$I_K(\\infty) \\sim K^{\\nu}$", "$\\nu \\approx 0.7$",
          "05_memorization_scaling_law", "$\\nu$ = {nu:.2f} [{nu_lo:.2f}, {nu_hi:.2f}]; halves of the K range "
          "{nu_low:.2f}, {nu_high:.2f}", rule_nu, f"{_P} memorization --profile paper",
          evidence=("memorization.NuEvidence",), choices="choices"),
    Claim("fig5_finite", "memorization", "$I_K(\\infty)$ is finite: differential kinetics, not capacity",
          "finite for $K \\le 5\\times10^4$", "05_memorization_scaling_law",
          "converged for {n_conv} of {n_k} values of $K$", rule_finite_ik, f"{_P} memorization --profile paper",
          choices="choices", evidence=("memorization.FiniteIkEvidence",)),
    Claim("fig2e_transience", "transience", "with weight decay on the attention only, ICL fades after acquisition "
          "(Fig 2e)", "transient", "06_transience", "{n_transient} of {n_acquired} runs transient",
          rule_transience,
          choices="choices", evidence=("transience.TransformerTransience",)),
    Claim("figA6_trend", "transience", "stronger attention weight decay gives faster transience (Fig A.6)",
          "decreasing", "06_transience", "{n_transient} transient runs at {n_levels} weight decays",
          rule_wd_trend, f"{_P} transformer_transience --profile paper",
          choices="choices", evidence=("transience.TransienceVsWd",), reads=(("n_transient", "a6_n"),)),
    Claim("eq16_minimal", "transience", "eq 16 in the minimal model", "slope $-1/2$", "06_transience",
          "slope {slope:.2f} [{slope_lo:.2f}, {slope_hi:.2f}], intercept {intercept:.2f} [{intercept_lo:.2f}, "
          "{intercept_hi:.2f}] over {n_runs} runs", rule_eq16,
          evidence=("loss_relation.Eq16Evidence",), choices="choices"),
    Claim("fig6d_eq16", "transience", "$\\mathcal{L}_{\\rm IWL} \\approx -\\tfrac12 \\log \\mathcal{L}_{\\rm ICL}$ "
          "after acquisition in the transformer (eq 16, Fig 6d)", "slope $-1/2$", "11_icl_vs_iwl_loss",
          "slope {slope:.2f} [{slope_lo:.2f}, {slope_hi:.2f}], intercept {intercept:.2f} [{intercept_lo:.2f}, "
          "{intercept_hi:.2f}] over {n_runs} runs", rule_eq16,
          f"{_P} transformer_transience --profile paper",
          evidence=("loss_relation.Eq16Evidence",), choices="choices"),
    Claim("fig6a_exponent", "validation", "$K^* \\propto N^{1/\\nu}$ (eq 13, Fig 6a)",
          "measured 1.41, predicted $1/0.7 = 1.43$", "07_kstar_vs_n",
          "measured {exponent:.2f} [{exponent_lo:.2f}, {exponent_hi:.2f}], $1/\\nu$ = {inv_nu:.2f} "
          "(half-range fits {inv_nu_lo:.2f} to {inv_nu_hi:.2f})",
          rule_kstar_exponent, f"{_P} kstar_vs_n --profile paper",
          evidence=("threshold.ExponentEvidence",), choices="choices"),
    Claim("fig6b_linear", "validation", "median $t_{\\rm ICL}$ is linear in $N$ (eq 11, Fig 6b)", "linear",
          "08_ticl_vs_n", "log-log slope {slope:.2f} [{slope_lo:.2f}, {slope_hi:.2f}]", rule_linear,
          f"{_P} ticl_vs_n --profile paper",
          evidence=("scaling.LinearEvidence",), choices="choices"),
    Claim("fig6c_bimodal", "validation", "near the threshold runs acquire ICL early or never (Fig 6c), at a "
          "$K$ where both outcomes occur", "bimodal, few intermediates", "09_bimodality",
          _EARLY_OR_NEVER, rule_early_or_never, f"{_P} bimodality --profile paper",
          evidence=("bimodality.BimodalEvidence",), choices="choices"),
    Claim("fig6c_bimodal_kstar", "validation", "the same at the sigmoid-fit $K^*$ of Fig 2b (the first run)", "bimodal",
          "09_bimodality",
          _EARLY_OR_NEVER, rule_early_or_never, f"{_P} bimodality_kstar --profile paper",
          evidence=("bimodality.BimodalEvidence",), choices="choices"),
    Claim("fig6c_bimodal_khalf", "validation", "the same at the $K$ where half acquire, fixed before the run", "bimodal", "09_bimodality",
          _EARLY_OR_NEVER, rule_early_or_never, f"{_P} bimodality_khalf --profile paper",
          evidence=("bimodality.BimodalEvidence",), choices="choices"),
    Claim("fig6c_bimodal_minimal", "validation", "the same in the minimal model (the theory's own model)",
          "(prediction)", "09_bimodality",
          _EARLY_OR_NEVER, rule_early_or_never, f"{_P} minimal_bimodality --profile paper",
          evidence=("bimodality.BimodalEvidence",), choices="choices"),
    Claim("figA4_tail", "validation", "$t_{\\rm ICL}$ is long-tailed (eq 37, Fig A.4), tested as right skew only",
          "long-tailed",
          "10_long_tail", "skewness of $t_{{\\rm ICL}}$/median {skew:.2f} [{skew_lo:.2f}, {skew_hi:.2f}] over "
          "{n_acquired} runs; slowest / median {max_ratio:.2f}", rule_long_tail, f"{_P} long_tail --profile paper",
          evidence=("tails.ManySeeds",), choices="choices"),
    Claim("fig6e_balanced", "validation", "with exactly $N/2$ labels of each kind, fewer runs acquire ICL "
          "(Fig 6e)", "much lower", "12_balanced",
          "ever above 0.95: standard {ever_standard:.2f}, balanced {ever_balanced:.2f} (at the end above 0.75: "
          "{p_standard:.2f}, {p_balanced:.2f})", rule_balanced,
          f"{_P} balanced --profile paper",
          choices="choices", evidence=("balanced.BalancedEvidence",)),
    Claim("fig6e_copying", "validation", "balanced-trained runs that pass Fig 6e's measure copy the target's label "
          "(not the minority-label shortcut)", "implied by the Fig 6e reading", "12_balanced",
          "of {n_acquired} balanced runs that acquired, a fraction {copy_frac:.2f} copy on conflict contexts "
          "(95% CI {copy_lo:.2f} to {copy_hi:.2f})", rule_copying,
          f"{_P} balanced_solution --profile paper",
          choices="choices", evidence=("balanced.Solutions",)),
)}


# The claims decided again at a rung of the scale ladder, in their own chapters, by the same rule and choice table
# on the rung's runs: the scorecard gives each rung its own column, chapter 13 a table of them all.
RUNG_CLAIMS = {"paper_net": ("fig2b_transition", "fig2c_opposite", "fig2d_abrupt", "fig5_nu", "fig5_finite",
                             "fig6a_exponent", "fig6b_linear", "fig6c_bimodal_khalf"),
               # the paper's exact hyperparameters: t_ICL against N at lr 0.01 (ticl_paper_lr with ticl_clock's N = 50)
               "paper": ("fig6b_linear",)}
RUNG_PAGE = "13_scale_ladder"  # the ladder of scale-free statistics; each claim's verdicts are in its chapter
SCALE_NAMES = {"paper_net": "the paper's network", "paper": "the paper's settings"}  # each rung in words
# What a rung measured for a claim, in plain text for the scorecard's rung columns (placeholders: fields of the
# claim's sections, as in `Claim.ours`); a rung that cannot decide the claim yet shows a dash.
HEADLINES = {
    "fig2b_transition": "K* = {kstar:,.0f} [{kstar_lo:,.0f}, {kstar_hi:,.0f}]",
    "fig2c_opposite": "correlation {rho:.2f} [{rho_lo:.2f}, {rho_hi:.2f}]",
    "fig2d_abrupt": "rise / plateau {ratio:.2f}",
    "fig5_nu": "\u03bd = {nu:.2f} [{nu_lo:.2f}, {nu_hi:.2f}]",
    "fig5_finite": "converged at {n_conv} of {n_k} values of K",
    "fig6a_exponent": "exponent {exponent:.2f} [{exponent_lo:.2f}, {exponent_hi:.2f}], 1/\u03bd = {inv_nu:.2f}",
    "fig6b_linear": "slope {slope:.2f} [{slope_lo:.2f}, {slope_hi:.2f}]",
    "fig6c_bimodal_khalf": "{n_acq} of {n} seeds acquire; {n_chance} of the {n_never} others end at chance",
}


# Each claim by the name a reader knows it by (its figure or equation), for verdict sentences
LABELS = {"fig2b_transition": "Fig 2b", "fig2c_opposite": "Fig 2c", "fig2d_abrupt": "Fig 2d",
          "fig3a_transition": "Fig 3a", "fig3b_abrupt": "Fig 3b", "fig3c_transience": "Fig 3c",
          "eq7_ode": "eqs 7-8", "fig4_flat": "Fig 4", "eq9_saddle": "eq 9", "eq11_exp1": "eq 11",
          "eq37_exp2": "eq 37", "figA1b_tail": "Fig A.1b", "fig5_nu": "Fig 5 (the exponent)",
          "fig5_finite": "Fig 5 (finite memorization)", "fig2e_transience": "Fig 2e", "figA6_trend": "Fig A.6",
          "eq16_minimal": "eq 16 (minimal model)", "fig6d_eq16": "Fig 6d (eq 16)", "fig6a_exponent": "Fig 6a",
          "fig6b_linear": "Fig 6b", "fig6c_bimodal": "Fig 6c", "fig6c_bimodal_kstar": "Fig 6c at the fitted K*",
          "fig6c_bimodal_khalf": "Fig 6c where half acquire", "fig6c_bimodal_minimal": "Fig 6c (minimal model)",
          "figA4_tail": "Fig A.4", "fig6e_balanced": "Fig 6e", "fig6e_copying": "Fig 6e (what the runs learn)"}


def headline_fields(claim_id: str) -> tuple:
    """The placeholders of a claim's plain-text headline (empty when it has none)."""
    return placeholders(HEADLINES.get(claim_id, ""))


def judge(claim_id: str, **stats) -> Verdict:
    """Apply a claim's rule to the measured statistics (keyword arguments of its rule function)."""
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known claims: {', '.join(CLAIMS)}")
    claim = CLAIMS[claim_id]
    outcome, reason = claim.rule(**stats)
    if outcome == UNDECIDED and claim.decide_with:
        reason += f"; would be decided by `{claim.decide_with}`"
    return Verdict(claim_id, outcome, reason)


def judge_choices(claim_id: str, choices: dict) -> tuple:
    """Judge a claim under every analysis choice a careful reviewer could defend: ``choices`` maps a choice's
    name to a :class:`~icl_kinetics.rules.Choice` (the rule's statistics under it and why it is defensible; the
    first is the chapter's own). Returns (Verdict, rows): the common outcome when every deciding choice gives it,
    else 'not decided', naming the choices that disagree with the first; ``rows`` are (choice, outcome, reason,
    why) for the chapter's table, a descriptive row (``decides=False``) marked as such and never a veto."""
    bad = [name for name, c in choices.items() if not isinstance(c, Choice)]
    if bad:
        raise TypeError(f"claim {claim_id!r}: the analysis choices {bad} are not rules.Choice (statistics with the "
                        "one-line justification of the analysis)")
    if not next(iter(choices.values())).decides:
        raise ValueError(f"claim {claim_id!r}: the first analysis choice is the chapter's own and must decide")
    verdicts = {name: judge(claim_id, **c.stats) for name, c in choices.items()}
    rows = [(name, v.outcome if choices[name].decides else f"({v.outcome}; descriptive, does not decide)",
             v.reason, choices[name].why) for name, v in verdicts.items()]
    deciding = {name: v for name, v in verdicts.items() if choices[name].decides}
    first_name, first = next(iter(deciding.items()))
    others = [name for name, v in deciding.items() if v.outcome != first.outcome]
    if not others:
        n = len(deciding)
        return Verdict(claim_id, first.outcome, f"{first.reason}; the same under "
                       f"{'both' if n == 2 else f'all {n}'} analysis choices"), rows
    return Verdict(claim_id, UNDECIDED, (f"hangs on the analysis choice: {first.outcome} with {first_name}, "
                                        f"but {'; '.join(f'{verdicts[o].outcome} with {o}' for o in others)}")), rows


# What kind of "not decided" a reason is, read off the words the rules and judge_choices use (a test maps every
# not-decided case of every rule to one kind): more runs would decide it; the verdict depends on an analysis choice;
# or the design cannot test the claim (a K grid that misses a side, one outcome only, a budget too short to tell).
UNDECIDED_KINDS = (
    ("depends on the analysis", ("hangs on the analysis choice",)),
    ("outside the design", ("does not reach", "not both outcomes", "not computed", "could not be measured",
                            "not only the largest failing", "no finite interval", "statistics undefined",
                            "no memorisation runs", "no correlation", "no acquiring run")),
    ("too few runs", ("deciding needs", "too wide", "wider than", "contains 1", "straddles", "holds 1/2",
                      "not significant", "neither below", "sits on", "too few runs", "censored", "holds its bound")),
)


def undecided_kind(reason: str) -> str:
    """The kind of a 'not decided' verdict's reason (one of UNDECIDED_KINDS), '' when none matches."""
    return next((kind for kind, words in UNDECIDED_KINDS if any(w in reason for w in words)), "")


SHORT_WORDS = 20  # the scorecard's reason per row: its first clause, at most this many words


def short_reason(reason: str) -> str:
    """A verdict's reason as the scorecard shows it in a row: its first clause (up to the first ';'), cut to at most
    SHORT_WORDS words (an ellipsis says so). The whole reason is in the rules' dropdown and the chapter."""
    words = reason.split(";")[0].split()
    return " ".join(words[:SHORT_WORDS]) + (" \u2026" if len(words) > SHORT_WORDS else "")


def rule_text(claim_id: str) -> str:
    """The written rule: the rule function's docstring, on one line."""
    rule = CLAIMS[claim_id].rule
    return as_math(" ".join(getattr(rule, "func", rule).__doc__.split()))  # a partial's rule is its function's


# ----------------------------------------------------------------------------- the scorecard page
def _glue_refs(template: str, page: str, claim_id: str) -> str:
    """'{kstar:.0f}' -> {glue:text}`page.ipynb::<claim>_kstar:.0f`; '{{' stays a literal brace."""
    out, i = [], 0
    while i < len(template):
        if template.startswith("{{", i) or template.startswith("}}", i):
            out.append(template[i])
            i += 2
            continue
        if template[i] == "{":
            j = template.index("}", i)
            key, _, fmt = template[i + 1:j].partition(":")
            out.append(f"{{glue:text}}`{page}.ipynb::{claim_id}_{key}:{fmt or 's'}`")
            i = j + 1
            continue
        out.append(template[i])
        i += 1
    return "".join(out)


SCORECARD_HEAD = """# Results at a glance

Every quantitative claim of the paper, the paper's value, ours with its 95% interval, and a verdict from one
written rule per claim: *reproduced*, *not reproduced*, or *not decided at this scale* (the runs cannot decide:
too few of them, a verdict that depends on an analysis choice, or a design that cannot test the claim; the reason
says which). A verdict is reproduced or not reproduced only when every defensible analysis of the same runs agrees
(each chapter lists them under its verdict). Each number and verdict is pasted from the chapter that computes it.

Three scales. **cpu** is the book's main scale ($D = 31$, MLP width 128, $N = 20$ unless $N$ varies, learning rate
0.05, budgets smaller than the paper's). **The paper's network** is $D = 63$, width 512, $N = 100$ unless $N$
varies, at learning rate 0.05 for a fifth of the paper's iterations: the paper's budget if the theory's clock,
time = lr $\\times$ iterations, holds (chapter 13 measures it). **The paper's settings** add the paper's learning
rate, 0.01, and its budget; one claim has runs there so far.

| verdicts | reproduced | not reproduced | not decided |
|---|---|---|---|
"""

COUNT_ROWS = (("experiments at the cpu scale", "cpu/experiment"),
              ("derivation checks (the paper's equations, computed; no sampling)", "cpu/derivation"),
              ("experiments at the paper's network", "paper_net"), ("at the paper's settings", "paper"))
RUNG_TITLES = {rung: f"at {name}" for rung, name in SCALE_NAMES.items()}
DERIVATIONS = "theory"  # the scorecard section of the claims computed on the paper's equations


def _escape(text: str) -> str:
    """Markdown-safe plain text (K* must not open emphasis); `code spans` are left as they are."""
    parts = re.split(r"(`[^`]*`|\$[^$]*\$)", text)  # odd-numbered parts are code spans or math
    return "".join(p if i % 2 else p.replace("*", "\\*").replace("_", "\\_") for i, p in enumerate(parts))


def scorecard_markdown() -> str:
    """The page book/00_results_at_a_glance.md, generated from CLAIMS: verdict counts per scale, one table per
    section (the derivation checks last, apart from the experiments) with a value and verdict column for each
    higher scale that has the section's claims, and the rules once, in a collapsed block."""
    lines = [SCORECARD_HEAD.rstrip("\n")]
    lines += [f"| {title} | " + " | ".join(f"{{verdict-count}}`{group}:{o}`" for o in OUTCOMES) + " |"
              for title, group in COUNT_ROWS]
    order = [k for k, _ in SECTIONS if k != DERIVATIONS] + [DERIVATIONS]
    titles = dict(SECTIONS)
    for key in order:
        rows = [c for c in CLAIMS.values() if c.section == key]
        rungs = [r for r, ids in RUNG_CLAIMS.items() if any(c.id in ids for c in rows)]
        head = "| claim | paper | ours at the cpu scale | " + "".join(f"ours {RUNG_TITLES[r]} | " for r in rungs) + "where |"
        title = titles[key] + (": derivation checks" if key == DERIVATIONS else "")
        lines += [f"\n## {title}\n", head, "|---|---|---|" + "---|" * len(rungs) + "---|"]
        for c in rows:
            n = int(c.chapter[:2])
            at = "".join(
                (f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_{r}_headline:s`<br>"
                 f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_{r}_verdict:s` "
                 f"<span class=\"verdict-why\">{{glue:text}}`{c.chapter}.ipynb::{c.id}_{r}_kind:s`<br>"
                 f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_{r}_short:s`</span> | ") if c.id in RUNG_CLAIMS[r]
                else "no run | "
                for r in rungs)
            lines.append(f"| {c.text} | {c.paper} | {_glue_refs(c.ours, c.chapter, c.id)}<br>"
                         f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_verdict:s` "
                         f"<span class=\"verdict-why\">{{glue:text}}`{c.chapter}.ipynb::{c.id}_kind:s`<br>"
                         f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_short:s`</span> | {at}[ch. {n}]({c.chapter}.ipynb) |")
    lines += ["\nEach cell gives our value, its verdict and the reason in short (in full in the dropdown below). A "
              "column at a higher scale decides the same claim by the same "
              "rule and analyses on that scale's runs (each claim's chapter gives the reasons; "
              f"[chapter {int(RUNG_PAGE[:2])}]({RUNG_PAGE}.ipynb) draws the scale-free statistics at every scale); "
              "\u2014 where its runs cannot give a value yet (too few of them: the verdict's reason says how far "
              "they are).", "\n:::{dropdown} The rules and the reasons, claim by claim\n"]
    first = {}  # rule text -> the claim it was printed for
    for c in CLAIMS.values():
        rule = rule_text(c.id)
        said = f"Rule: {_escape(rule)}" if rule not in first else f"Rule: the same as for *{first[rule]}*."
        first.setdefault(rule, c.text)
        at = "".join(f" {RUNG_TITLES[r][0].upper()}{RUNG_TITLES[r][1:]}: "
                     f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_{r}_reason:s`." for r, ids in RUNG_CLAIMS.items()
                     if c.id in ids)
        lines.append(f"* **{c.text}**. {said} At the cpu scale: "
                     f"{{glue:text}}`{c.chapter}.ipynb::{c.id}_reason:s`.{at}")
    lines.append("\n:::")
    return "\n".join(lines) + "\n"


def ladder_claims_markdown() -> str:
    """Chapter 13's table of the claims with runs above the cpu scale: each claim's verdict at every scale, pasted
    from its chapter (where the rule, the analyses and the reasons are), with a link to it."""
    ids = list(dict.fromkeys(cid for r in RUNG_CLAIMS.values() for cid in r))
    head = ("| claim | at the cpu scale | " + " | ".join(RUNG_TITLES[r] for r in RUNG_CLAIMS) + " | where |\n"
            "|---|---|" + "---|" * len(RUNG_CLAIMS) + "---|")
    rows = []
    for cid in ids:
        c = CLAIMS[cid]

        def verdict(key):
            return f"{{glue:text}}`{c.chapter}.ipynb::{key}_verdict:s` {{glue:text}}`{c.chapter}.ipynb::{key}_kind:s`"
        at = " | ".join(verdict(f"{cid}_{r}") if cid in ids_r else "-" for r, ids_r in RUNG_CLAIMS.items())
        rows.append(f"| {c.text} | {verdict(cid)} | {at} | [chapter {int(c.chapter[:2])}]"
                    f"({c.chapter}.ipynb) |")
    return "\n".join([head] + rows)
