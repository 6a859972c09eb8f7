"""Figures keep their legends outside the data: every legend of the plots package goes through
plots.style.legend, which anchors it beside the panel."""
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from icl_kinetics import plots  # noqa: E402

PLOTS = Path(plots.__file__).parent


def test_every_legend_goes_through_style_legend():
    direct = [f"{p.name}:{i}" for p in PLOTS.glob("*.py") if p.name != "style.py"
              for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\.legend\(", line)]
    assert not direct, f"legends drawn inside the data: {direct}"


def test_style_legend_sits_beside_the_panel():
    fig, ax = plots.figure()
    ax.plot([0, 1], [0, 1], label="a line")
    leg = plots.legend(ax)
    fig.canvas.draw()
    box = leg.get_window_extent().transformed(ax.transAxes.inverted())
    assert box.x0 >= 1.0  # right of the axes: never over the data
