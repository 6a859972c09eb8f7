"""Issue 30: one story per claim. A claim decided on two pages (its chapter, and chapter 13 for a rung of the
ladder; the scorecard pastes chapter 13's) must get the same verdict and the same kind of 'not decided' on both;
and no page's prose may call a claim reproduced or not reproduced against its verdict (the phrases that did, or
would, are listed per claim). Both checks read what the smoke build wrote (the glue caches and the pages), and
are first shown to fail on a planted disagreement."""
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from reader import visible_blocks

REPRODUCED, NOT_REPRODUCED = "reproduced", "not reproduced"
# (claim's glue key, page, phrase in the page's visible text, the verdict the phrase asserts)
OUTCOME_PHRASES = (
    ("fig6b_linear", "book/08_ticl_vs_n", "linear scaling of Fig 6b therefore reproduces", REPRODUCED),
    ("fig6b_linear", "book/08_ticl_vs_n", "Fig 6b reproduces", REPRODUCED),
    ("fig6a_exponent", "book/07_kstar_vs_n", "prediction is missed", NOT_REPRODUCED),
    ("fig6a_exponent", "book/07_kstar_vs_n", "the prediction holds", REPRODUCED),
    ("fig6d_eq16", "book/11_icl_vs_iwl_loss", "eq 16 holds in the transformer", REPRODUCED),
    ("fig6e_balanced", "book/12_balanced", "Fig 6e reproduces", REPRODUCED),
)


def glued_verdicts(folder: Path) -> dict:
    """{glue key of a verdict or its kind: {page: value}} from the glue caches under `folder`."""
    found = defaultdict(dict)
    for path in sorted(folder.rglob("*.glue.json")):
        for key, out in json.loads(path.read_text()).items():
            if key.endswith(("_verdict", "_kind")):
                found[key][path.name.removesuffix(".glue.json")] = out["data"]["text/plain"].strip("'\"")
    return dict(found)


def disagreements(verdicts: dict) -> list[str]:
    """Each verdict (or kind) glued under one key with different values on different pages."""
    return [f"{key}: {pages}" for key, pages in verdicts.items() if len(set(pages.values())) > 1]


def contradictions(page_text: dict, verdicts: dict) -> list[str]:
    """Each listed phrase that a page shows while the claim's verdict there says otherwise."""
    bad = []
    for key, page, phrase, asserts in OUTCOME_PHRASES:
        text = page_text.get(page, "")
        verdict = next(iter(verdicts.get(f"{key}_verdict", {}).values()), None)
        if re.search(re.escape(phrase), text) and verdict != asserts:
            bad.append(f"{page}: '{phrase}' asserts {asserts}, but the verdict is {verdict}")
    return bad


def _glue(tmp_path: Path, page: str, values: dict) -> None:
    data = {k: {"data": {"text/plain": repr(v)}} for k, v in values.items()}
    (tmp_path / f"{page}.glue.json").write_text(json.dumps(data))


def test_a_planted_disagreement_between_pages_is_found(tmp_path):
    _glue(tmp_path, "08_ticl_vs_n", {"fig6b_linear_paper_net_verdict": "not reproduced"})
    _glue(tmp_path, "13_scale_ladder", {"fig6b_linear_paper_net_verdict": "not decided at this scale"})
    assert len(disagreements(glued_verdicts(tmp_path))) == 1
    _glue(tmp_path, "13_scale_ladder", {"fig6b_linear_paper_net_verdict": "not reproduced"})
    assert disagreements(glued_verdicts(tmp_path)) == []


def test_a_planted_contradiction_in_prose_is_found():
    verdicts = {"fig6a_exponent_verdict": {"07_kstar_vs_n": "not decided at this scale"}}
    text = {"book/07_kstar_vs_n": "On the chapter's own choices the prediction is missed, narrowly."}
    assert len(contradictions(text, verdicts)) == 1
    assert contradictions({"book/07_kstar_vs_n": "The verdict hangs on the analysis."}, verdicts) == []


@pytest.mark.slow
def test_every_claim_tells_one_story(book_build):
    assert book_build.returncode == 0, book_build.log
    verdicts = glued_verdicts(book_build.root / "_build" / "jupyter_execute")
    assert sum(k.endswith("_verdict") for k in verdicts) >= 27  # every claim's verdict was found
    pages = {p: " ".join(visible_blocks(p_html.read_text()))
             for p_html in (book_build.html / "book").glob("*.html") for p in [f"book/{p_html.stem}"]}
    problems = disagreements(verdicts) + contradictions(pages, verdicts)
    assert not problems, "\n".join(problems)
