"""Backtest of the month-end projection of 2.1 (docs/acting-today.md, §11) on closed months.

For each closed month, the actions models are built as of every working day of it (at a fixed
hour, 09:00 by default) in one dbt run (var actions_at takes a list of moments) into a scratch
schema; each unit's projected range [2.1 at least, 2.1 at most] at each day is compared with
the month's final 2.1 in the published marts (mart_metric_monthly, period 'month'). A range
that holds the final rate is a hit. The scratch schema is dropped afterwards.

The final rate is the marts' rate of the closed month as the warehouse knows it now. The
projection leaves out arrivals after T (§11, to the letter), and most arrivals are in time at
the month's end, so a miss is mostly a final rate above the range: the report counts misses
above and below the range separately, by working day of the month.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from extractors.timefmt import LOCAL
from tthc.actions.lock import actions_build_lock
from tthc.actions.workdays import is_working_day
from tthc.paths import LOCAL as LOCAL_DIR
from tthc.pipeline import dbt
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

SCHEMA = "actions__backtest"
# only the projection and what it reads: the lists' tables are not needed here
SELECTION = f"{dbt.ACTIONS_TAG},+act_projection"


@dataclass
class DayScore:
    """How the projection made on one working day of a month did against the month's end."""

    month: str
    at: datetime
    units: int = 0
    hits: int = 0
    width_sum: Decimal = Decimal(0)  # sum over units of (2.1 at most - 2.1 at least)
    above: int = 0  # the final rate above the range (arrivals after T, mostly in time)
    below: int = 0  # the final rate below the range

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.units if self.units else None

    @property
    def mean_width(self) -> float | None:
        return float(self.width_sum / self.units) if self.units else None


@dataclass
class Backtest:
    days: list[DayScore] = field(default_factory=list)

    @property
    def units(self) -> int:
        return sum(d.units for d in self.days)

    @property
    def hits(self) -> int:
        return sum(d.hits for d in self.days)

    def by_working_day(self) -> list[dict]:
        """Hit rate by the n-th working day of the month, over all months: how early it holds."""
        grouped: dict[int, list[DayScore]] = {}
        for d in self.days:
            rank = sum(1 for other in self.days if other.month == d.month and other.at <= d.at)
            grouped.setdefault(rank, []).append(d)
        rows = []
        for rank in sorted(grouped):
            units = sum(d.units for d in grouped[rank])
            hits = sum(d.hits for d in grouped[rank])
            width = sum((d.width_sum for d in grouped[rank]), Decimal(0))
            above = sum(d.above for d in grouped[rank])
            rows.append(
                {
                    "working_day": rank,
                    "unit_days": units,
                    "hits": hits,
                    "above": above,
                    "below": sum(d.below for d in grouped[rank]),
                    "hit_rate": round(hits / units, 4) if units else None,
                    "mean_width": round(float(width / units), 4) if units else None,
                }
            )
        return rows

    def as_dict(self) -> dict:
        return {
            "unit_days": self.units,
            "hits": self.hits,
            "above": sum(d.above for d in self.days),
            "below": sum(d.below for d in self.days),
            "hit_rate": round(self.hits / self.units, 4) if self.units else None,
            "by_working_day": self.by_working_day(),
            "days": [
                {
                    "month": d.month,
                    "at": d.at.isoformat(),
                    "units": d.units,
                    "hits": d.hits,
                    "hit_rate": None if d.hit_rate is None else round(d.hit_rate, 4),
                    "mean_width": None if d.mean_width is None else round(d.mean_width, 4),
                }
                for d in self.days
            ],
        }


def working_day_moments(month: date, hour: int = 9) -> list[datetime]:
    """Each working day of `month` (its first day) at `hour` local time."""
    day, moments = month.replace(day=1), []
    while day.month == month.month:
        if is_working_day(day):
            moments.append(datetime.combine(day, time(hour), LOCAL))
        day += timedelta(days=1)
    return moments


def run_backtest(dsn: Dsn, months: list[date], hour: int = 9) -> Backtest:
    """Project every working day of each closed month in `months` and score it (module doc).
    The marts must hold those months (a build after they closed)."""
    moments = [m for month in months for m in working_day_moments(month, hour)]
    if not moments:
        raise ValueError("no working day in the months given")
    transformer = as_stage(dsn, "transformer")
    conninfo = transformer.conninfo()
    phase = f"actions-backtest-{uuid.uuid4().hex[:8]}"
    log.info("backtest of the 2.1 projection: %d moment(s) in %d month(s)", len(moments), len(months))
    try:
        with actions_build_lock(conninfo):
            dbt.run_dbt(
                ["run", "--select", SELECTION],
                transformer,
                max(moments).date(),
                {"actions_schema": SCHEMA},
                phase=phase,
                run_settings={dbt.ACTIONS_AT_ENV: ",".join(m.isoformat() for m in moments)},
            )
            with psycopg.connect(conninfo) as conn:
                return _score(conn, moments)
    finally:
        with contextlib.suppress(Exception), psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SCHEMA)))
        shutil.rmtree(LOCAL_DIR / "dbt" / f"{transformer.dbname}-{transformer.port}" / phase, ignore_errors=True)


def _score(conn: psycopg.Connection, moments: list[datetime]) -> Backtest:
    rows = conn.execute(
        sql.SQL(
            """
        SELECT p.at_ts, to_char(p.at_ts AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM') AS month,
               count(*) AS units,
               count(*) FILTER (WHERE m.rate BETWEEN p.rate_2_1_min AND p.rate_2_1_max) AS hits,
               coalesce(sum(p.rate_2_1_max - p.rate_2_1_min), 0) AS width,
               count(*) FILTER (WHERE m.rate > p.rate_2_1_max) AS above,
               count(*) FILTER (WHERE m.rate < p.rate_2_1_min) AS below
        FROM {}.act_projection p
        JOIN marts.mart_metric_monthly m
          ON m.period_type = 'month' AND m.metric_code = '2.1' AND m.unit_code = p.unit_code
         AND m.period_key = to_char(p.at_ts AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')
        WHERE p.dossiers_all > 0 AND m.rate IS NOT NULL
        GROUP BY p.at_ts ORDER BY p.at_ts
        """
        ).format(sql.Identifier(SCHEMA))
    ).fetchall()
    scored = {r[0]: DayScore(r[1], r[0].astimezone(LOCAL), r[2], r[3], Decimal(r[4]), r[5], r[6]) for r in rows}
    return Backtest([scored.get(m, DayScore(f"{m:%Y-%m}", m)) for m in moments])
