"""Numbers in prose come from glue (issue 20): a number of three or more digits typed into a chapter's text must be
the paper's, a setting of the experiments or an analysis choice, each listed below with why; anything else (a
measured value typed by hand, which goes stale when the runs change) fails this test. Equation, figure, chapter
and section numbers, glue roles and code spans are not prose numbers."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PAPER = {  # values stated in the paper or the authors' code, quoted beside ours
    "0.01", "0.7", "0.75", "1.41", "1.43", "100", "128", "130", "150", "200", "250", "469", "500", "512", "1000",
    "400", "2000", "5000", "9666", "10000", "15000", "20000", "31336", "50000"}
SETTINGS = {  # settings of experiments.py that a page names while explaining the design
    "0.05",   # the cpu profile's learning rate
    "6400",   # the largest K of the cpu balanced sweep (chapter 12)
    "80000",  # the largest K of the paper profile's balanced sweep (chapter 12)
    "1.25",   # decades spanned by the cpu kstar_vs_n grid (chapter 7)
    "187600",  # the paper's 400 epochs in iterations, the budget of the paper-settings runs (chapter 13)
}
CHOICES = {  # analysis choices and thresholds, stated as such
    "0.03", "0.3",    # the eq 16 loss cuts refitted in chapter 11 (with 0.1)
    "0.55",           # lower edge of the sub-optimal plateau band (chapter 12)
    "0.65",           # the alternative plateau level of the minimal model's abruptness choice table (chapter 2)
    "0.25",           # the Fig 6c rule's bound on the late-acquirer fraction; conflict-context counting (chapter 12)
    "0.56",           # 5/9, Sarle's coefficient of a uniform distribution (chapter 9)
    "0.95", "0.99",   # the t_ICL threshold and the early stop, as in the paper and the authors' code
    "0.36",           # 1.25 / sqrt(12), an arithmetic step in chapter 10
    "300",            # an illustrative memorisation time t_m in chapter 4
}
ALLOWED = PAPER | SETTINGS | CHOICES
REFERENCE = re.compile(r"(eqs?|Figs?\.?|chapters?|section|equation|issue)\s*[\d.,\-A-Z ]+", re.I)
NUMBER = re.compile(r"(?<![\w.^_{])(\d[\d,]*(?:\.\d+)?)(?![\w}])")


def prose_numbers(text: str) -> list:
    """Numbers of three or more digits in Markdown prose (math included), glue roles and code spans removed."""
    text = re.sub(r"\{glue:\w+\}`[^`]*`", "", text)
    text = re.sub(r"`[^`]*`", "", text)
    text = REFERENCE.sub("", text)
    out = []
    for m in NUMBER.finditer(text):
        num = m.group(1).rstrip(",.").replace(",", "")
        if len(num.replace(".", "")) >= 3:
            out.append(num)
    return out


def test_the_scan_finds_typed_measurements():
    text = ("the transformer left the plateau after roughly 7,000 to 10,000 iterations at lr 0.01 but about 2,000 "
            "(eq 13, Fig 6c, chapter 12; K = {glue:text}`ch01_kstar:.0f`, `K = 948`), $K^* = 510$")
    assert prose_numbers(text) == ["7000", "10000", "0.01", "2000", "510"]


def test_every_number_in_the_chapters_prose_is_glued_or_listed():
    found = {}
    for nb_path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                for num in prose_numbers("".join(cell["source"])):
                    if num not in ALLOWED:
                        found.setdefault(nb_path.name, []).append(num)
    assert not found, ("numbers typed into the prose (glue them, or list them above with why): " + str(found))
