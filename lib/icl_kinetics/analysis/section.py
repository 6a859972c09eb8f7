"""The shape in which the analysis hands a chapter section to its page: the numbers its prose quotes and the
arguments of its figure. Used by every chapter (the page glues ``numbers`` and draws ``figure``)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Section:
    """``numbers``: glue name (without the chapter prefix) -> value, pasted into the prose by ``{glue:text}``;
    ``figure``: keyword arguments of the section's plot function; ``data``: anything else a later section or a
    verdict of the chapter needs."""
    numbers: dict = field(default_factory=dict)
    figure: dict = field(default_factory=dict)
    data: dict = field(default_factory=dict)

    def __getitem__(self, key):
        return self.data[key] if key in self.data else self.numbers[key]
