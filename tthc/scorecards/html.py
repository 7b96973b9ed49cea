"""A Scorecard as one self-contained HTML page (Vietnamese), the thing a unit's head reads.

`render_html(card)` fills `templates/scorecard.html.j2` (Jinja2, autoescaped: unit names and
remarks are text, never markup) with:
- the style sheet `templates/scorecard.css`, inlined, and the embedded font (fonts.py) as
  base64 @font-face: the page loads nothing, so it opens the same offline, from a mail attachment or
  a USB stick, and prints the same in Chromium (pdf.py);
- the two charts as inline SVG from charts.py (matplotlib, glyphs as outlines).

Sections, each a <section> with a stable id the tests and any reader can address: tong-quan
(unit, period, tạm tính/chính thức, data as of; the total, band, rank, change), nhom-chi-so (the six
groups, chart), xu-huong (the total's trend, chart), chi-so (every metric by group), viec-can-lam
(the three things to do and the month-end projection, or a sentence saying there are none),
don-vi-truc-thuoc (the units below with their key rates against thresholds), doi-soat (our total
beside the portal's official one), ghi-chu (remarks and when the card was made).

Key rates of the units below are classed against their KeyRate thresholds: rate ≥ good_at is
"đạt" (✓), warn_at ≤ rate < good_at "cần cố gắng" (!), below warn_at "thấp" (✗), no rate "—".
Each class has a background (pale green, amber, pale red), a left rule (none, dashed, heavy) AND its
symbol, so the table reads in black-and-white print (the GOV.UK rule: colour is never the only
signal). The legend above the table says the same. Number formats are in numbers.py.

The font is the embedded subset (fonts.FAMILY) with the reader's sans-serif behind it only as a
fallback the browser test proves unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup

from tthc.scorecards import charts, fonts
from tthc.scorecards.model import GROUPS, KeyRate, MetricLine, Scorecard
from tthc.scorecards.numbers import fmt_change, fmt_count, fmt_percent, fmt_points, fmt_time

TEMPLATES = Path(__file__).parent / "templates"

# CapDonVi of the one-stop source (one-stop-api contract) as an official names it.
LEVELS = {"TINH": "Cấp tỉnh", "SO": "Sở, ban, ngành", "HUYEN": "Cấp huyện", "XA": "Cấp xã", "CHI_NHANH": "Chi nhánh"}
KINDS = {"month": "Tháng", "quarter": "Quý", "year": "Năm", "month_to_date": "Tháng đến nay"}


@dataclass(frozen=True)
class RateClass:
    css: str  # muc-dat, muc-can-co-gang, muc-thap, muc-khong-co
    symbol: str
    words: str


DAT = RateClass("muc-dat", "✓", "đạt")
CAN_CO_GANG = RateClass("muc-can-co-gang", "!", "cần cố gắng")
THAP = RateClass("muc-thap", "✗", "thấp")
KHONG_CO = RateClass("muc-khong-co", "—", "không có số liệu")
RATE_CLASSES = (DAT, CAN_CO_GANG, THAP, KHONG_CO)


def rate_class(rate: Decimal | None, key_rate: KeyRate) -> RateClass:
    if rate is None:
        return KHONG_CO
    if rate >= key_rate.good_at:
        return DAT
    if rate >= key_rate.warn_at:
        return CAN_CO_GANG
    return THAP


def period_key_label(key: str | None) -> str:
    """'2025-06' → 'tháng 6/2025', '2025-Q2' → 'quý 2/2025', '2025' → 'năm 2025' (others as given)."""
    if not key:
        return ""
    parts = key.split("-")
    if len(parts) == 2 and parts[1].isdigit():
        return f"tháng {int(parts[1])}/{parts[0]}"
    if len(parts) == 2 and parts[1].startswith("Q"):
        return f"quý {parts[1][1:]}/{parts[0]}"
    if len(parts) == 1 and key.isdigit():
        return f"năm {key}"
    return key


@dataclass(frozen=True)
class GroupBlock:
    code: str
    name: str
    points: Decimal
    max_points: Decimal
    metrics: list[MetricLine]

    @property
    def lost_points(self) -> Decimal:
        return self.max_points - self.points


def group_blocks(card: Scorecard) -> list[GroupBlock]:
    scores = {g.group_code: g for g in card.groups}
    names = dict(GROUPS)
    order = [code for code, _ in GROUPS] + [g.group_code for g in card.groups if g.group_code not in names]
    blocks = []
    for code in order:
        metrics = [m for m in card.metrics if m.group_code == code]
        score = scores.get(code)
        if score is None and not metrics:
            continue
        blocks.append(
            GroupBlock(
                code=code,
                name=score.group_name if score else names.get(code, code),
                points=score.points if score else sum((m.points for m in metrics), Decimal(0)),
                max_points=score.max_points if score else sum((m.max_points for m in metrics), Decimal(0)),
                metrics=metrics,
            )
        )
    return blocks


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["j2", "html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(points=fmt_points, percent=fmt_percent, count=fmt_count, change=fmt_change, time=fmt_time)
    return env


@lru_cache(maxsize=1)
def _style() -> Markup:
    css = (TEMPLATES / "scorecard.css").read_text(encoding="utf-8")
    css = css.replace("__FAMILY__", fonts.FAMILY)
    return Markup(fonts.font_face_css() + "\n" + css)


def render_html(card: Scorecard) -> str:
    """The whole page: one string, UTF-8 when written, nothing to fetch."""
    from tthc.actions.labels import NOT_PROJECTED, stake_verb

    metric_names = {m.metric_code: m.metric_name for m in card.metrics}
    change = card.change
    difference = None if card.official_total is None else card.total - card.official_total
    return (
        _environment()
        .get_template("scorecard.html.j2")
        .render(
            card=card,
            style=_style(),
            level=LEVELS.get(card.unit_level or "", ""),
            kind=KINDS.get(card.period.kind, card.period.kind),
            previous_label=period_key_label(card.previous_key),
            change=change,
            difference=difference,
            blocks=group_blocks(card),
            group_chart=Markup(charts.group_bars_svg(card.groups)),
            trend_chart=Markup(charts.trend_svg(card.trend)) if card.trend else None,
            metric_names=metric_names,
            stake_verb=stake_verb,
            not_projected=NOT_PROJECTED,
            rate_class=rate_class,
            rate_classes=RATE_CLASSES,
        )
    )
