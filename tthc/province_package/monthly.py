"""Publish one unit's month: the marts as they stand, if the last quality gate passed."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import psycopg

from expectations.loss import last_status
from tthc import __version__
from tthc.province_package import PackageResult, write_package
from tthc.province_package.manifest import WARNINGS_KEY
from tthc.province_package.periods import Month
from tthc.province_package.rows import RELATIONS, MissingMart, package_tables, require_relations
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

__all__ = ["MissingMart", "PublishBlocked", "last_gate", "publish_month", "source_bounds"]


class PublishBlocked(RuntimeError):
    """The last quality gate failed (or never ran): the last good package stays the latest."""


def last_gate(conn: psycopg.Connection) -> dict:
    """The quality figures of the manifest: refuses when the newest gate run failed; counts the
    checks of the run the published marts passed (meta.marts_publications; the newest run on a
    warehouse that has not recorded one yet)."""
    latest = (
        conn.execute(
            """
        with latest as (
            select run_id from meta.quality_results order by checked_at desc limit 1
        )
        select q.run_id, count(*) filter (where not q.success and q.severity = 'fail')
        from meta.quality_results q join latest using (run_id)
        group by q.run_id
        """
        ).fetchone()
        if _has_table(conn, "meta.quality_results")
        else None
    )
    if latest is None:
        raise PublishBlocked("no quality gate has run on this warehouse yet: run the gate first")
    run_id, failures = latest
    if failures:
        raise PublishBlocked(f"the last quality gate ({run_id}) failed {failures} check(s): not publishing")
    built_on = _published_run(conn) or run_id
    checks, failures = conn.execute(
        "select count(*), count(*) filter (where not success and severity = 'fail') "
        "from meta.quality_results where run_id = %s",
        (built_on,),
    ).fetchone()
    losses = last_status(conn, built_on) or last_status(conn)
    return {"ket_qua": "DAT", "so_kiem_tra": checks, "so_loi": failures} | loss_figures(losses)


def _published_run(conn: psycopg.Connection) -> str | None:
    if not _has_table(conn, "meta.marts_publications"):
        return None
    row = conn.execute("select run_id from meta.marts_publications order by published_at desc limit 1").fetchone()
    return row[0] if row else None


def loss_figures(losses: list) -> dict:
    """What the warehouse knew it lacked, as the gate counted it, in the manifest's words
    (tthc/province_package/manifest.py LOSS_KEYS); nulls when no gate has counted it."""
    if not losses:
        return {"so_ban_ghi_cach_ly": None, "so_ban_ghi_thieu": None, "du_lieu_thieu": None}
    return {
        "so_ban_ghi_cach_ly": sum(x.quarantined_open for x in losses),
        "so_ban_ghi_thieu": sum(x.missing or 0 for x in losses),
        "du_lieu_thieu": [
            {
                "nguon": x.source,
                "doi_tuong": x.entity,
                "so_ban_ghi_cach_ly": x.quarantined_open,
                "so_ban_ghi_thieu": x.missing or 0,
                "vuot_nguong": x.over,
            }
            for x in losses
            if x.lost or x.over
        ],
    }


def portal_warnings(tables: dict[str, list[dict]], unit_code: str, month: Month) -> list[str]:
    """A package whose reconciliation lacks the portal's total for its own unit says so: the
    portal had not published it, or its scores were never fetched (`tthc ingest dvc_portal`)."""
    official = [
        r
        for r in tables["doi_soat_dvcqg.csv"]
        if r["ma_don_vi"] == unit_code and r["ma_chi_so"] == "TONG" and r["diem_dvcqg"] is not None
    ]
    if official:
        return []
    return [
        f"Chưa có điểm chính thức của Cổng DVCQG cho đơn vị {unit_code} kỳ {month.key}: "
        "cột diem_dvcqg của doi_soat_dvcqg.csv để trống, chưa đối soát được tổng điểm."
    ]


def source_bounds(conn: psycopg.Connection) -> dict[str, datetime | None]:
    """Per source, the bound all its entities have reached (None: nothing loaded yet)."""
    rows = dict(conn.execute("select source, min(high_watermark) from meta.watermarks group by source").fetchall())
    return {source: rows.get(source) for source in ("one_stop", "dvc_portal")}


def _has_table(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]


def publish_month(dsn: Dsn, unit_code: str, month: Month, now: datetime, outbox: Path) -> PackageResult:
    """Write the month's package for one reporting unit: all five CSVs, bao_cao.xlsx, manifest.

    Refuses (PublishBlocked) when the last quality gate failed, and (MissingMart) when a mart
    the contract's files come from does not exist. Status is provisional until the month's
    closing day, then final. The writer issues a new version only when the content differs.
    """
    from tthc.warehouse.stages import as_stage

    dsn = as_stage(dsn, "publisher")  # an admin's DSN: read as the publisher all the same
    with psycopg.connect(dsn.conninfo(), autocommit=True) as conn:
        # Local time, so zone-less mart timestamps mean Vietnam time, as the sources record them.
        conn.execute("set time zone 'Asia/Ho_Chi_Minh'")
        require_relations(conn, unit_code, month)
        # One snapshot for the gate and every mart, so a dbt run finishing meanwhile cannot mix two
        # builds in one package. The marts are locked (ACCESS SHARE) before the snapshot is taken:
        # a table dbt swapped in after the snapshot would otherwise read as empty; now the swap waits.
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction():
            conn.execute(f"lock table {', '.join(RELATIONS)} in access share mode")
            quality = last_gate(conn)
            tables = package_tables(conn, unit_code, month)
            sources = source_bounds(conn)
    quality[WARNINGS_KEY] = portal_warnings(tables, unit_code, month)
    for warning in quality[WARNINGS_KEY]:
        log.warning("%s %s: %s", unit_code, month.key, warning)
    if not tables["chi_so_766.csv"]:
        raise ValueError(
            f"no marts rows for unit {unit_code} in {month.key}: is the unit code right "
            "(valid on the month's last day) and are the marts built for that month?"
        )
    result = write_package(
        outbox=outbox,
        unit_code=unit_code,
        period=month.key,
        tables=tables,
        status=month.status_at(now),
        sources=sources,
        quality=quality,
        pipeline_version=__version__,
        now=now,
    )
    if result.created:
        log.info("%s %s: wrote version %d at %s", unit_code, month.key, result.version, result.path)
    else:
        log.info("%s %s: unchanged since version %d (%s)", unit_code, month.key, result.version, result.path)
    return result
