"""Plumbing for the book's pages, used by every chapter in cells whose code is hidden.

``show_source`` shows the library's code for an equation on its page, ``glue`` / ``glue_all`` paste numbers into the prose (``{glue:text}`` roles), ``glue_fit`` a value with its interval
under one prefix, ``decide`` is a claim's verdict cell (judged on the fields of the chapter's sections, glued for the scorecard), ``table`` shows a Markdown
table, ``provenance`` is the line every results-backed figure caption ends with.
"""
from __future__ import annotations

import re

import numpy as np
from IPython.display import Markdown, display
from myst_nb import glue as _myst_glue

from .prose import DASH, as_math, fmt  # noqa: F401  (fmt: the one formatter, also book.fmt)
from .verdicts import (CLAIMS, HEADLINES, LABELS, RUNG_CLAIMS, SCALE_NAMES, UNDECIDED, Pending, Verdict,
                       headline_fields, judge, judge_choices, rule_text, short_reason, undecided_kind)


class Sentence:
    """A string that displays without quotes: text/plain for {glue:text} (also from another page, with
    `page.ipynb::name:s`) and text/markdown for {glue:md} on its own page."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return self.text

    def _repr_markdown_(self):
        return self.text


def glue(name: str, value, display: bool = False) -> None:
    """myst_nb.glue for a number or a sentence. Returns nothing, so that a glue on a cell's last line adds no
    output to the page.

    Numpy scalars become Python floats/ints so {glue:text}`name:.2f` formats; strings become a
    :class:`Sentence`, pasted with {glue:md}`name:myst` on their page (``:myst`` parses its inline math) or
    {glue:text}`page.ipynb::name:s` elsewhere (MyST-NB's {glue:md} role cannot reach another page).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str):
        value = Sentence(as_math(value))
    _myst_glue(name, value, display=display)


def glue_all(prefix: str, numbers: dict) -> None:
    """Glue every ``key: value`` of `numbers` as ``<prefix>_<key>`` (as ``key`` when `prefix` is empty)."""
    for key, value in numbers.items():
        glue(f"{prefix}_{key}" if prefix else key, value)


def glue_fit(name: str, value, ci) -> None:
    """Glue an estimate and its interval as ``name``, ``name_lo`` and ``name_hi``."""
    glue(name, value)
    glue(f"{name}_lo", ci[0])
    glue(f"{name}_hi", ci[1])


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+")


def _cell(x) -> str:
    """A table cell: formatted by :func:`fmt`, symbols as math, pipes escaped (a cell's text must not split its row)."""
    text = as_math(fmt(x))
    if _IDENTIFIER.fullmatch(text):
        text = f"`{text}`"  # a profile, experiment or shard name is code, also in a table
    return text.replace("|", "\\|")


def markdown_table(rows: list, header: list) -> str:
    """A Markdown table from a header and rows of cells."""
    lines = ["| " + " | ".join(map(_cell, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(_cell, r)) + " |" for r in rows])


def table(rows: list, header: list) -> None:
    """Display a Markdown table (rendered as a table by MyST-NB) from a header and rows of cells."""
    display(Markdown(markdown_table(rows, header)))


def show_source(*objects) -> None:
    """Display the library's own source of functions or methods as a Python block: a page shows the code that
    computes an equation next to the equation, never a copy of it."""
    import inspect
    import textwrap
    code = "\n\n".join(textwrap.dedent(inspect.getsource(o)).rstrip() for o in objects)
    display(Markdown(f"```python\n{code}\n```"))


def show_markdown(text: str) -> None:
    """Display a Markdown string (a table from :func:`icl_kinetics.analysis.settings_table`, a verdict)."""
    text = str(text)
    display(Markdown(text if "```" in text else as_math(text)))


def decide(claim_id: str, *sections, rung: str = "", waiting: str = "") -> Sentence:
    """The verdict cell of a claim: judge it on the fields of `sections` (its registry entry names them:
    :meth:`verdicts.Claim.read_fields`), under every analysis choice when it has them (a table of outcomes per
    choice is shown; the verdict is 'not decided' unless all agree), glue what the scorecard pastes
    (``<id>_<field>``, ``<id>_verdict``, ``<id>_reason``) and return the verdict as a sentence for the page.
    ``rung``: the same claim decided at a rung of the scale ladder (chapter 13); the names become
    ``<id>_<rung>_...``, for the scorecard's column of that rung. ``waiting``: the runs the design waits for are
    not all in (``analysis.dense.waiting``); the numbers and the choice table are shown as a description and the
    verdict is 'not decided' with this reason."""
    claim = CLAIMS[claim_id]
    key = f"{claim_id}_{rung}" if rung else claim_id

    def read(name: str):
        found = [s for s in sections if name in s.field_names()]
        if len(found) != 1:
            raise TypeError(f"claim {claim_id!r} reads field {name!r}: found in {len(found)} of the sections "
                            f"{[type(s).__name__ for s in sections]}, needs exactly one")
        return getattr(found[0], name)

    name = LABELS[claim_id] + (f", at {SCALE_NAMES[rung]}" if rung else "")
    rule = f"**The rule.** {rule_text(claim_id)}"
    if claim.choices:
        v, rows = judge_choices(claim_id, read(claim.choices))
        pending = (f"\n\nThe runs this verdict waits for are not all in, so the table describes the runs so far and "
                   f"decides nothing ({as_math(waiting)})." if waiting else "")
        display(Markdown(f":::{{dropdown}} {as_math(f'The rule for {name}, and how the verdict holds up under ')}"
                         f"{len(rows)} analyses\n{rule}{pending}\n\n"
                         + markdown_table([(a, o, as_math(r), w) for a, o, r, w in rows],
                                          ["analysis", "outcome", "reason", "why it is a fair analysis"])
                         + "\n:::"))
    else:
        v = judge(claim_id, **{p: read(claim.field_for(p)) for p in claim.rule_params()})
        display(Markdown(f":::{{dropdown}} {as_math(f'The rule for {name}')}\n{rule}\n:::"))
    glue_all(key, {f: read(claim.field_for(f)) for f in claim.template_fields()})
    if claim_id in HEADLINES:
        glue(f"{key}_headline", HEADLINES[claim_id].format(
            **{f: read(claim.field_for(f)) for f in headline_fields(claim_id)}))
    return _glue_verdict(key, Verdict(claim_id, UNDECIDED, waiting) if waiting else v, rung)


def decide_rung(rung: str, evidence: dict) -> list:
    """The verdicts of every claim of ``verdicts.RUNG_CLAIMS[rung]`` at that rung (chapter 13): ``evidence`` maps
    a claim to its sections (decided as in its chapter, names glued as ``<id>_<rung>_...``) or to a sentence
    saying why the rung cannot decide it yet (then 'not decided' with that reason)."""
    return [decide_at_rung(cid, evidence[cid], rung) for cid in RUNG_CLAIMS[rung]]


def decide_at_rung(claim_id: str, evidence, rung: str) -> Sentence:
    """One claim at a rung, for a chapter's section at that rung: :func:`decide` on ``evidence`` when it is the
    claim's sections (a tuple), else 'not decided' with ``evidence`` as the reason: the sentence saying why the
    rung cannot decide it yet (as ``analysis.ladder.khalf_evidence`` returns for a partial run)."""
    if isinstance(evidence, tuple):
        return decide(claim_id, *evidence, rung=rung)
    if isinstance(evidence, Pending):
        return decide(claim_id, *evidence.sections, rung=rung, waiting=evidence.reason)
    if claim_id in HEADLINES:
        glue(f"{claim_id}_{rung}_headline", "\u2014")
    return _glue_verdict(f"{claim_id}_{rung}", Verdict(claim_id, UNDECIDED, evidence), rung)


def _glue_verdict(key: str, v: Verdict, rung: str) -> Sentence:
    kind = undecided_kind(v.reason) if v.outcome == UNDECIDED else ""
    kind = f"({kind})" if kind else ""
    glue(f"{key}_verdict", v.outcome)
    glue(f"{key}_kind", kind)  # which kind of 'not decided', for the scorecard; empty when decided
    reason = as_math(v.reason)
    glue(f"{key}_reason", reason)
    glue(f"{key}_short", as_math(short_reason(v.reason)))  # the scorecard's reason in a row
    at = f", at {SCALE_NAMES.get(rung, rung)}" if rung else ""
    return Sentence(f"**Verdict on {as_math(LABELS[v.claim])}{at}: {v.outcome}{f' {kind}' if kind else ''}**: "
                    f"{reason}.")


def glue_section(prefix: str, section) -> None:
    """Glue every glued field of a section as ``<prefix>_<field>`` (as ``<field>`` when `prefix` is empty)."""
    glue_all(prefix, section.numbers())


def show_verdicts(*sentences: Sentence) -> None:
    """Display the verdict sentences of a chapter, one paragraph each."""
    display(Markdown("\n\n".join(s.text for s in sentences)))


def provenance(*results) -> str:
    """The provenance line of a figure caption built from the results it draws (``store.Result``): per result its
    experiment, profile, commit (short), device, wall time, and the one command that regenerates it."""
    parts = []
    for r in results:
        m = r.meta
        wall = float(m.get("wall_time_s") or np.nan)
        parts.append(f"`{m.get('experiment', r.experiment)}` (profile `{m.get('profile', r.profile)}`, commit "
                     f"{str(m.get('git_commit', '?'))[:8]}, {m.get('device', '?')}, {wall / 60:.1f} min); "
                     f"regenerate with `python -m icl_kinetics run {r.experiment} --profile {r.profile}`")
    return "Data: " + "; ".join(parts) + "."


THEORY_PROVENANCE = ("Computed while the book builds, from `icl_kinetics.theory` alone (no stored results, no "
                     "training).")


def caption(text: str, *results) -> Sentence:
    """A figure caption: `text` followed by the provenance line of `results` (the theory line when none), set in
    small muted type (class ``provenance``, _ext/static/verdicts.css): there for a check, out of the reading."""
    line = provenance(*results) if results else THEORY_PROVENANCE
    return Sentence(f'{as_math(text)} <span class="provenance">{line}</span>')
