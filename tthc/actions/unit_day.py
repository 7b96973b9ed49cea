"""Read one day's published lists for the daily workbook and message, one UnitDay per unit.

Reads the published schema `actions` (docs/acting-today.md; the contract's columns) as the
publisher: act_refresh, act_list_rows, act_three_things, act_projection, act_undecided_dossiers,
and core.dim_unit for the unit's name. Never act_list_rows_named: the workbook travels by
message, and the handler's name stays in the warehouse, where a unit's own login reads it.

The day's refresh is the latest published at_ts whose local date is the day asked for; the
published schema holds the last good refresh, so a day whose refresh never published has none
(ActionsNotPublished), and nothing stale goes out under today's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from tthc.actions.names import LIST_NAMES, ROW_COLUMNS
from tthc.province_package.values import VN_TZ

SCHEMA = "actions"
# The lists of §11 in the order people read them (the contract's list_name values).
LISTS = LIST_NAMES
PROJECTION_COLUMNS = (
    "dossiers_all",
    "decided_on_time",
    "decided_late",
    "safe",
    "undecided",
    "rate_2_1_min",
    "rate_2_1_max",
    "points_2_1_min",
    "points_2_1_max",
    "points_5_3_min",
    "points_5_3_max",
    "total_points_now",
    "total_points_min",
    "total_points_max",
)
NEEDED = ("act_refresh", "act_list_rows", "act_three_things", "act_projection", "act_undecided_dossiers")


class ActionsNotPublished(LookupError):
    """No refresh of the lists is published for the day asked (or the tables are missing)."""


@dataclass(frozen=True)
class Refresh:
    at_ts: datetime
    period_key: str
    period_start_ts: datetime
    period_end_ts: datetime

    @property
    def day(self) -> date:
        return self.at_ts.astimezone(VN_TZ).date()


@dataclass(frozen=True)
class Thing:
    rank: int
    metric_code: str
    list_name: str
    points_at_stake: Decimal
    row_count: int


@dataclass
class UnitDay:
    """What one unit's workbook and message hold for one refresh."""

    unit_code: str
    unit_name: str | None
    refresh: Refresh
    rows: dict[str, list[dict]] = field(default_factory=lambda: {name: [] for name in LISTS})
    three_things: list[Thing] = field(default_factory=list)
    projection: dict | None = None
    undecided: list[dict] = field(default_factory=list)

    @property
    def day(self) -> date:
        return self.refresh.day

    def count(self, list_name: str) -> int:
        return len(self.rows[list_name])

    @property
    def overdue_without_apology(self) -> int:
        return sum(1 for r in self.rows["qua_han"] if r["has_apology_letter"] is False)

    @property
    def total_rows(self) -> int:
        return sum(len(v) for v in self.rows.values())


def _table(name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(name))


def published_refresh(conn: psycopg.Connection, day: date) -> Refresh:
    """The latest published refresh on `day` (local date); ActionsNotPublished when there is none."""
    missing = [
        n for n in NEEDED if not conn.execute("select to_regclass(%s) is not null", (f"{SCHEMA}.{n}",)).fetchone()[0]
    ]
    if missing:
        raise ActionsNotPublished(
            f"the published lists are not there (or this login cannot see them): {', '.join(missing)} missing "
            f"in schema {SCHEMA}; run `tthc actions refresh` first"
        )
    row = conn.execute(
        sql.SQL(
            "select at_ts, period_key, period_start_ts, period_end_ts from {} "
            "where (at_ts at time zone 'Asia/Ho_Chi_Minh')::date = %s order by at_ts desc limit 1"
        ).format(_table("act_refresh")),
        (day,),
    ).fetchone()
    if row is None:
        latest = conn.execute(sql.SQL("select max(at_ts) from {}").format(_table("act_refresh"))).fetchone()[0]
        said = latest.astimezone(VN_TZ).isoformat() if latest else "none"
        raise ActionsNotPublished(
            f"no refresh of the lists is published for {day.isoformat()} (latest published: "
            f"{said}); run `tthc actions refresh` for the day first"
        )
    return Refresh(*row)


def units_with_rows(conn: psycopg.Connection, refresh: Refresh) -> list[str]:
    return [
        u
        for (u,) in conn.execute(
            sql.SQL("select distinct unit_code from {} where at_ts = %s order by unit_code").format(
                _table("act_list_rows")
            ),
            (refresh.at_ts,),
        )
    ]


