"""One formatter for every pasted value (``{glue:text}``), applied after MyST-NB pastes it.

* Every value goes through the library's one formatter (:func:`icl_kinetics.prose.fmt`, as table cells do): NaN
  becomes a dash, infinity its sign, and a negative zero such as ``-0`` or ``-0.00`` loses its sign.
* A pasted sentence (a verdict's reason, a headline) may carry inline math between ``$`` and inline code between
  backticks, as it does on its own page through ``{glue:md}``: they become math and code nodes here, so the same
  sentence reads the same on the scorecard, which can paste only text from another page.

``split_markup`` is plain so that tests can call it without Sphinx.
"""
from __future__ import annotations

import re

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

from icl_kinetics.prose import fmt

MARKUP = re.compile(r"\$([^$]+)\$|`([^`]+)`")


def split_markup(text: str) -> list[tuple[str, str]]:
    """[(kind, text)] with kind 'text', 'math' or 'code': the inline math and code of a pasted sentence."""
    parts, at = [], 0
    for m in MARKUP.finditer(text):
        if m.start() > at:
            parts.append(("text", text[at:m.start()]))
        parts.append(("math", m.group(1)) if m.group(1) is not None else ("code", m.group(2)))
        at = m.end()
    if at < len(text):
        parts.append(("text", text[at:]))
    return parts


class ReaderText(SphinxPostTransform):
    default_priority = 11  # after myst-nb pastes cross-document glue (5) and the verdict badges (10)

    def apply(self, **kwargs):
        for node in list(self.document.findall(nodes.inline)):
            if "pasted-text" not in node.get("classes", []) or len(node.children) != 1 \
                    or not isinstance(node.children[0], nodes.Text):
                continue
            text = fmt(node.astext())  # the library's one formatter, as for table cells
            children = []
            for kind, part in split_markup(text):
                if kind == "math":
                    children.append(nodes.math(part, part))
                elif kind == "code":
                    children.append(nodes.literal(part, part))
                else:
                    children.append(nodes.Text(part))
            node.children = []
            node.extend(children)


def setup(app):
    app.add_post_transform(ReaderText)
    # pasted math may land on a page with no math of its own: load MathJax on every page (offline copy)
    app.set_html_assets_policy("always")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
