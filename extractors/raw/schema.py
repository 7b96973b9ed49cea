"""DDL of the raw layer and the extractors' metadata, applied idempotently before each load.

Raw tables keep every distinct version of a record as received: the same (key, payload hash)
is stored once, so reruns and overlapping windows add nothing. Staging picks the latest
version per key.
"""
from __future__ import annotations

import psycopg
from psycopg import sql

from extractors.entities import ENTITIES

RAW_TABLE = """
CREATE TABLE IF NOT EXISTS raw.{table} (
    record_key         text        NOT NULL,
    source_updated_at  timestamptz,
    payload            jsonb       NOT NULL,
    payload_hash       text        NOT NULL,
    batch_id           bigint      NOT NULL,
    loaded_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT {pk} PRIMARY KEY (record_key, payload_hash)
)
"""
# Incremental staging asks "which keys got a version since the last build": loaded_at only
# grows with inserts (raw is append-only), so a BRIN index answers it for a few pages.
RAW_LOADED_AT_INDEX = "CREATE INDEX IF NOT EXISTS {index} ON raw.{table} USING brin (loaded_at)"

META = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SEQUENCE IF NOT EXISTS meta.batch_id_seq;
CREATE TABLE IF NOT EXISTS meta.watermarks (
    source          text        NOT NULL,
    entity          text        NOT NULL,
    high_watermark  timestamptz NOT NULL,
    run_id          text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, entity)
);
CREATE TABLE IF NOT EXISTS meta.extract_runs (
    batch_id        bigint      PRIMARY KEY,
    run_id          text,
    source          text        NOT NULL,
    entity          text        NOT NULL,
    window_from     timestamptz,
    window_to       timestamptz,
    status          text        NOT NULL,
    pages           integer     NOT NULL DEFAULT 0,
    fetched         bigint      NOT NULL DEFAULT 0,
    loaded          bigint      NOT NULL DEFAULT 0,
    duplicates      bigint      NOT NULL DEFAULT 0,
    quarantined     bigint      NOT NULL DEFAULT 0,
    retries         integer     NOT NULL DEFAULT 0,
    source_total    bigint,
    seconds         numeric(12, 3),
    error           text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE TABLE IF NOT EXISTS raw.quarantine (
    id              bigserial   PRIMARY KEY,
    source          text        NOT NULL,
    entity          text        NOT NULL,
    batch_id        bigint      NOT NULL,
    record_key      text,
    reason          text        NOT NULL,
    raw_text        text        NOT NULL,
    quarantined_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS quarantine_dedupe
    ON raw.quarantine (source, entity, md5(raw_text), reason);
"""


# Raw tables outside the list endpoints: the portal's official scores (extractors/portal_scores.py).
EXTRA_TABLES = ("dvc_portal__service_results",)


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute(META)
        for table in [e.table for e in ENTITIES] + list(EXTRA_TABLES):
            conn.execute(
                sql.SQL(RAW_TABLE).format(table=sql.Identifier(table), pk=sql.Identifier(f"{table}_pk"))
            )
            conn.execute(sql.SQL(RAW_LOADED_AT_INDEX).format(
                table=sql.Identifier(table), index=sql.Identifier(f"{table}_loaded_at")))
