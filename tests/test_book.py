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
