"""The shape in which the analysis hands a chapter section to its page: a frozen dataclass per section, whose
typed fields are the numbers its prose quotes, the inputs of its figure and what a later section or a verdict
reads. Used by every chapter: the page glues :meth:`Section.numbers` (``{glue:text}`` names are the field
names), draws ``plots.fig_*(**section.figure())`` and decides a claim with ``book.decide(claim_id, section)``.

A field's role is in its declaration::

    kstar: float = glued()          # pasted into the prose
    K: np.ndarray = plotted()       # a keyword argument of the section's plot function
    N: int = glued(plotted=True)    # both
    thr: Threshold = kept()         # read by later sections and verdicts only

Fields are attributes (``section.kstar``); there is no lookup by string, so a renamed field fails where it is
read, and a test checks every ``{glue:text}`` reference of every page against these declarations.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


def glued(plotted: bool = False):
    """A field pasted into the prose (and, with `plotted`, passed to the plot function)."""
    return field(metadata={"glue": True, "figure": plotted})


def plotted(optional: bool = False):
    """A keyword argument of the section's plot function (`glued(plotted=True)` if the prose quotes it too);
    `optional`: None when the section has no figure."""
    return field(metadata={"glue": False, "figure": True}, **({"default": None} if optional else {}))


def kept():
    """A field read by later sections or verdicts only."""
    return field(metadata={"glue": False, "figure": False})


@dataclass(frozen=True)
class Section:
    """Base of every section's result (see the module docstring)."""

    @classmethod
    def glue_names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("glue"))

    @classmethod
    def figure_names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("figure"))

    @classmethod
    def field_names(cls) -> tuple:
        return tuple(f.name for f in dataclasses.fields(cls))

    def numbers(self) -> dict:
        """{field name: value} of the glued fields, in declaration order."""
        return {name: getattr(self, name) for name in self.glue_names()}

    def figure(self) -> dict:
        """The keyword arguments of the section's plot function; empty when the section has no figure (every
        plotted field None)."""
        args = {name: getattr(self, name) for name in self.figure_names()}
        return {} if all(v is None for v in args.values()) else args

    @classmethod
    def of(cls, *parts: dict):
        """The section from dictionaries of its fields (a name in two of them must have the same value in both):
        a missing or unknown name is a TypeError naming it, at construction."""
        merged = {}
        for part in parts:
            for k, v in part.items():
                if k in merged and merged[k] is not v and not _same(merged[k], v):
                    raise TypeError(f"{cls.__name__}: field {k!r} given two different values")
                merged[k] = v
        names = set(cls.field_names())
        required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
        unknown, missing = sorted(set(merged) - names), sorted(required - set(merged))
        if unknown or missing:
            raise TypeError(f"{cls.__name__}: unknown fields {unknown}, missing fields {missing}")
        return cls(**merged)


def _same(a, b) -> bool:
    try:
        return bool(np.array_equal(a, b, equal_nan=True))
    except (TypeError, ValueError):
        try:
            return bool(a == b)
        except (TypeError, ValueError):
            return False
