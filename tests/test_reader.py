"""Issue 31: what a reader sees on the built site. Every page of the smoke build is read as a reader reads it
(tests/reader.py: the article's visible text, outside code and math) and must show no value leaked from Python
or from a degenerate computation, no raw table syntax, no identifier in prose, and a caption right after every
figure. The checks are tested on hand-made pages first: a clean page passes, and each planted defect is found."""
from pathlib import Path

import pytest
import yaml

from reader import page_defects

ROOT = Path(__file__).resolve().parents[1]

CLEAN = """<html><body><article class="bd-article">
<h1>1. A chapter</h1>
<p>None of the 16 runs is censored; the slope is 1.05 [0.91, 1.20] with <code>t_ICL</code> in code and
<span class="math">\\(t_{\\rm ICL}\\)</span> in math. For a verdict. None expected. Values 0.00 and -0.5 and 1e-0.</p>
<div class="cell"><div class="cell_input"><pre>x = float("nan"); flag = True; my_var = None</pre></div>
<div class="cell_output"><img src="fig.png"/></div></div>
<div class="cell"><div class="cell_output"><p><strong>Fig 1.</strong> A caption right after its figure.</p></div></div>
<table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>\u2014</td></tr><tr><td>yes</td><td>\u221e</td></tr></table>
</article></body></html>"""

PLANTED = {
    "nan or inf": "<p>Spearman rho = nan (p = nan)</p>",
    "Python value": "<table><tr><th>a</th></tr><tr><td>True</td></tr></table>",
    "negative zero": "<p>bootstrap [-300, -0] and -0.00</p>",
    "interval with equal ends": "<p>slope -1.10 [-1.10, -1.10]</p>",
    "raw table syntax": "<p>| quantity | paper | ours | |---|---|---|</p>",
    "identifier in prose": "<p>Verdict (fig2b_transition): reproduced at the paper_net rung</p>",
    "table row of the wrong width": "<table><tr><th>a</th><th>b</th></tr><tr><td>window</td><td>w</td><td>,</td></tr></table>",
    "figure without a caption after it": "<div class='cell_output'><img src='x.png'/></div><p>Some prose.</p>",
}


def page(body: str) -> str:
    return f'<html><body><article class="bd-article"><h1>Page</h1>{body}</article></body></html>'


def test_a_clean_page_has_no_defect():
    assert page_defects(CLEAN) == []


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_planted_defect_is_found(kind):
    found = page_defects(page(PLANTED[kind]))
    assert [d.kind for d in found if d.kind == kind], f"{kind} not found in {found}"


def test_python_values_none_alone_or_after_equals():
    assert [d.kind for d in page_defects(page("<p>threshold = None</p>"))] == ["Python value"]
    assert page_defects(page("<p>None of them. None expected.</p>")) == []


@pytest.mark.slow
def test_every_page_reads_clean(book_build):
    """The smoke build: no page shows a defect (each is listed with the page it is on)."""
    assert book_build.returncode == 0, book_build.log
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    found = [f"{p}: {d}" for p in pages for d in page_defects((book_build.html / f"{p}.html").read_text())]
    assert not found, f"{len(found)} defects a reader would see:\n" + "\n".join(found[:60])
