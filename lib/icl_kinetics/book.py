"""Helpers for the book's pages: glue a claim's numbers and verdict in one call."""
from __future__ import annotations

from .analysis import Sentence, glue
from .verdicts import Verdict, judge


def decide(claim_id: str, numbers: dict, **stats) -> Sentence:
    """Judge a claim (:func:`verdicts.judge` on `stats`), glue `numbers` and the verdict under the claim's id
    (``<id>_<key>``, ``<id>_verdict``, ``<id>_reason``: what the scorecard pastes), and return the verdict as a
    markdown sentence for the page."""
    v: Verdict = judge(claim_id, **stats)
    for key, value in numbers.items():
        glue(f"{claim_id}_{key}", value)
    glue(f"{claim_id}_verdict", v.outcome)
    glue(f"{claim_id}_reason", v.reason)
    return Sentence(f"**Verdict ({claim_id}): {v.outcome}**: {v.reason}.")
