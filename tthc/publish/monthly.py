"""Publish one unit's month: the marts as they stand, if the last quality gate passed."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import psycopg

from tthc import __version__
from tthc.extract import PackageResult, write_package
from tthc.publish.periods import Month
from tthc.publish.rows import extract_tables
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)


class PublishBlocked(RuntimeError):
    """The last quality gate failed (or never ran): the last good package stays the latest."""


def last_gate(conn: psycopg.Connection) -> dict:
    row = conn.execute(
        """
        with latest as (
            select run_id from meta.quality_results order by checked_at desc limit 1
        )
        select q.run_id,
               count(*)                                                   as checks,
               count(*) filter (where not q.success and q.severity = 'fail') as failures
        from meta.quality_results q join latest using (run_id)
        group by q.run_id
        """
    ).fetchone() if _has_table(conn, "meta.quality_results") else None
    if row is None:
        raise PublishBlocked("no quality gate has run on this warehouse yet: run the gate first")
    run_id, checks, failures = row
    if failures:
        raise PublishBlocked(f"the last quality gate ({run_id}) failed {failures} check(s): not publishing")
    return {"ket_qua": "DAT", "so_kiem_tra": checks, "so_loi": failures}


def source_bounds(conn: psycopg.Connection) -> dict[str, datetime | None]:
    """Per source, the bound all its entities have reached (None: nothing loaded yet)."""
    rows = dict(conn.execute("select source, min(high_watermark) from meta.watermarks group by source").fetchall())
    return {source: rows.get(source) for source in ("one_stop", "dvc_portal")}


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]


def publish_month(dsn: Dsn, unit_code: str, month: Month, now: datetime, outbox: Path) -> PackageResult:
    with psycopg.connect(dsn.conninfo()) as conn:
        quality = last_gate(conn)
        tables = extract_tables(conn, unit_code, month)
        sources = source_bounds(conn)
    if not tables["chi_so_766.csv"]:
        raise ValueError(f"no marts rows for unit {unit_code} in {month.key}: is the unit code right?")
    result = write_package(
        outbox=outbox, unit_code=unit_code, period=month.key, tables=tables,
        status=month.status_at(now), sources=sources, quality=quality,
        pipeline_version=__version__, now=now,
    )
    if result.created:
        log.info("%s %s: wrote version %d at %s", unit_code, month.key, result.version, result.path)
    else:
        log.info("%s %s: unchanged since version %d (%s)", unit_code, month.key, result.version, result.path)
    return result
