"""Bulk-load raw rows with COPY, skipping versions already stored.

COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING into the raw table:
COPY is the fast path into PostgreSQL, and the conflict on (record_key, payload_hash) makes
reruns and overlapping windows add nothing.
"""
from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import sql

from extractors.entities import Entity
from extractors.records import RawRow, Rejected

INCOMING = """
CREATE TEMP TABLE IF NOT EXISTS _incoming (
    record_key text, source_updated_at timestamptz, payload jsonb, payload_hash text
) ON COMMIT DELETE ROWS
"""


class RawLoader:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def load(self, entity: Entity, batch_id: int, rows: Sequence[RawRow]) -> int:
        """Store rows in the caller's transaction; returns how many were new versions."""
        if not rows:
            return 0
        with self.conn.cursor() as cur:
            cur.execute(INCOMING)
            with cur.copy("COPY _incoming (record_key, source_updated_at, payload, payload_hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row.key, row.updated, row.payload, row.payload_hash))
            cur.execute(
                sql.SQL(
                    "INSERT INTO raw.{} (record_key, source_updated_at, payload, payload_hash, batch_id) "
                    "SELECT record_key, source_updated_at, payload, payload_hash, %s FROM _incoming "
                    "ON CONFLICT (record_key, payload_hash) DO NOTHING"
                ).format(sql.Identifier(entity.table)),
                (batch_id,),
            )
            inserted = cur.rowcount
            cur.execute("TRUNCATE _incoming")
        return inserted

    def quarantine(self, entity: Entity, batch_id: int, rejected: Sequence[Rejected]) -> int:
        """Keep bad records with their reason; the same record and reason is kept once."""
        if not rejected:
            return 0
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO raw.quarantine (source, entity, batch_id, record_key, reason, raw_text) "
                "VALUES (%s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (source, entity, md5(raw_text), reason) DO NOTHING",
                [(entity.source, entity.name, batch_id, r.key, r.reason, r.raw_text) for r in rejected],
            )
        return len(rejected)
