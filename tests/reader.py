"""What a reader of the built site sees, and what they should not: the visible text of a page's article (prose,
tables, captions, cell outputs; not code blocks, inline code or math) checked for values that leaked from
Python or from a degenerate computation, and figures checked for a caption right after them.

Used by tests/test_reader.py on the smoke build of the book, and on hand-made pages with one planted defect each.
Independent of the library: only the HTML is read (BeautifulSoup, which the book theme already installs).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, NavigableString, Tag

# what is never a reader's text: code (inputs, literals, listings), math (typeset from TeX), navigation, scripts
HIDDEN = ("script", "style", "code", "pre", "math", "nav", "svg", "mjx-container")
HIDDEN_CLASSES = ("cell_input", "math", "headerlink", "highlight", "toggle-details__summary", "visually-hidden")

NAN = re.compile(r"(?<![\w.])(nan|NaN|NAN|-?inf)(?![\w])")
PY_VALUE = re.compile(r"(?<![\w.])(True|False|None)(?![\w])")
NEG_ZERO = re.compile(r"(?<![\w.\d])[-\u2212]0(?:\.0+)?(?![\d.])")
SAME_ENDS = re.compile(r"\[\s*([-\u2212]?[\d,.]+(?:e[-+]?\d+)?)\s*,\s*\1\s*\]")
# raw Markdown table syntax: a delimiter row, or a cell separator between words
RAW_TABLE = re.compile(r"\|\s*:?-{3,}|\w\s+\|\s+\w")
IDENT = re.compile(r"(?<![\w/.-])[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+(?![\w/.(-])")
CAPTION_START = re.compile(r"^\s*(Fig(ure)?s?\.?|Eqs?\.?|Equations?|Table)\s", re.I)
# the provenance line every caption of the book ends with (icl_kinetics.book.caption)
CAPTION_END = ("Data:", "Computed while the book builds")


@dataclass(frozen=True)
class Defect:
    kind: str
    text: str

    def __str__(self):
        return f"{self.kind}: {self.text!r}"


def _hidden(node: Tag) -> bool:
    for p in [node, *node.parents]:
        if not isinstance(p, Tag):
            continue
        if p.name in HIDDEN:
            return True
        cls = p.get("class") or []
        if any(c in HIDDEN_CLASSES for c in cls):
            return True
        if p.name == "article":
            return False
    return False


def visible_blocks(html: str) -> list[str]:
    """The article's visible text, one string per block (paragraph, list item, table cell, caption, heading)."""
    soup = BeautifulSoup(html, "html.parser")
    article = soup.find("article") or soup.body or soup
    blocks = []
    for el in article.find_all(["p", "li", "td", "th", "figcaption", "h1", "h2", "h3", "h4", "dt", "dd", "summary",
                                "caption"]):
        if _hidden(el) or el.find(["p", "li", "td"]):
            continue  # nested blocks are read on their own
        parts = [s for s in el.descendants if isinstance(s, NavigableString) and not _hidden(s.parent)]
        text = " ".join("".join(parts).split())
        if text:
            blocks.append(text)
    return blocks


def text_defects(block: str) -> list[Defect]:
    """What is wrong in one block of visible text."""
    found = []
    for kind, pattern in (("nan or inf", NAN), ("Python value", PY_VALUE), ("negative zero", NEG_ZERO),
                          ("interval with equal ends", SAME_ENDS), ("raw table syntax", RAW_TABLE),
                          ("identifier in prose", IDENT)):
        for m in pattern.finditer(block):
            if kind == "Python value" and m.group(1) == "None" and block.strip() != "None" \
                    and not re.search(r"[=(,]\s*$", block[:m.start()]):
                continue  # "None of the runs ...", "None expected." are English; a value stands alone or after =
            found.append(Defect(kind, _around(block, m)))
    return found


def _around(block: str, m: re.Match, width: int = 40) -> str:
    return block[max(0, m.start() - width):m.end() + width]


def table_defects(html: str) -> list[Defect]:
    """A table row with more or fewer cells than its header (a cell's text split the row)."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for table in soup.select("article table"):
        if _hidden(table):
            continue
        rows = table.find_all("tr")
        if not rows:
            continue
        width = len(rows[0].find_all(["th", "td"]))
        for row in rows[1:]:
            cells = row.find_all(["th", "td"])
            if len(cells) != width:
                found.append(Defect("table row of the wrong width",
                                    " | ".join(c.get_text(" ", strip=True) for c in cells)[:120]))
    return found


def figure_defects(html: str) -> list[Defect]:
    """An image in the article without a caption right after it: inside a <figure> with a <figcaption>, or the
    next visible block after the image starts with 'Fig', 'Eq' or 'Table', or ends as the book's captions end
    (their provenance line)."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for img in soup.select("article img"):
        if _hidden(img) or img.find_parent("figure") and img.find_parent("figure").find("figcaption"):
            continue
        nxt = _next_block(img)
        if nxt is None or not (CAPTION_START.match(nxt) or any(end in nxt for end in CAPTION_END)):
            found.append(Defect("figure without a caption after it",
                                f"{img.get('src', '')[-40:]} followed by {(nxt or 'nothing')[:80]!r}"))
    return found


def _next_block(img: Tag) -> str | None:
    """The first visible text after the image, in document order (the same cell's later outputs included)."""
    for el in img.find_all_next(["p", "li", "td", "th", "h1", "h2", "h3", "h4", "figcaption", "img"]):
        if el.name == "img":
            return "[another image]"
        if _hidden(el):
            continue
        text = " ".join(el.get_text(" ").split())
        if text:
            return text
    return None


def page_defects(html: str) -> list[Defect]:
    """Every defect a reader would see on one built page."""
    found = [d for b in visible_blocks(html) for d in text_defects(b)]
    return found + table_defects(html) + figure_defects(html)
