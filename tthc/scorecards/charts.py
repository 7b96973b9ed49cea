"""The scorecard's two charts, drawn by matplotlib as static SVG to inline in the page.

- `group_bars_svg(groups)`: the six groups against their maximum, one horizontal bar each. The
  maximum is an outlined, hatched bar; the points a dark grey bar over it, so the hatched part that
  shows is the points lost. Each bar is labelled "điểm / tối đa", so nothing depends on colour and
  the chart needs no x axis.
- `trend_svg(trend)`: the total over the last periods, one marker per period. A period without a
  score (total None) breaks the line and is marked by a hollow "×" on the axis with "không có"
  beside it, so it still has its mark. This period's marker is a larger square; every point carries
  its value.

Group names and period names are placed as plain texts, not tick labels: matplotlib's tick
objects are most of a small figure's cost, and a publish draws two charts for every unit.

Both are plain matplotlib (its SVG backend on a `Figure` made without pyplot, so no global state),
greys only, with `svg.fonttype = 'path'`: every glyph is an outline, so the SVG needs no font
(the matplotlib default DejaVu Sans has every Vietnamese letter). `svg.hashsalt` and an empty
metadata make the bytes the same for the same input.

Ids the tests and readers rely on (matplotlib's `gid` on artists becomes the `id` of the `<g>` the
SVG backend wraps each artist in):
- `group-bar-<CODE>`: the points bar of group CODE (one `<g>` holding its `<path>`);
  `group-max-<CODE>`: its maximum; `group-label-<CODE>`: its "điểm / tối đa" label;
- `trend-points`: a `<g>` holding one `<g id="trend-point-<i>">` per trend point (i from 0, oldest
  first; a None total has one too), each holding its marker's one `<use>` (circle, this period's
  square, an unscored period's ×), so a count of `#trend-points > g` is the number of periods;
  `trend-line`: the line through the scored periods; `trend-label-<i>`: the value above a point.

matplotlib names every other group and definition itself (`patch_3`, `DejaVuSans-61`, clip paths
`p…`, markers `m…`, hatches `h…`); two charts inlined in one page would repeat those ids, so each
chart's own ids get a prefix (`gb-`, `tr-`) and its references (`href="#…"`, `url(#…)`) with them.
The ids above keep their names.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from tthc.scorecards.model import GroupScore, TrendPoint
from tthc.scorecards.numbers import fmt_points

# Greys that stay apart in black-and-white print.
INK = "#222222"
BAR = "#5a5a5a"
MAX_EDGE = "#444444"
HATCH_COLOUR = "#9a9a9a"
GRID = "#d5d5d5"

_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "tthc-scorecard",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": MAX_EDGE,
    "axes.linewidth": 0.6,
    "xtick.color": INK,
    "ytick.color": INK,
    "xtick.major.size": 2.5,
    "ytick.major.size": 0,
    "hatch.color": HATCH_COLOUR,
    "hatch.linewidth": 0.6,
}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
_KEEP_ID = re.compile(r"^(group-(bar|max|label)-|trend-)")
_PLAIN = FuncFormatter(lambda v, _: f"{v:g}")


class _Marks(Artist):
    """Draws its children inside one SVG group whose id is this artist's gid."""

    def __init__(self, gid: str, children: list[Artist]) -> None:
        super().__init__()
        self.set_gid(gid)
        self.set_zorder(3)
        self._marks = children

    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        renderer.open_group("marks", gid=self.get_gid())
        for child in self._marks:
            child.draw(renderer)
        renderer.close_group("marks")
        self.stale = False


