"""How the library's sentences and values read on a page: the paper's symbols as inline math, never as
identifiers (:func:`as_math`), and one formatter for every value in a table or sentence (:func:`fmt`).

Rules, reasons and captions are written in plain text (a docstring, a glued sentence) where ``t_ICL`` is the
natural spelling; :func:`as_math` turns each such spelling into inline TeX for the page (``$t_{\\rm ICL}$``),
leaving code spans and existing math alone. The scorecard pastes such sentences as text from other pages; the
book's Sphinx extension (``_ext/reader_text.py``) typesets the ``$...$`` there.
"""
from __future__ import annotations

import re

import numpy as np

# plain spelling -> TeX, longest first where one spelling contains another
SYMBOLS = {
    "t_ICL": r"t_{\rm ICL}",
    "tau_K": r"\tau_K",
    "I_K(inf)": r"I_K(\infty)",
    "I_K(t_end)": r"I_K(t_{\rm end})",
    "I_K(t)": r"I_K(t)",
    "I_K": "I_K",
    "L_ICL": r"\mathcal{L}_{\rm ICL}",
    "L_IWL": r"\mathcal{L}_{\rm IWL}",
    "beta_0": r"\beta_0",
    "beta0": r"\beta_0",
    "lambda_w": r"\lambda_w",
    "K*": r"K^\ast",  # not K^*: a pasted sentence with two of them would read the asterisks as emphasis
    "nu": r"\nu",
    "+-": r"\pm",
}
_SPELLING = re.compile(r"(?<![\w\\{$])(" + "|".join(re.escape(k) for k in sorted(SYMBOLS, key=len, reverse=True))
                       + r")(?![\w(])")
_PROTECTED = re.compile(r"(`[^`]*`|\$[^$]*\$)")  # code spans and inline math are left as they are


def as_math(text: str) -> str:
    """`text` with every plain spelling of a symbol of :data:`SYMBOLS` as inline math."""
    parts = _PROTECTED.split(text)  # odd parts are code or math
    return "".join(p if i % 2 else _SPELLING.sub(lambda m: f"${SYMBOLS[m.group(1)]}$", p)
                   for i, p in enumerate(parts))


DASH = "\u2014"  # a value that does not exist here (the page says why next to it)
_NEG_ZERO = re.compile(r"(?<![\w.\d])[-\u2212](0(?:\.0+)?)(?![\d.])")
_NAN = re.compile(r"(?<![\w.])nan(?![\w])", re.I)
_INF = re.compile(r"(?<![\w.])(-)?inf(?![\w])")


def fmt(x, spec: str = ".4g") -> str:
    """The one formatter of a value a reader sees in a table or sentence built here: a missing or undefined value
    (None, NaN) as a dash, booleans as yes / no, infinity as its sign, no negative zero ('-0.00' is '0.00')."""
    if x is None:
        return DASH
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return DASH
        if np.isinf(x):
            return "\u221e" if x > 0 else "\u2212\u221e"
        return _NEG_ZERO.sub(r"\1", format(float(x), spec))
    if isinstance(x, str) and x.strip().lower() in ("nan", "none"):
        return DASH
    text = _NEG_ZERO.sub(r"\1", str(x))
    if isinstance(x, str):  # a value formatted upstream ('[nan, nan]', 'inf (...)'): the same words inside it
        text = _NAN.sub(DASH, _INF.sub(lambda m: "\u2212\u221e" if m.group(1) else "\u221e", text))
        text = text.replace(f"[{DASH}, {DASH}]", DASH)
    return text


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and its noun in the right number: count(1, "seed") is "1 seed", count(3, "seed") "3 seeds"; `plural`
    for a noun that does not take an s ("degrees of freedom")."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def join_and(items) -> str:
    """Words in a list: join_and(["25", "50", "100"]) is "25, 50 and 100"; one item alone; '' for none."""
    items = list(items)
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)
