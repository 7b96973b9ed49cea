"""The portal's official 766 scores (POST service-results) into raw, for reconciliation.

Not a list endpoint: one call per root unit and period. Each answer is stored like any raw
record (key = root|timeType|year|month-or-quarter, payload = request + data), so an unchanged
score adds nothing and a moved score (an open period) is a new version.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime

import orjson
import psycopg

from extractors.dvc_portal import DvcPortalClient
from extractors.raw.schema import RAW_TABLE, ensure_raw_schema
from extractors.state import new_batch_id
from extractors.timefmt import LOCAL

log = logging.getLogger(__name__)
TABLE = "dvc_portal__service_results"


@dataclass(frozen=True)
class ScorePeriod:
    time_type: str  # month | quarter | year
    year: int
    number: int | None  # month or quarter

    @property
    def key_part(self) -> str:
        return f"{self.time_type}|{self.year}|{self.number if self.number is not None else ''}"


def periods_around(day: date) -> list[ScorePeriod]:
    """The periods a nightly run refreshes: the month of `day` and the one before, their quarters, the year."""
    prev = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
    out: list[ScorePeriod] = []
    for d in (prev, day):
        for period in (
            ScorePeriod("month", d.year, d.month),
            ScorePeriod("quarter", d.year, (d.month - 1) // 3 + 1),
            ScorePeriod("year", d.year, None),
        ):
            if period not in out:
                out.append(period)
    return out


def ensure_table(conn: psycopg.Connection) -> None:
    ensure_raw_schema(conn)
    from psycopg import sql

    conn.execute(sql.SQL(RAW_TABLE).format(table=sql.Identifier(TABLE), pk=sql.Identifier(f"{TABLE}_pk")))


def fetch_service_results(
    conninfo: str, client: DvcPortalClient, root_units: list[str], periods: list[ScorePeriod]
) -> int:
    """Fetch and store; returns how many new versions were stored."""
    fetched_at = datetime.now(LOCAL)
    rows = []
    for root in root_units:
        for period in periods:
            kwargs = (
                {"month": period.number}
                if period.time_type == "month"
                else {"quarter": period.number}
                if period.time_type == "quarter"
                else {}
            )
            data = client.service_results(root, period.year, **kwargs)
            request = {"timeType": period.time_type, "year": period.year, "rootDepartmentCode": root} | kwargs
            payload = orjson.dumps({"request": request, "data": data}, option=orjson.OPT_SORT_KEYS)
            rows.append(
                (f"{root}|{period.key_part}", fetched_at, payload.decode(), hashlib.sha256(payload).hexdigest())
            )
    with psycopg.connect(conninfo) as conn:
        ensure_table(conn)
        batch = new_batch_id(conn)
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO raw.{TABLE} (record_key, source_updated_at, payload, payload_hash, batch_id) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (record_key, payload_hash) DO NOTHING",
                [(*row, batch) for row in rows],
            )
            stored = conn.execute(f"SELECT count(*) FROM raw.{TABLE} WHERE batch_id = %s", (batch,)).fetchone()[0]
    log.info("portal scores: %d answers for %d root unit(s), %d new versions", len(rows), len(root_units), stored)
    return stored


def province_roots(conninfo: str, day: date) -> list[str]:
    """Units without a parent valid on `day`, from the latest one-stop unit list in raw."""
    with psycopg.connect(conninfo) as conn:
        if not conn.execute("SELECT to_regclass('raw.one_stop__don_vi') IS NOT NULL").fetchone()[0]:
            return []
        rows = conn.execute(
            """
            with latest as (
                select distinct on (record_key) payload from raw.one_stop__don_vi
                order by record_key, source_updated_at desc, loaded_at desc, batch_id desc
            )
            select trim(payload->>'MaDinhDanh') from latest
            where coalesce(trim(payload->>'MaDonViCha'), '') = ''
              and coalesce(nullif(trim(payload->>'HieuLucTu'), ''), '00000000') <= %(d)s
              and coalesce(nullif(trim(payload->>'HieuLucDen'), ''), '99999999') >= %(d)s
            order by 1
            """,
            {"d": day.strftime("%Y%m%d")},
        ).fetchall()
    return [r[0] for r in rows]
