"""Verdicts a reader can scan: coloured badges and counts.

* Every pasted verdict (a ``{glue:text}`` whose text is one of the three outcomes) becomes a badge: the same words,
  in a coloured box (``_ext/static/verdicts.css``), so a page reads the same without colour.
* ``{verdict-count}`\\`rung:outcome\\``` is the number of claims with that verdict at that rung (``cpu/experiment`` and
  ``cpu/derivation``: the book's profile, decided in each claim's chapter; ``paper_net`` / ``paper``: decided in each claim's chapter at that rung), counted from
  the glue caches the notebooks wrote during this build, after every page is read. A claim whose verdict is
  missing from the caches fails the build (the count would be wrong).
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util.docutils import SphinxRole

from icl_kinetics.verdicts import CLAIMS, DERIVATIONS, OUTCOMES, RUNG_CLAIMS

BADGE = {outcome: "verdict-" + outcome.split(" at ")[0].replace(" ", "-") for outcome in OUTCOMES}


class verdict_count(nodes.Inline, nodes.TextElement):
    """Placeholder for a count, resolved once every page's glue cache exists."""


class VerdictCountRole(SphinxRole):
    def run(self):
        rung, _, outcome = self.text.partition(":")
        node = verdict_count(self.rawtext, "", rung=rung.strip(), outcome=outcome.strip())
        return [node], []


def _glued(folder: Path, docname: str, key: str) -> str | None:
    path = folder.joinpath(*docname.split("/")).with_suffix(".glue.json")
    if not path.exists():
        return None
    out = json.loads(path.read_text()).get(key)
    if out is None:
        return None
    return out["data"]["text/plain"].strip("'\"")


def verdicts_at(folder: Path, rung: str) -> dict:
    """{claim id: verdict} at a rung, from the glue caches. ``cpu/experiment`` and ``cpu/derivation``: the book's
    profile's experiments, and its derivation checks (the claims computed on the paper's equations)."""
    if rung.startswith("cpu"):
        group = rung.partition("/")[2]
        items = [(cid, f"book/{c.chapter}", f"{cid}_verdict") for cid, c in CLAIMS.items()
                 if not group or (c.section == DERIVATIONS) == (group == "derivation")]
    else:
        items = [(cid, f"book/{CLAIMS[cid].chapter}", f"{cid}_{rung}_verdict") for cid in RUNG_CLAIMS[rung]]
    return {cid: _glued(folder, doc, key) for cid, doc, key in items}


class ResolveVerdicts(SphinxPostTransform):
    default_priority = 10  # after myst-nb pastes cross-document glue (priority 5)

    def apply(self, **kwargs):
        folder = Path(self.env.mystnb_config.output_folder)
        for node in list(self.document.findall(verdict_count)):
            if node["outcome"] not in OUTCOMES:
                raise ValueError(f"verdict-count {node['outcome']!r}: one of {OUTCOMES}")
            found = verdicts_at(folder, node["rung"])
            missing = [cid for cid, v in found.items() if v is None]
            if missing:
                raise ValueError(f"verdict-count at {node['rung']}: no glued verdict for {', '.join(missing)}")
            n = sum(v == node["outcome"] for v in found.values())
            node.replace_self(nodes.inline(str(n), str(n), classes=["verdict-count"]))
        for node in list(self.document.findall(nodes.inline)):
            text = node.astext().strip()
            if "pasted-text" in node.get("classes", []) and text in BADGE:
                node["classes"] += ["verdict", BADGE[text]]


def setup(app):
    app.add_node(verdict_count, html=(lambda self, node: None, lambda self, node: None))
    app.add_role("verdict-count", VerdictCountRole())
    app.add_post_transform(ResolveVerdicts)
    app.connect("builder-inited", lambda app: app.config.html_static_path.append(
        str(Path(__file__).parent / "static")))
    app.add_css_file("verdicts.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
