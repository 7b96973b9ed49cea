"""Incremental state and run records, kept in the warehouse beside the data they describe."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import psycopg

from extractors.entities import Entity


def read_watermark(conn: psycopg.Connection, entity: Entity) -> datetime | None:
    row = conn.execute(
        "SELECT high_watermark FROM meta.watermarks WHERE source = %s AND entity = %s",
        (entity.source, entity.name),
    ).fetchone()
    return row[0] if row else None


def write_watermark(conn: psycopg.Connection, entity: Entity, value: datetime, run_id: str | None) -> None:
    """Never moves backwards: a backfill of an old window leaves the nightly position alone."""
    conn.execute(
        """
        INSERT INTO meta.watermarks (source, entity, high_watermark, run_id, updated_at)
        VALUES (%s, %s, %s, %s, now())
        ON CONFLICT (source, entity) DO UPDATE
           SET high_watermark = GREATEST(meta.watermarks.high_watermark, EXCLUDED.high_watermark),
               run_id = EXCLUDED.run_id, updated_at = now()
        """,
        (entity.source, entity.name, value, run_id),
    )


def new_batch_id(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT nextval('meta.batch_id_seq')").fetchone()[0]


@dataclass
class RunRecord:
    batch_id: int
    run_id: str | None
    source: str
    entity: str
    window_from: datetime | None
    window_to: datetime | None
    status: str = "running"
    pages: int = 0
    fetched: int = 0
    loaded: int = 0
    duplicates: int = 0
    quarantined: int = 0
    retries: int = 0
    source_total: int | None = None
    seconds: float = 0.0
    error: str | None = None

    def save(self, conn: psycopg.Connection, finished: bool = False) -> None:
        values = asdict(self)
        columns = list(values)
        updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "batch_id")
        conn.execute(
            f"INSERT INTO meta.extract_runs ({', '.join(columns)}, finished_at) "
            f"VALUES ({', '.join(['%s'] * len(columns))}, {'now()' if finished else 'NULL'}) "
            f"ON CONFLICT (batch_id) DO UPDATE SET {updates}, finished_at = EXCLUDED.finished_at",
            list(values.values()),
        )
