"""The contracts between the analysis, the claims and the pages, checked without building the book: each claim's
verdict cell reads fields its sections declare, and every {glue:text} reference on every page names a value some
cell glues (a section's glued field under its prefix, a claim's verdict, a literal glue)."""
import ast
import dataclasses
import importlib
import inspect
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from icl_kinetics import analysis, book, verdicts
from icl_kinetics.analysis.section import Section, glued, kept, plotted

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "book").glob("*.ipynb"))


def section_class(path: str):
    module, name = path.rsplit(".", 1)
    return getattr(importlib.import_module(f"icl_kinetics.analysis.{module}"), name)


@pytest.mark.parametrize("claim_id", sorted(verdicts.CLAIMS))
def test_claim_reads_declared_fields(claim_id):
    claim = verdicts.CLAIMS[claim_id]
    assert claim.evidence, f"{claim_id}: no evidence sections named"
    fields = set().union(*(section_class(p).field_names() for p in claim.evidence))
    missing = [f for f in claim.read_fields() if f not in fields]
    assert not missing, f"{claim_id} reads {missing}, not fields of {claim.evidence}"
    for name, _ in claim.reads:  # a mapping the verdict cell never reads is dead (or names a typo)
        assert name in claim.read_names(), f"{claim_id}: reads maps {name!r}, which its verdict cell does not read"


def test_every_section_is_a_frozen_dataclass():
    classes = [c for m in vars(analysis).values() if inspect.ismodule(m)
               for c in vars(m).values() if inspect.isclass(c) and issubclass(c, Section) and c is not Section]
    assert len(classes) > 40
    for c in classes:
        assert dataclasses.is_dataclass(c) and c.__dataclass_params__.frozen, c
        assert not hasattr(c, "__getitem__"), c


@dataclasses.dataclass(frozen=True)
class _Demo(Section):
    a: float = glued()
    b: np.ndarray = plotted()
    c: int = glued(plotted=True)
    d: str = kept()


def test_section_roles_and_construction():
    s = _Demo.of(dict(a=1.0, c=2), dict(b=np.arange(3), c=2), dict(d="x"))
    assert s.numbers() == {"a": 1.0, "c": 2} and set(s.figure()) == {"b", "c"}
    with pytest.raises(TypeError, match="missing fields \\['d'\\]"):
        _Demo.of(dict(a=1.0, b=0, c=2))
    with pytest.raises(TypeError, match="unknown fields \\['e'\\]"):
        _Demo.of(dict(a=1.0, b=0, c=2, d="x", e=1))
    with pytest.raises(TypeError, match="two different values"):
        _Demo.of(dict(a=1.0, b=0, c=2, d="x"), dict(c=3))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.a = 2.0


def test_decide_reads_one_section_per_field(monkeypatch):
    monkeypatch.setattr(book, "glue", lambda *a, **k: None)
    shape = verdicts.CLAIMS["fig4_flat"].evidence[0]
    sec = section_class(shape)
    a, b = verdicts.Choice(dict(grad_ratio=50.0), "one"), verdicts.Choice(dict(grad_ratio=3.0), "another")
    kwargs = {f: 0 for f in sec.field_names()} | {"grad_ratio": 50.0, "choices": {"a": a, "b": b}}
    s = sec(**kwargs)
    assert "not decided" in book.decide("fig4_flat", s).text  # the two choices disagree
    s = sec(**(kwargs | {"choices": {"a": a}}))
    assert "reproduced" in book.decide("fig4_flat", s).text
    with pytest.raises(TypeError, match="found in 2 of the sections"):
        book.decide("fig4_flat", s, s)


# ----------------------------------------------------------------------------- glue references on the pages
def _analysis_return(call: ast.Call):
    """The section class an `analysis.<module>.<function>(...)` call returns, from its annotation."""
    f = call.func
    if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Attribute)
            and isinstance(f.value.value, ast.Name) and f.value.value.id == "analysis"):
        return None
    fn = getattr(getattr(analysis, f.value.attr), f.attr)
    ann = inspect.signature(fn).return_annotation
    cls = getattr(importlib.import_module(fn.__module__), ann, None) if isinstance(ann, str) else ann
    return cls if inspect.isclass(cls) and issubclass(cls, Section) else None


