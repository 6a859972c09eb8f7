"""Tests of lib/icl_kinetics/book.py: the provenance line of figure captions and Markdown tables."""
from types import SimpleNamespace

import numpy as np

from icl_kinetics import book


def _result(**meta):
    base = dict(experiment="ticl_vs_n", profile="cpu", git_commit="0123456789abcdef", device="cpu",
                wall_time_s=600.0)
    base.update(meta)
    return SimpleNamespace(experiment=base["experiment"], profile=base["profile"], meta=base)


def test_provenance_names_profile_commit_device_time_and_command():
    line = book.provenance(_result())
    for part in ("profile `cpu`", "commit 01234567", "cpu", "10.0 min",
                 "`python -m icl_kinetics run ticl_vs_n --profile cpu`"):
        assert part in line, part
    assert "89abcdef" not in line  # the commit is shortened


def test_caption_lists_every_result_or_says_theory():
    two = book.caption("Fig X.", _result(), _result(experiment="long_tail", profile="smoke"))
    assert str(two).startswith("Fig X.") and "run long_tail --profile smoke" in str(two)
    assert "run ticl_vs_n --profile cpu" in str(two)
    assert "icl_kinetics.theory" in str(book.caption("Fig 4."))


def test_markdown_table():
    assert book.markdown_table([[1, "a"], [2, "b"]], ["n", "x"]).splitlines() == [
        "| n | x |", "|---|---|", "| 1 | a |", "| 2 | b |"]


def test_glue_returns_nothing_so_a_last_line_glue_prints_nothing(monkeypatch):
    seen = []
    monkeypatch.setattr(book, "_myst_glue", lambda name, value, display: seen.append((name, value)))
    assert book.glue("x", np.float64(1.5)) is None and seen == [("x", 1.5)]
    assert type(seen[0][1]) is float  # numpy scalars become Python numbers


def test_one_formatter_for_what_a_reader_sees():
    """Issue 31: no NaN, None, True/False or negative zero reaches a page through a table or a sentence."""
    assert book.fmt(None) == book.fmt(np.nan) == book.fmt("nan") == book.DASH
    assert (book.fmt(True), book.fmt(np.False_)) == ("yes", "no")
    assert book.fmt(np.inf) == "\u221e" and book.fmt(-np.inf) == "\u2212\u221e"
    assert book.fmt(-0.0) == "0" and book.fmt(-1e-9, ".2f") == "0.00" and book.fmt("[-300, -0]") == "[-300, 0]"
    assert book.fmt(-0.5, ".2f") == "-0.50" and book.fmt("x-0.0y") == "x-0.0y"
    table = book.markdown_table([[None, True, "a | b", np.nan]], ["w", "x", "y", "z"])
    assert "None" not in table and "True" not in table and "nan" not in table and "a \\| b" in table


def test_symbols_read_as_math_but_code_and_math_stay():
    from icl_kinetics.prose import as_math
    assert as_math("median t_ICL over beta_0") == "median $t_{\\rm ICL}$ over $\\beta_0$"
    assert as_math("I_K(inf) and I_K") == "$I_K(\\infty)$ and $I_K$"
    assert as_math("`run t_ICL` and $t_{\\rm ICL}$") == "`run t_ICL` and $t_{\\rm ICL}$"
    assert as_math("my_t_ICL_x") == "my_t_ICL_x"  # part of an identifier: not a symbol
