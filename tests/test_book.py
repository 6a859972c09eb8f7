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


def test_the_source_archive_holds_the_repository_and_leaves_out_build_outputs(tmp_path):
    """Issue 31: the site offers the source and the stored results as one download. Without git the folders are
    read from disk, leaving out what .gitignore leaves out (smoke results, checkpoints, build outputs)."""
    import sys
    import tarfile
    sys.path.insert(0, str(ROOT / "_ext"))
    import source_archive
    repo = tmp_path / "repo"
    for name in ("lib/icl_kinetics/__init__.py", "results/x/cpu.json", "results/x/smoke.json",
                 "results/x/cpu.ckpt/a.pt", "book/_build/page.html", "Makefile", "notes.txt"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text("x")
    n = source_archive.write_archive(repo, tmp_path / "site" / "a.tar.gz")
    with tarfile.open(tmp_path / "site" / "a.tar.gz") as tar:
        names = sorted(tar.getnames())
    top = source_archive.TOP
    assert n == 3 and names == [f"{top}/Makefile", f"{top}/lib/icl_kinetics/__init__.py", f"{top}/results/x/cpu.json"]


@pytest.mark.slow
def test_the_built_site_offers_the_source_and_results(book_build):
    import tarfile
    archive = book_build.html / "_downloads" / "icl-kinetics-replication.tar.gz"
    assert archive.exists(), book_build.log
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "icl-kinetics-replication/lib/icl_kinetics/__init__.py" in names
    assert any(n.endswith("/results/memorization/cpu.json") for n in names)
    assert 'href="../_downloads/icl-kinetics-replication.tar.gz"' in (book_build.html / "book" / "index.html").read_text()
