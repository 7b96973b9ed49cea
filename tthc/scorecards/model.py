"""What a scorecard says, independent of where it was read and how it is drawn.

The reader (tthc/scorecards/data.py) fills these from the marts and the published lists; the
renderer (tthc/scorecards/html.py, charts.py, pdf.py) draws them. Numbers are Decimals as the
warehouse holds them, unrounded; rounding happens only when drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from tthc.metrics.registry import scorecard_groups

PeriodKind = Literal["month", "quarter", "year", "month_to_date"]

# The six groups of the 766 index as the portal shows them, (code, Vietnamese name) in the order
# the scorecard draws them: seed metric_groups (draw_order).
GROUPS: tuple[tuple[str, str], ...] = scorecard_groups()


@dataclass(frozen=True)
class ScorecardPeriod:
    kind: PeriodKind
    key: str  # '2025-07', '2025-Q3', '2025', or for the month to date its day '2025-07-31'
    start: date  # first day (inclusive)
    end: date  # day after the period (exclusive); for the month to date the month's end
    label: str  # Vietnamese: 'Tháng 7/2025', 'Quý III/2025', 'Năm 2025', 'Tháng 7/2025 (đến 31/07)'


@dataclass(frozen=True)
class MetricLine:
    metric_code: str  # '1.1' .. '5.3'
    metric_name: str  # Vietnamese, from the scoring rules
    group_code: str  # one of GROUPS
    numerator: Decimal | None
    denominator: Decimal | None
    rate: Decimal | None  # None with no denominator, and for 2.2 (monitoring only)
    points: Decimal
    max_points: Decimal
    applies: bool  # False: not applicable to the level or empty (scored by rule)

    @property
    def lost_points(self) -> Decimal:
        return self.max_points - self.points


@dataclass(frozen=True)
class GroupScore:
    group_code: str
    group_name: str
    points: Decimal
    max_points: Decimal


@dataclass(frozen=True)
class TrendPoint:
    period_key: str
    label: str  # short Vietnamese axis label: 'T7/25', 'Q3/25', '2025'
    total: Decimal | None  # None: no score that period (drawn as a gap, still one mark slot)


@dataclass(frozen=True)
class KeyRate:
    """A rate the sub-unit table colours against thresholds (tthc/scorecards/key_rates.yml)."""

    metric_code: str
    label: str  # column header, Vietnamese
    good_at: Decimal  # rate >= good_at: đạt
    warn_at: Decimal  # warn_at <= rate < good_at: cần cố gắng; below: thấp


@dataclass(frozen=True)
class ChildUnit:
    unit_code: str
    unit_name: str
    unit_level: str | None
    total: Decimal | None
    band: str | None
    rank: int | None
    rates: dict[str, Decimal | None]  # metric_code (of key_rates) -> rate


@dataclass(frozen=True)
class ThingToDo:
    rank: int
    metric_code: str
    list_name: str
    list_title: str  # tthc/actions/labels.py LIST_TITLES
    points_at_stake: Decimal
    row_count: int


@dataclass(frozen=True)
class Projection:
    at: datetime  # the lists' moment T
    total_now: Decimal
    total_min: Decimal
    total_max: Decimal
    rate_2_1_min: Decimal | None
    rate_2_1_max: Decimal | None
    undecided: int


@dataclass(frozen=True)
class Scorecard:
    unit_code: str
    unit_name: str
    unit_level: str | None
    period: ScorecardPeriod
    final: bool  # False: provisional (tạm tính)
    data_as_of: datetime  # the sources' bound the marts (or the lists' T) were built on
    total: Decimal
    max_score: Decimal
    band: str  # Xếp loại: Tốt, Khá, Trung bình, Yếu
    rank: int | None  # among units with the same parent and level
    rank_of: int | None  # how many such units
    previous_key: str | None  # the period before (for the month to date: the month before)
    previous_total: Decimal | None
    groups: list[GroupScore]  # six, in GROUPS order
    trend: list[TrendPoint]  # up to 12, oldest first, ending with this period
    metrics: list[MetricLine]  # 1.1 .. 5.3 in code order
    three_things: list[ThingToDo]  # from the latest published lists (may be empty)
    projection: Projection | None  # the month-to-date projection of those lists
    children: list[ChildUnit]  # units directly below, by total descending
    key_rates: list[KeyRate]
    official_total: Decimal | None  # the portal's TONG for the period, None when it has none
    generated_at: datetime
    notes: list[str] = field(default_factory=list)  # Vietnamese remarks the reader adds (e.g. no portal score)
    lists_at: datetime | None = None  # the moment T of the lists three_things and projection come from

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_total is None else self.total - self.previous_total
