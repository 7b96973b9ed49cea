"""Read the scorecards of one period for every unit at once, as the publisher, in one snapshot.

    data = read_period(dsn, "2025-07", now)     # or a ScorecardPeriod, or "mtd"
    card = data.card("000.00.00.H56")           # a tthc.scorecards.model.Scorecard

One REPEATABLE READ, read-only transaction (the tables read locked ACCESS SHARE first, so a
swap of the marts or of the lists waits for it rather than changing under it) and a handful of
queries for the whole period; the cards are then assembled per unit in memory.

Months, quarters and years come from the marts: mart_score_monthly (groups, total, rank_in_level,
rating_band; the trend and the previous period too), mart_metric_monthly (every metric),
mart_portal_reconciliation (item TONG: the portal's official total). The month to date comes
from the published lists' moment T: act_points_at_stake at T (every metric month to date), summed
into groups and a total here, banded and ranked as mart_score_monthly does (tthc/scorecards/
bands.py reads the same dbt vars); its previous period and trend's months come from the marts.
Every card carries the three things and the projection of the latest published lists (schema
actions) for its unit, labelled with their T. No personal data is read: no list rows, no names.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import psycopg
from psycopg.rows import dict_row, tuple_row

from tthc.actions.labels import LIST_TITLES
from tthc.paths import DBT_PROJECT_DIR
from tthc.province_package.monthly import source_bounds
from tthc.province_package.values import VN_TZ
from tthc.scorecards import periods as P
from tthc.scorecards.bands import band_of, competition_ranks
from tthc.scorecards.key_rates import load_key_rates
from tthc.scorecards.model import (
    GROUPS,
    ChildUnit,
    GroupScore,
    KeyRate,
    MetricLine,
    Projection,
    Scorecard,
    ScorecardPeriod,
    ThingToDo,
    TrendPoint,
)
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

SCORES = "marts.mart_score_monthly"
METRICS = "marts.mart_metric_monthly"
RECONCILIATION = "marts.mart_portal_reconciliation"
MARTS = (SCORES, METRICS, RECONCILIATION)
REFRESH, THREE, PROJECTION, POINTS = (
    "actions.act_refresh",
    "actions.act_three_things",
    "actions.act_projection",
    "actions.act_points_at_stake",
)
LISTS = (REFRESH, THREE, PROJECTION)
UNITS = "core.dim_unit"
GROUP_NAMES = dict(GROUPS)
GROUP_COLUMNS = {code: f"score_{code.lower()}" for code, _ in GROUPS}
MONITORING_ONLY = "2.2"  # no rate, no points (mart_metric_monthly's rule)

NO_OFFICIAL = "Cổng Dịch vụ công quốc gia chưa công bố tổng điểm của đơn vị cho kỳ này."
NO_BOUND = "Chưa rõ mốc dữ liệu nguồn (chưa có lần tải dữ liệu nào được ghi nhận)."


class ScorecardsUnavailable(LookupError):
    """The period has no scores to read (marts or lists missing, or no rows for it)."""


class UnknownUnit(LookupError):
    """The unit has no score in the period (not a unit then, or a wrong code)."""


@dataclass(frozen=True)
class UnitScore:
    unit_code: str
    unit_name: str
    unit_level: str | None
    parent_unit_code: str | None
    groups: dict[str, Decimal]
    total: Decimal
    max_score: Decimal
    band: str
    rank: int | None
    rank_of: int | None


@dataclass
class PeriodData:
    """Everything the scorecards of one period need, for every unit of the period."""

    period: ScorecardPeriod
    final: bool
    data_as_of: datetime
    scores: dict[str, UnitScore]
    metrics: dict[str, list[MetricLine]]
    previous: ScorecardPeriod
    previous_totals: dict[str, Decimal]
    trend: list[ScorecardPeriod]
    trend_totals: dict[tuple[str, str], Decimal]  # (unit, period_key) -> total of the marts' periods
    official: dict[str, Decimal | None]
    key_rates: list[KeyRate]
    lists_at: datetime | None = None
    three_things: dict[str, list[ThingToDo]] = field(default_factory=dict)
    projections: dict[str, Projection] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # for every card of the period

    @property
    def units(self) -> list[str]:
        return sorted(self.scores)

    def children_of(self, unit: str) -> list[str]:
        return [u for u, s in self.scores.items() if s.parent_unit_code == unit]

    def card(self, unit: str, generated_at: datetime) -> Scorecard:
        score = self.scores.get(unit)
        if score is None:
            raise UnknownUnit(
                f"unit {unit!r} has no score for {self.period.key} ({self.period.label}): "
                "not a unit in that period, or a wrong code"
            )
        trend = [
            TrendPoint(
                p.key, P.short_label(p), score.total if p == self.period else self.trend_totals.get((unit, p.key))
            )
            for p in self.trend
        ]
        children = sorted(
            (self._child(c) for c in self.children_of(unit)),
            key=lambda c: (-(c.total if c.total is not None else Decimal(-1)), c.unit_code),
        )
        official = self.official.get(unit)
        notes = list(self.notes) + ([NO_OFFICIAL] if official is None else [])
        return Scorecard(
            unit_code=unit,
            unit_name=score.unit_name,
            unit_level=score.unit_level,
            period=self.period,
            final=self.final,
            data_as_of=self.data_as_of,
            total=score.total,
            max_score=score.max_score,
            band=score.band,
            rank=score.rank,
            rank_of=score.rank_of,
            previous_key=self.previous.key,
            previous_total=self.previous_totals.get(unit),
            groups=[
                GroupScore(code, name, score.groups.get(code, Decimal(0)), self._group_max(unit, code))
                for code, name in GROUPS
            ],
            trend=trend,
            metrics=list(self.metrics.get(unit, [])),
            three_things=list(self.three_things.get(unit, [])),
            projection=self.projections.get(unit),
            children=children,
            key_rates=list(self.key_rates),
            official_total=official,
            generated_at=generated_at,
            notes=notes,
            lists_at=self.lists_at,
        )

    def _group_max(self, unit: str, group: str) -> Decimal:
        return sum((m.max_points for m in self.metrics.get(unit, []) if m.group_code == group), Decimal(0))

    def _child(self, unit: str) -> ChildUnit:
        s = self.scores[unit]
        rates = {m.metric_code: m.rate for m in self.metrics.get(unit, [])}
        return ChildUnit(
            unit_code=unit,
            unit_name=s.unit_name,
            unit_level=s.unit_level,
            total=s.total,
            band=s.band,
            rank=s.rank,
            rates={k.metric_code: rates.get(k.metric_code) for k in self.key_rates},
        )


# ---- reading -------------------------------------------------------------------------------------


def read_period(
    dsn: Dsn, period: str | ScorecardPeriod, now: datetime, key_rates: list[KeyRate] | None = None
) -> PeriodData:
    """The period's data for every unit, as the publisher, in one snapshot (see the module doc).
    `period` as a key ('2025-07', '2025-Q3', '2025', '2025-07-31') or 'mtd' (the published lists'
    day). Raises BadPeriod, ScorecardsUnavailable with a message for people."""
    from tthc.warehouse.stages import as_stage

    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if isinstance(period, str) and period.strip().lower() != P.MTD:
        period = P.parse_period(period)
    key_rates = key_rates if key_rates is not None else load_key_rates()
    publisher = as_stage(dsn, "publisher")
    with psycopg.connect(publisher.conninfo(), autocommit=True, row_factory=dict_row) as conn:
        conn.execute("set time zone 'Asia/Ho_Chi_Minh'")
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            present = {
                name
                for name in (*MARTS, *LISTS, POINTS, UNITS)
                if conn.execute("select to_regclass(%s) is not null as ok", (name,)).fetchone()["ok"]
            }
            if present:
                conn.execute(f"lock table {', '.join(sorted(present))} in access share mode")
            lists_at = _lists_at(conn) if set(LISTS) <= present else None
            if isinstance(period, str):  # 'mtd': the published lists' day
                if lists_at is None:
                    raise ScorecardsUnavailable(
                        "no published lists (schema actions): the month to date needs a "
                        "refresh of the lists first (`tthc actions refresh`)"
                    )
                period = P.month_to_date(lists_at.astimezone(VN_TZ).date())
            if period.kind == "month_to_date":
                data = _read_month_to_date(conn, period, present, lists_at, key_rates)
            else:
                data = _read_marts_period(conn, period, present, now, key_rates)
            if lists_at is not None:
                data.lists_at = lists_at
                data.three_things, data.projections = _read_lists(conn, lists_at)
    return data


def _require(present: set[str], names, what: str) -> None:
    missing = [n for n in names if n not in present]
    if missing:
        raise ScorecardsUnavailable(
            f"{what}: {', '.join(missing)} missing (or not readable by the publisher); "
            "build the marts / refresh the lists first"
        )


def _lists_at(conn: psycopg.Connection) -> datetime | None:
    return conn.execute(f"select max(at_ts) as at from {REFRESH}").fetchone()["at"]


def _read_marts_period(
    conn: psycopg.Connection, period: ScorecardPeriod, present: set[str], now: datetime, key_rates: list[KeyRate]
) -> PeriodData:
    _require(present, MARTS, f"scorecards of {period.key}")
    held = conn.execute(
        f"select min(period_start) as first from {SCORES} where period_type = %s", (period.kind,)
    ).fetchone()["first"]
    trend = [p for p in P.trend_periods(period) if held is not None and p.start >= held or p == period]
    previous = P.previous(period)
    keys = sorted({p.key for p in trend} | {previous.key})
    rows = conn.execute(
        f"select * from {SCORES} where period_type = %s and period_key = any(%s)", (period.kind, keys)
    ).fetchall()
    current = [r for r in rows if r["period_key"] == period.key]
    if not current:
        raise ScorecardsUnavailable(
            f"no scores for {period.key} ({period.kind}) in {SCORES}: are the marts built for that period?"
        )
    totals = {(r["unit_code"], r["period_key"]): r["total_score"] for r in rows}
    scores = {}
    counts: dict[tuple, int] = {}
    for r in current:
        counts[(r["parent_unit_code"], r["unit_level"])] = counts.get((r["parent_unit_code"], r["unit_level"]), 0) + 1
    for r in current:
        scores[r["unit_code"]] = UnitScore(
            unit_code=r["unit_code"],
            unit_name=r["unit_name"],
            unit_level=r["unit_level"],
            parent_unit_code=r["parent_unit_code"],
            groups={code: r[column] for code, column in GROUP_COLUMNS.items()},
            total=r["total_score"],
            max_score=r["max_score"],
            band=r["rating_band"],
            rank=r["rank_in_level"],
            rank_of=counts[(r["parent_unit_code"], r["unit_level"])],
        )
    metrics: dict[str, list[MetricLine]] = {}
    for r in conn.execute(
        f"select unit_code, group_code, metric_code, metric_name, numerator, denominator, rate, points, "
        f"max_points, applies from {METRICS} where period_type = %s and period_key = %s",
        (period.kind, period.key),
    ):
        metrics.setdefault(r.pop("unit_code"), []).append(MetricLine(**r))
    for lines in metrics.values():
        lines.sort(key=lambda m: _code_order(m.metric_code))
    bounds = _source_bounds(conn)
    notes = [] if bounds else [NO_BOUND]
    return PeriodData(
        period=period,
        final=P.is_final(period, now),
        data_as_of=min(bounds) if bounds else now,
        scores=scores,
        metrics=metrics,
        previous=previous,
        previous_totals={u: t for (u, k), t in totals.items() if k == previous.key},
        trend=trend,
        trend_totals=totals,
        official=_official(conn, period.kind, period.key),
        key_rates=key_rates,
        notes=notes,
    )


def _read_month_to_date(
    conn: psycopg.Connection,
    period: ScorecardPeriod,
    present: set[str],
    lists_at: datetime | None,
    key_rates: list[KeyRate],
) -> PeriodData:
    _require(present, (REFRESH, POINTS, UNITS), f"the month to date {period.key}")
    if lists_at is None or lists_at.astimezone(VN_TZ).date().isoformat() != period.key:
        said = lists_at.astimezone(VN_TZ).isoformat() if lists_at else "none"
        raise ScorecardsUnavailable(
            f"the month to date {period.key} needs the lists of that day; the published "
            f"lists are of {said} (use --period mtd for them)"
        )
    day = lists_at.astimezone(VN_TZ).date()
    rules = metric_rules(day)
    lines: dict[str, list[MetricLine]] = {}
    for r in conn.execute(
        f"select unit_code, metric_code, numerator, denominator, applies, max_points, points "
        f"from {POINTS} where at_ts = %s",
        (lists_at,),
    ):
        group, name = rules.get(r["metric_code"], (None, r["metric_code"]))
        if group is None:
            raise ScorecardsUnavailable(
                f"{POINTS}: metric {r['metric_code']} is not in the scoring rules "
                f"effective on {day.isoformat()} (dbt/seeds/metric_scoring_rules.csv)"
            )
        lines.setdefault(r["unit_code"], []).append(
            MetricLine(
                metric_code=r["metric_code"],
                metric_name=name,
                group_code=group,
                numerator=r["numerator"],
                denominator=r["denominator"],
                rate=_rate(r["metric_code"], r["numerator"], r["denominator"]),
                points=r["points"],
                max_points=r["max_points"],
                applies=r["applies"],
            )
        )
    if not lines:
        raise ScorecardsUnavailable(f"{POINTS} has no rows at {lists_at.isoformat()}")
    for unit_lines in lines.values():
        unit_lines.sort(key=lambda m: _code_order(m.metric_code))
    units = {
        r["unit_code"]: r
        for r in conn.execute(
            f"select unit_code, unit_name, unit_level, parent_unit_code from {UNITS} where unit_code = any(%s) "
            "and valid_from <= %s and (valid_to is null or valid_to >= %s)",
            (list(lines), day, day),
        )
    }
    totals = {u: sum((m.points for m in ls), Decimal(0)) for u, ls in lines.items() if u in units}
    ranks = competition_ranks(totals, {u: (units[u]["parent_unit_code"], units[u]["unit_level"]) for u in totals})
    scores = {}
    for unit, total in totals.items():
        groups = {code: sum((m.points for m in lines[unit] if m.group_code == code), Decimal(0)) for code, _ in GROUPS}
        rank, of = ranks[unit]
        u = units[unit]
        scores[unit] = UnitScore(
            unit,
            u["unit_name"],
            u["unit_level"],
            u["parent_unit_code"],
            groups,
            total,
            sum((m.max_points for m in lines[unit]), Decimal(0)),
            band_of(total),
            rank,
            of,
        )
    month = P.month(period.start.year, period.start.month)
    previous = P.previous(period)
    trend = P.trend_periods(period)
    totals_before = {}
    if SCORES in present:
        held = conn.execute(f"select min(period_start) as first from {SCORES} where period_type = 'month'").fetchone()[
            "first"
        ]
        trend = [p for p in trend if held is not None and p.start >= held or p == period]
        before = [p.key for p in trend if p != period]
        totals_before = {
            (r["unit_code"], r["period_key"]): r["total_score"]
            for r in conn.execute(
                f"select unit_code, period_key, total_score from {SCORES} where period_type = 'month' "
                "and period_key = any(%s)",
                (before,),
            )
        }
    local = lists_at.astimezone(VN_TZ)
    notes = [
        f"Điểm tháng {period.start.month}/{period.start.year} tính đến {local:%H:%M} ngày {local:%d/%m/%Y} "
        "(tạm tính, chưa phải kết quả cả tháng)."
    ]
    return PeriodData(
        period=period,
        final=False,
        data_as_of=lists_at,
        scores=scores,
        metrics=lines,
        previous=previous,
        previous_totals={u: t for (u, k), t in totals_before.items() if k == previous.key},
        trend=trend,
        trend_totals=totals_before,
        official=_official(conn, "month", month.key) if RECONCILIATION in present else {},
        key_rates=key_rates,
        notes=notes,
    )


def _read_lists(conn: psycopg.Connection, at: datetime) -> tuple[dict, dict]:
    three: dict[str, list[ThingToDo]] = {}
    for r in conn.execute(
        f"select unit_code, rank, metric_code, list_name, points_at_stake, row_count from {THREE} "
        "where at_ts = %s order by unit_code, rank",
        (at,),
    ):
        three.setdefault(r["unit_code"], []).append(
            ThingToDo(
                rank=r["rank"],
                metric_code=str(r["metric_code"]),
                list_name=r["list_name"],
                list_title=LIST_TITLES.get(r["list_name"], r["list_name"]),
                points_at_stake=r["points_at_stake"],
                row_count=r["row_count"],
            )
        )
    projections = {
        r["unit_code"]: Projection(
            at=at,
            total_now=r["total_points_now"],
            total_min=r["total_points_min"],
            total_max=r["total_points_max"],
            rate_2_1_min=r["rate_2_1_min"],
            rate_2_1_max=r["rate_2_1_max"],
            undecided=r["undecided"],
        )
        for r in conn.execute(
            f"select unit_code, total_points_now, total_points_min, total_points_max, rate_2_1_min, "
            f"rate_2_1_max, undecided from {PROJECTION} where at_ts = %s",
            (at,),
        )
    }
    return three, projections


def _official(conn: psycopg.Connection, kind: str, key: str) -> dict[str, Decimal | None]:
    return {
        r["unit_code"]: r["portal_points"]
        for r in conn.execute(
            f"select unit_code, portal_points from {RECONCILIATION} where period_type = %s and period_key = %s "
            "and item_code = 'TONG'",
            (kind, key),
        )
    }


def _rate(code: str, numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if code == MONITORING_ONLY or numerator is None or not denominator:
        return None
    return Decimal(numerator) / Decimal(denominator)


def _code_order(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split(".") if part.isdigit())


def _source_bounds(conn: psycopg.Connection) -> list[datetime]:
    """tthc.province_package.monthly.source_bounds (the package's manifest reads the same), in this snapshot."""
    if not _exists(conn, "meta.watermarks"):
        return []
    conn.row_factory = tuple_row
    try:
        return [b for b in source_bounds(conn).values() if b is not None]
    finally:
        conn.row_factory = dict_row


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null as ok", (name,)).fetchone()["ok"]


@lru_cache(maxsize=8)
def metric_rules(
    day: date, seed: Path = DBT_PROJECT_DIR / "seeds" / "metric_scoring_rules.csv"
) -> dict[str, tuple[str, str]]:
    """{metric_code: (group_code, metric_name)} of the scoring rules effective on `day` (the seed the
    marts are built from; act_points_at_stake carries neither group nor name)."""
    out: dict[str, tuple[str, str]] = {}
    with open(seed, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            starts = date.fromisoformat(row["effective_from"])
            ends = date.fromisoformat(row["effective_to"]) if row["effective_to"] else None
            if starts <= day and (ends is None or day <= ends):
                out.setdefault(row["metric_code"], (row["group_code"], row["metric_name"]))
    return out
