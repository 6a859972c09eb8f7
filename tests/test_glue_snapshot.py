"""scripts/glue_snapshot.py, the before/after check of refactors, reads every glued value (numbers and sentences)
and refuses an output it cannot read, so a comparison can never pass by comparing nothing."""
import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("glue_snapshot", ROOT / "scripts" / "glue_snapshot.py")
snap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(snap)


def test_reads_numbers_and_sentences(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from icl_kinetics import book\nbook.glue('x', 1.5)\nbook.glue('s', 'a sentence')")]
    path = tmp_path / "page.ipynb"
    nbformat.write(nb, path)
    assert snap.glued(path) == {"x": "1.5", "s": "a sentence"}