def group_bars_svg(groups: Sequence[GroupScore]) -> str:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 0.36 * len(groups) + 0.1), dpi=72)
        ax = fig.add_axes((0.30, 0.02, 0.62, 0.96))
        top = max([float(g.max_points) for g in groups] + [1.0])
        rows = list(range(len(groups)))[::-1]  # the first group on top
        for row, g in zip(rows, groups):
            ax.barh(
                row,
                float(g.max_points),
                height=0.62,
                color="white",
                edgecolor=MAX_EDGE,
                linewidth=0.7,
                hatch="////",
                gid=f"group-max-{g.group_code}",
            )
            ax.barh(
                row,
                float(g.points),
                height=0.62,
                color=BAR,
                edgecolor=INK,
                linewidth=0.7,
                gid=f"group-bar-{g.group_code}",
            )
            ax.text(
                float(g.max_points) + top * 0.015,
                row,
                f"{fmt_points(g.points)} / {fmt_points(g.max_points)}",
                va="center",
                ha="left",
                fontsize=8,
                color=INK,
                gid=f"group-label-{g.group_code}",
            )
        # Names and values are plain texts, not tick labels: ticks are the costly part of a figure, and
        # every bar carries its own numbers, so the x axis has none.
        for row, g in zip(rows, groups):
            ax.text(-top * 0.02, row, g.group_name, va="center", ha="right", fontsize=8.5, color=INK)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlim(0, top * 1.28)
        ax.set_ylim(-0.6, len(groups) - 0.4)
        for side in ("top", "right", "bottom"):
            ax.spines[side].set_visible(False)
        return _svg(fig, "gb-")


def trend_svg(trend: Sequence[TrendPoint]) -> str:
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(7.0, 2.0), dpi=72)
        ax = fig.add_axes((0.07, 0.16, 0.91, 0.80))
        values = [None if t.total is None else float(t.total) for t in trend]
        scored = [v for v in values if v is not None]
        low = max(0.0, math.floor(min(scored, default=0.0) - 8))
        high = min(100.0, math.ceil(max(scored, default=92.0) + 8))
        if high - low < 10:
            low, high = max(0.0, high - 10), max(high, 10.0)
        span = high - low
        xs = list(range(len(trend)))
        ax.plot(xs, [math.nan if v is None else v for v in values], color=INK, linewidth=1.3, gid="trend-line")
        marks = []
        for i, (point, value) in enumerate(zip(trend, values)):
            last = i == len(trend) - 1
            if value is None:
                mark = Line2D(
                    [i],
                    [low],
                    marker="X",
                    markersize=7,
                    markerfacecolor="white",
                    markeredgecolor=INK,
                    markeredgewidth=0.9,
                    linestyle="none",
                )
                ax.text(
                    i,
                    low + span * 0.06,
                    "không có",
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                    color=INK,
                    gid=f"trend-label-{i}",
                )
            else:
                mark = Line2D(
                    [i],
                    [value],
                    marker="s" if last else "o",
                    markersize=7 if last else 5,
                    markerfacecolor=INK if last else "white",
                    markeredgecolor=INK,
                    markeredgewidth=1.1,
                    linestyle="none",
                )
                ax.text(
                    i,
                    value + span * 0.045,
                    fmt_points(point.total),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color=INK,
                    fontweight="bold" if last else "normal",
                    gid=f"trend-label-{i}",
                )
            mark.set_gid(f"trend-point-{i}")
            mark.set_transform(ax.transData)
            mark.set_clip_on(False)
            mark.set_figure(fig)
            marks.append(mark)
        ax.add_artist(_Marks("trend-points", marks))
        for i, point in enumerate(trend):  # period names as texts under the axis (cheaper than tick labels)
            ax.text(i, low - span * 0.05, point.label, ha="center", va="top", fontsize=7.5, color=INK)
        ax.set_xticks([])
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 5, 10], integer=True))
        ax.set_xlim(-0.5, max(len(trend), 1) - 0.5)
        ax.set_ylim(low, high)
        ax.yaxis.set_major_formatter(_PLAIN)
        ax.tick_params(axis="y", length=2.5)
        _frame(ax, grid_axis="y")
        return _svg(fig, "tr-")


def _frame(ax, grid_axis: str) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.5)
    ax.set_axisbelow(True)


def _svg(fig: Figure, prefix: str) -> str:
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata=_NO_METADATA)
    text = out.getvalue()
    text = text[text.index("<svg") :]  # no XML prolog or DOCTYPE inside HTML
    return _scope_ids(text, prefix)


_ID_OR_REF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def _scope_ids(svg: str, prefix: str) -> str:
    """Prefix matplotlib's own ids (and the references to them); keep the documented ones."""

    def rename(match: re.Match) -> str:
        head, name = match.group(1), match.group(2)
        return head + (name if _KEEP_ID.match(name) else prefix + name)

    return _ID_OR_REF.sub(rename, svg)