def glued_names(nb) -> tuple:
    """(names, prefixes): every name the page's cells glue, and the literal prefixes of f-string glue names."""
    tree = ast.parse("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    types, names, prefixes = {}, set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            cls = _analysis_return(node.value)
            if cls is not None:
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        types[t.id] = cls
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "book"):
            continue
        fn, args = node.func.attr, node.args
        lit = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]

        def pre(p, k):
            return f"{p}_{k}" if p else k
        if fn == "glue_section":
            cls = types.get(args[1].id) if isinstance(args[1], ast.Name) else _analysis_return(args[1])
            assert cls is not None, f"glue_section of an unknown section: {ast.unparse(node)}"
            names |= {pre(lit[0], k) for k in cls.glue_names()}
        elif fn == "glue_all" and isinstance(args[1], ast.Call) and getattr(args[1].func, "id", "") == "dict":
            names |= {pre(lit[0], kw.arg) for kw in args[1].keywords}
        elif fn == "glue_all":
            cls = _analysis_return(args[1].func.value) if isinstance(args[1], ast.Call) else None
            assert cls is not None, f"glue_all of an unknown mapping: {ast.unparse(node)}"
            names |= {pre(lit[0], k) for k in cls.glue_names()}
        elif fn in ("glue", "glue_fit") and lit:
            names |= {lit[0]} | ({lit[0] + "_lo", lit[0] + "_hi"} if fn == "glue_fit" else set())
        elif fn in ("glue", "glue_fit") and isinstance(args[0], ast.JoinedStr):
            lead = []  # the constant text before the first placeholder
            for v in args[0].values:
                if not isinstance(v, ast.Constant):
                    break
                lead.append(v.value)
            if lead:  # a name that starts with a placeholder says nothing about which names exist
                prefixes.add("".join(lead))
        elif fn in ("decide", "decide_at_rung"):
            rung = next((kw.value.value for kw in node.keywords if kw.arg == "rung"), "")
            ids = lit[:1] or [c.id for c in verdicts.CLAIMS.values() if c.chapter == Path(nb.path).stem]
            if fn == "decide_at_rung":
                rung = lit[-1]
            for cid in ids:
                key = f"{cid}_{rung}" if rung else cid
                names |= {f"{key}_verdict", f"{key}_kind", f"{key}_reason", f"{key}_short"} | {f"{key}_{k}" for k in verdicts.CLAIMS[cid].template_fields()}
                names |= {f"{key}_headline"} if cid in verdicts.HEADLINES else set()
        elif fn == "decide_rung":  # every claim of the rung, verdict, reason and headline, named <id>_<rung>_...
            names |= {f"{cid}_{lit[0]}_{k}" for cid in verdicts.RUNG_CLAIMS[lit[0]] for k in ("verdict", "kind", "reason", "short")}
            names |= {f"{cid}_{lit[0]}_headline" for cid in verdicts.RUNG_CLAIMS[lit[0]] if cid in verdicts.HEADLINES}
    return names, prefixes


REF = re.compile(r"\{glue:(?:text|md)\}`(?:([\w.]+)\.ipynb::)?([\w]+)(?::[^`]*)?`")


def test_every_glue_reference_resolves():
    glued = {}
    for p in PAGES:
        nb = nbformat.read(p, as_version=4)
        nb.path = str(p)
        glued[p.stem] = glued_names(nb)
    bad = []
    for p in PAGES + [ROOT / "book" / "00_results_at_a_glance.md", ROOT / "book" / "index.md"]:
        text = (p.read_text() if p.suffix == ".md" else
                "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown"))
        for page, name in REF.findall(text):
            names, prefixes = glued[page or p.stem]
            if name not in names and not any(name.startswith(x) for x in prefixes):
                bad.append(f"{p.name}: {page or p.stem}::{name}")
    assert not bad, f"{len(bad)} glue references resolve to nothing: {bad[:20]}"
    # myst-nb reads `page.ipynb::name` without a format as key "page.ipynb:" (a format, :s or :.0f, is required)
    bare = [f"{p.name}: {m}" for p in PAGES + [ROOT / "book" / "00_results_at_a_glance.md"]
            + sorted((ROOT / "book").glob("*.md"))
            for m in re.findall(r"\{glue:text\}`([\w.]+\.ipynb::\w+)`", p.read_text())]
    assert not bare, f"cross-page glue references without a format: {bare[:10]}"
    assert sum(len(n) for n, _ in glued.values()) > 400


def test_decide_rung_glues_each_claim_under_its_rung(monkeypatch):
    names = []
    monkeypatch.setattr(book, "glue", lambda name, value, **kw: names.append(name))
    ev = {cid: "not run yet" for cid in verdicts.RUNG_CLAIMS["paper_net"]}
    out = book.decide_rung("paper_net", ev)
    assert len(out) == len(ev) and all("not decided" in s.text and "at the paper's network" in s.text for s in out)
    assert {f"{cid}_paper_net_verdict" for cid in ev} <= set(names)
    assert not any(n == "fig5_nu_verdict" for n in names)  # the chapter's own names are left alone
