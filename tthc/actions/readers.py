"""Read one unit's lists, three things to do and projection: the published refresh, or, for
another moment T, the actions models built for T into a scratch schema
(`actions__at_<yyyymmddHHMM>`), read, and dropped.

Read as the transformer (it owns the schemas and builds the scratch one). Never the handler's
name (act_list_rows_named): what this returns is printed and written to files.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from extractors.timefmt import LOCAL
from tthc.actions.lock import actions_build_lock
from tthc.actions.names import LIST_NAMES, check_list
from tthc.actions.names import ROW_COLUMNS as LIST_ROW_COLUMNS
from tthc.actions.publish import PUBLISHED
from tthc.paths import LOCAL as LOCAL_DIR
from tthc.pipeline import dbt
from tthc.warehouse import Dsn
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

ROW_COLUMNS = ("list_name", *LIST_ROW_COLUMNS)


class NotRefreshed(LookupError):
    """No refresh of the lists has been published in this warehouse yet."""


class UnknownUnit(LookupError):
    """The unit is not in the warehouse, or has no lists at the moment asked (not a unit that day)."""


@dataclass
class UnitActions:
    unit_code: str
    unit_name: str | None
    at: datetime
    schema: str
    counts: dict[str, int]  # every list, 0 when empty
    three_things: list[dict]  # rank, metric_code, list_name, points_at_stake, row_count
    projection: dict | None  # act_projection's row
    rows: list[dict] = field(default_factory=list)  # act_list_rows (ROW_COLUMNS), sorted (list, dossier)


def scratch_schema(at: datetime) -> str:
    return f"actions__at_{at.astimezone(LOCAL):%Y%m%d%H%M}"


def published_at(conninfo: str) -> datetime | None:
    with psycopg.connect(conninfo) as conn:
        if not conn.execute("SELECT to_regclass('actions.act_refresh') IS NOT NULL").fetchone()[0]:
            return None
        row = conn.execute("SELECT max(at_ts) FROM actions.act_refresh").fetchone()
    return row[0] if row else None


@contextlib.contextmanager
def schema_at(dsn: Dsn, at: datetime | None = None) -> Iterator[tuple[str, datetime]]:
    """(schema, T) holding the actions tables of T: the published schema when T is its moment
    (or not given), else a scratch build for T, dropped on leaving."""
    transformer = as_stage(dsn, "transformer")
    conninfo = transformer.conninfo()
    published = published_at(conninfo)
    if at is None or (published is not None and at == published):
        if published is None:
            raise NotRefreshed("the lists have not been refreshed in this warehouse yet: run `tthc actions refresh`")
        yield PUBLISHED, published
        return
    if at.tzinfo is None:
        raise ValueError("the moment must be timezone-aware")
    schema = scratch_schema(at)
    phase = f"actions-at-{uuid.uuid4().hex[:8]}"  # its own dbt target: by-hand reads may run side by side
    log.info("building the lists as of %s into %s", at.isoformat(), schema)
    try:
        with actions_build_lock(conninfo):
            dbt.build_actions_into(transformer, schema, at, tests=False, phase=phase)
            yield schema, at
    finally:
        with contextlib.suppress(Exception), psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        shutil.rmtree(LOCAL_DIR / "dbt" / f"{transformer.dbname}-{transformer.port}" / phase, ignore_errors=True)


def _known_unit(conn: psycopg.Connection, unit: str) -> str | None:
    """The unit's name; raises UnknownUnit when the warehouse has no such unit."""
    row = conn.execute(
        "SELECT unit_name FROM core.dim_unit WHERE unit_code = %s ORDER BY valid_from DESC LIMIT 1", (unit,)
    ).fetchone()
    if row is None:
        raise UnknownUnit(f"unknown unit '{unit}': no such MaDinhDanh in core.dim_unit")
    return row["unit_name"] if isinstance(row, dict) else row[0]


def read_unit(
    conn: psycopg.Connection, schema: str, unit: str, at: datetime, list_name: str | None = None
) -> UnitActions:
    """One unit's actions at T from `schema` (the published or a scratch one)."""
    if list_name is not None:
        check_list(list_name)
    conn.row_factory = dict_row
    table = lambda name: sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))  # noqa: E731
    unit_name = _known_unit(conn, unit)
    summary = conn.execute(
        sql.SQL("SELECT 1 FROM {} WHERE at_ts = %s AND unit_code = %s").format(table("act_unit_summary")), (at, unit)
    ).fetchone()
    if summary is None:
        raise UnknownUnit(
            f"unit '{unit}' has no lists at {at.isoformat()}: not a unit on that day (merged or not yet created)"
        )
    counts = dict.fromkeys(LIST_NAMES, 0) | {
        r["list_name"]: r["n"]
        for r in conn.execute(
            sql.SQL(
                "SELECT list_name, count(*) AS n FROM {} WHERE at_ts = %s AND unit_code = %s GROUP BY list_name"
            ).format(table("act_list_rows")),
            (at, unit),
        )
    }
    three = conn.execute(
        sql.SQL(
            "SELECT rank, metric_code, list_name, points_at_stake, row_count FROM {} "
            "WHERE at_ts = %s AND unit_code = %s ORDER BY rank"
        ).format(table("act_three_things")),
        (at, unit),
    ).fetchall()
    projection = conn.execute(
        sql.SQL("SELECT * FROM {} WHERE at_ts = %s AND unit_code = %s").format(table("act_projection")), (at, unit)
    ).fetchone()
    rows = conn.execute(
        sql.SQL(
            "SELECT {} FROM {} WHERE at_ts = %s AND unit_code = %s AND (%s::text IS NULL OR list_name = %s) "
            'ORDER BY list_name COLLATE "C", dossier_code COLLATE "C"'
        ).format(sql.SQL(", ").join(sql.Identifier(c) for c in ROW_COLUMNS), table("act_list_rows")),
        (at, unit, list_name, list_name),
    ).fetchall()
    return UnitActions(unit, unit_name, at, schema, counts, list(three), projection, list(rows))


def unit_actions(dsn: Dsn, unit: str, at: datetime | None = None, list_name: str | None = None) -> UnitActions:
    """A unit's actions at T (default: the published refresh). Raises NotRefreshed, UnknownUnit,
    UnknownList with a message for people."""
    if list_name is not None:
        check_list(list_name)
    conninfo = as_stage(dsn, "transformer").conninfo()
    with psycopg.connect(conninfo) as conn:  # before any build for another T: fail fast
        _known_unit(conn, unit)
    with schema_at(dsn, at) as (schema, moment), psycopg.connect(as_stage(dsn, "transformer").conninfo()) as conn:
        return read_unit(conn, schema, unit, moment, list_name)