def known_units(conn: psycopg.Connection, codes: list[str], day: date) -> dict[str, str | None]:
    """{code: name} of the codes that are units valid on `day` (core.dim_unit)."""
    rows = conn.execute(
        "select unit_code, unit_name from core.dim_unit where unit_code = any(%s) "
        "and valid_from <= %s and (valid_to is null or valid_to >= %s)",
        (codes, day, day),
    ).fetchall()
    return dict(rows)


class RefreshMoved(RuntimeError):
    """A newer refresh was swapped in while the day's units were being read: read it instead."""


@dataclass
class DayTables:
    """The per-unit tables other than the list rows, for every unit of one refresh: read once
    (a few rows per unit) rather than once per unit, whatever their indexes."""

    refresh: Refresh
    three_things: dict[str, list[Thing]] = field(default_factory=dict)
    projection: dict[str, dict] = field(default_factory=dict)
    undecided: dict[str, list[dict]] = field(default_factory=dict)


def _locked(cur: psycopg.Cursor, refresh: Refresh) -> None:
    """ACCESS SHARE on the tables read, so a swap waits the moment this transaction takes rather
    than replacing them between two of its queries; RefreshMoved when `refresh` is no longer the
    published one (a swap came in before)."""
    cur.execute(sql.SQL("lock table {} in access share mode").format(sql.SQL(", ").join(_table(n) for n in NEEDED)))
    cur.execute(sql.SQL("select 1 from {} where at_ts = %s").format(_table("act_refresh")), (refresh.at_ts,))
    if cur.fetchone() is None:
        raise RefreshMoved(f"the refresh of {refresh.at_ts.isoformat()} is no longer the published one")


def read_day_tables(conn: psycopg.Connection, refresh: Refresh) -> DayTables:
    """Three things, projection and undecided dossiers of every unit at the refresh's at_ts."""
    out = DayTables(refresh)
    at = {"at": refresh.at_ts}
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        _locked(cur, refresh)
        cur.execute(
            sql.SQL(
                "select unit_code, rank, metric_code, list_name, points_at_stake, row_count from {} "
                "where at_ts = %(at)s order by unit_code, rank"
            ).format(_table("act_three_things")),
            at,
        )
        for r in cur:
            out.three_things.setdefault(r["unit_code"], []).append(
                Thing(r["rank"], str(r["metric_code"]), r["list_name"], r["points_at_stake"], r["row_count"])
            )
        cur.execute(
            sql.SQL("select unit_code, {} from {} where at_ts = %(at)s").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in PROJECTION_COLUMNS), _table("act_projection")
            ),
            at,
        )
        for r in cur:
            out.projection[r.pop("unit_code")] = r
        cur.execute(
            sql.SQL(
                "select unit_code, due_rank, dossier_code, row_unit_code, due_at from {} "
                "where at_ts = %(at)s order by unit_code, due_rank, dossier_code"
            ).format(_table("act_undecided_dossiers")),
            at,
        )
        for r in cur:
            out.undecided.setdefault(r.pop("unit_code"), []).append(r)
    return out


def read_unit_day(conn: psycopg.Connection, tables: DayTables, unit_code: str, unit_name: str | None) -> UnitDay:
    """One unit's lists (read now, through act_list_rows' index on (at_ts, unit_code, ...)) with its
    three things, projection and undecided dossiers from `tables`; RefreshMoved when the refresh
    `tables` were read from is no longer the published one."""
    refresh = tables.refresh
    out = UnitDay(
        unit_code=unit_code,
        unit_name=unit_name,
        refresh=refresh,
        three_things=list(tables.three_things.get(unit_code, [])),
        projection=tables.projection.get(unit_code),
        undecided=list(tables.undecided.get(unit_code, [])),
    )
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        _locked(cur, refresh)
        cur.execute(
            sql.SQL(
                "select list_name, {} from {} where at_ts = %s and unit_code = %s order by list_name, dossier_code"
            ).format(sql.SQL(", ").join(sql.Identifier(c) for c in ROW_COLUMNS), _table("act_list_rows")),
            (refresh.at_ts, unit_code),
        )
        for row in cur:
            name = row.pop("list_name")
            if name not in out.rows:
                raise ValueError(
                    f"{SCHEMA}.act_list_rows: unknown list_name {name!r} (expected one of {', '.join(LISTS)})"
                )
            out.rows[name].append(row)
    return out
