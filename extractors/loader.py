"""Bulk-load raw rows with COPY, skipping versions already stored.

Raw keeps one row per (record_key, payload_hash). Per batch, the loader first asks which of
the batch's keys already have which versions (an index lookup on the primary key), drops
those and the batch's own repeats, and COPYs the rest straight into the raw table. A run
holds its entity's advisory lock (run.claim_entity), so nobody else adds versions meanwhile;
should a COPY still hit a duplicate (a writer that did not take the lock), the batch is
loaded again the safe way: COPY into a temporary table, then INSERT … ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import errors, sql

from extractors.entities import Entity
from extractors.records import RawRow, Rejected

INCOMING = """
CREATE TEMP TABLE IF NOT EXISTS _incoming (
    record_key text, source_updated_at timestamptz, payload jsonb, payload_hash text
) ON COMMIT DELETE ROWS
"""
COLUMNS = "(record_key, source_updated_at, payload, payload_hash, batch_id)"


class RawLoader:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def load(self, entity: Entity, batch_id: int, rows: Sequence[RawRow]) -> int:
        """Store rows in the caller's transaction; returns how many were new versions."""
        if not rows:
            return 0
        table = sql.Identifier(entity.table)
        fresh = self._not_stored(table, rows)
        if not fresh:
            return 0
        try:
            with self.conn.transaction():  # a savepoint: a duplicate undoes this COPY only
                with (
                    self.conn.cursor() as cur,
                    cur.copy(sql.SQL("COPY raw.{} " + COLUMNS + " FROM STDIN").format(table)) as copy,
                ):
                    for row in fresh:
                        copy.write_row((row.key, row.updated, row.payload, row.payload_hash, batch_id))
            return len(fresh)
        except errors.UniqueViolation:
            return self._load_skipping_conflicts(table, batch_id, fresh)

    def _not_stored(self, table: sql.Identifier, rows: Sequence[RawRow]) -> list[RawRow]:
        """The batch's rows whose (key, hash) is neither stored nor earlier in the batch."""
        keys = list({row.key for row in rows})
        stored = set(
            self.conn.execute(
                sql.SQL("SELECT record_key, payload_hash FROM raw.{} WHERE record_key = ANY(%s)").format(table),
                (keys,),
            ).fetchall()
        )
        fresh = []
        for row in rows:
            version = (row.key, row.payload_hash)
            if version not in stored:
                stored.add(version)
                fresh.append(row)
        return fresh

    def _load_skipping_conflicts(self, table: sql.Identifier, batch_id: int, rows: Sequence[RawRow]) -> int:
        with self.conn.cursor() as cur:
            cur.execute(INCOMING)
            with cur.copy("COPY _incoming (record_key, source_updated_at, payload, payload_hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row((row.key, row.updated, row.payload, row.payload_hash))
            cur.execute(
                sql.SQL(
                    "INSERT INTO raw.{} " + COLUMNS + " "
                    "SELECT record_key, source_updated_at, payload, payload_hash, %s FROM _incoming "
                    "ON CONFLICT (record_key, payload_hash) DO NOTHING"
                ).format(table),
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
