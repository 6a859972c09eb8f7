"""Builds the whole book (Jupyter Book 1.x, Sphinx) at the smoke profile into a temporary directory."""
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for c in toc["chapters"]]


def test_toc_lists_every_notebook_and_nothing_missing():
    files = toc_files()
    for f in files:
        assert (ROOT / f"{f}.ipynb").exists() or (ROOT / f"{f}.md").exists(), f"toc entry without a file: {f}"
    for nb in (ROOT / "book").glob("*.ipynb"):
        assert f"book/{nb.stem}" in files, f"{nb.name} is not in _toc.yml"


def test_notebooks_committed_clean():
    import nbformat
    for nb_path in (ROOT / "book").glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3", nb_path.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{nb_path.name} has outputs"
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), nb_path.name


@pytest.mark.slow
def test_book_builds(book_build):
    assert book_build.returncode == 0, book_build.log
    for f in toc_files():
        assert (book_build.html / f"{f}.html").exists(), f


@pytest.mark.slow
def test_scorecard_counts_every_verdict_once_and_shows_badges(book_build):
    """Issue 30: the scorecard's counts per scale (from the glue the chapters wrote) add up to the claims decided at
    that scale, and every pasted verdict is a badge that still reads as its words."""
    import re
    from icl_kinetics.verdicts import CLAIMS, DERIVATIONS, OUTCOMES, RUNG_CLAIMS
    html = (book_build.html / "book" / "00_results_at_a_glance.html").read_text()
    counts = [int(n) for n in re.findall(r'<span class="verdict-count">(\d+)</span>', html)]
    n_derivation = sum(c.section == DERIVATIONS for c in CLAIMS.values())
    expected = [len(CLAIMS) - n_derivation, n_derivation, len(RUNG_CLAIMS["paper_net"]), len(RUNG_CLAIMS["paper"])]
    assert len(counts) == 3 * len(expected)
    assert [sum(counts[3 * i:3 * i + 3]) for i in range(len(expected))] == expected
    badges = re.findall(r'<span class="pasted-text verdict verdict-([a-z-]+)">([^<]+)</span>', html)
    assert len(badges) >= len(CLAIMS) + len(RUNG_CLAIMS["paper_net"]) and all(text in OUTCOMES for _, text in badges)
