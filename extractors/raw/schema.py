"""DDL of the raw layer and the extractors' metadata, applied idempotently before each load.

Raw tables keep every distinct version of a record as received: the same (key, payload hash)
is stored once, so reruns and overlapping windows add nothing. Staging picks the latest
version per key.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg import sql

from extractors.entities import ENTITIES

log = logging.getLogger(__name__)

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


def loaded_at_index(table: str) -> str:
    return f"{table}_loaded_at"


def summarize_new_loads(conn: psycopg.Connection, table: str) -> int | None:
    """Summarize the BRIN ranges of pages loaded since the last summary; returns how many
    (None when this role does not own the table: autovacuum then does it, later).

    PostgreSQL summarizes a BRIN range only at VACUUM (or when asked): until autovacuum reaches
    a big table, a "loaded since" query reads every unsummarized page, i.e. the whole table
    after a first load. A successful run asks, so
    the night's queries read the night's pages."""
    try:
        with conn.transaction():
            return conn.execute(
                "SELECT brin_summarize_new_values(%s::regclass)", (f'raw."{loaded_at_index(table)}"',)
            ).fetchone()[0]
    except psycopg.errors.InsufficientPrivilege:
        log.warning("raw.%s: not its owner, so its new BRIN ranges wait for autovacuum", table)
        return None


# A load that grew the table by more than this share of the rows the planner knows of refreshes
# its statistics at once (autovacuum's analyze comes later, throttled, on a big first load).
GROWTH_TO_ANALYZE = 0.2


def analyze_if_grown(conn: psycopg.Connection, table: str, loaded: int) -> bool:
    """ANALYZE raw.<table> when `loaded` new rows are a large share of what its statistics
    describe (or it has none): the dbt build and the gate that read it next plan from them.
    Returns whether it analyzed; a role that does not own the table leaves it to autovacuum."""
    if loaded <= 0:
        return False
    known = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (f'raw."{table}"',)).fetchone()[0]
    if known >= 0 and loaded <= GROWTH_TO_ANALYZE * known:
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL("ANALYZE raw.{}").format(sql.Identifier(table)))
    except psycopg.errors.InsufficientPrivilege:
        log.warning("raw.%s: not its owner, so its statistics wait for autovacuum", table)
        return False
    log.info("raw.%s: %d new rows against %.0f known: statistics refreshed", table, loaded, max(known, 0))
    return True


META = """
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
-- set when a quarantined record was replayed (tthc quarantine replay): it no longer counts as lost
ALTER TABLE raw.quarantine ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
-- the rest of the dead-letter queue (extractors/quarantine.py): the batch a replay loaded the
-- record in, how often it was tried, and why it still fails under the current contract
ALTER TABLE raw.quarantine
    ADD COLUMN IF NOT EXISTS replay_batch_id bigint,
    ADD COLUMN IF NOT EXISTS attempts        integer NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS last_reason     text,
    ADD COLUMN IF NOT EXISTS last_attempt_at timestamptz;
CREATE INDEX IF NOT EXISTS quarantine_open ON raw.quarantine (source, entity, id) WHERE replayed_at IS NULL;
-- set when the PII retention (tthc/privacy/retention.py) replaced an old record's text: it can no
-- longer be replayed, so it leaves the open queue (and the gate's loss counts) as expired
ALTER TABLE raw.quarantine ADD COLUMN IF NOT EXISTS pii_cleared_at timestamptz;
"""


# Raw tables outside the list endpoints: the portal's official scores (extractors/portal_scores.py).
EXTRA_TABLES = ("dvc_portal__service_results",)


def ensure_raw_schema(conn: psycopg.Connection) -> None:
    with conn.transaction():
        # The ingest DAGs start several extracts at once; on a new warehouse two concurrent
        # CREATE … IF NOT EXISTS race, and the loser fails on the catalog's unique index. One at a time.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('tthc-raw-schema'))")
        # Only when missing: CREATE SCHEMA IF NOT EXISTS asks for CREATE on the database even when
        # the schema exists, and the loader (which owns raw and meta) does not hold it.
        for schema in ("raw", "meta"):
            if conn.execute("SELECT to_regnamespace(%s) IS NULL", (schema,)).fetchone()[0]:
                conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute(META)
        for table in [e.table for e in ENTITIES] + list(EXTRA_TABLES):
            conn.execute(sql.SQL(RAW_TABLE).format(table=sql.Identifier(table), pk=sql.Identifier(f"{table}_pk")))
            conn.execute(
                sql.SQL(RAW_LOADED_AT_INDEX).format(
                    table=sql.Identifier(table), index=sql.Identifier(loaded_at_index(table))
                )
            )
