"""Retention of raw personal fields: cleared in place once a record has been closed for N days.

What is personal, what "closed" means and since when (docs/decisions/007):
- a dossier (raw.one_stop__ho_so): ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email, DiaChi. Closed
  at its return (NgayTra, status 10), else the end of processing (NgayKetThucXuLy: 7, 8, 9), at
  the refusal (NgayTuChoi, status 3), or at its last update when deleted (DaXoa) or when a
  closed status carries no date;
- a feedback item (raw.dvc_portal__feedback): content. Closed when HANDLED or REJECTED, at
  handledAt (else its last update);
- a quarantined record of either (raw.quarantine.raw_text): its whole text, N days after it was
  quarantined (a record nobody replayed in that time is dead).

Clearing sets the fields to JSON null in every stored version's payload and keeps record_key and
payload_hash: the hash is of what the source sent, so a re-read of the same version is still
recognised as stored and adds nothing. The restricted models' copies are cleared with them, and
applicant_key (the person key derived from the ID number) in every built table that carries it
(staging, intermediate, core: found in the catalog), so the warehouse is the same whether or not
it is later rebuilt from raw. Metrics read none of these.

Incremental: a run takes the dossiers whose closure crossed the cutoff since the previous run's
cutoff, and the records that got a version since the previous run (raw's BRIN index on
loaded_at), from the per-record staging tables (never a scan of raw). It reads staging, so it runs
after a build. Two logins: the loader owns raw and meta, the transformer reads staging and owns
what dbt built. Each batch of records commits on its own; clearing is idempotent, so a run that
stops half way is finished by the next.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql

from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

DAYS_ENV = "TTHC_PII_RETENTION_DAYS"
DEFAULT_DAYS = 365
BATCH = 5000
# A version committed out of order (a long load transaction) is still found by the next run.
LOOKBACK = timedelta(days=1)


# What a quarantined record's text becomes (followed by the md5 of the text it replaced).
CLEARED_TEXT = "cleared by the PII retention; md5 of the record was "


class RetentionError(RuntimeError):
    pass


@dataclass(frozen=True)
class Subject:
    """One kind of record that carries personal fields."""

    entity: str  # raw.quarantine's entity name
    raw_table: str  # raw.<raw_table>
    staging: str  # the stored latest-version model the closure is read from
    business_key: str
    closed_at: str  # SQL over the staging model's columns
    fields: tuple[str, ...]  # payload fields set to null
    built: dict[str, tuple[str, ...]] = field(default_factory=dict)  # relation -> columns set to null
    # a column derived from the fields, set to null in every table of the built schemas that has
    # it beside the business key (found in the catalog: a model that selects * carries it along)
    derived: str | None = None


DOSSIERS = Subject(
    entity="ho_so",
    raw_table="one_stop__ho_so",
    staging="staging.stg_one_stop__dossiers",
    business_key="dossier_code",
    closed_at="""case when is_deleted then source_updated_at
                     when status in (7, 8, 9, 10) then coalesce(returned_at, processing_ended_at, source_updated_at)
                     when status = 3 then coalesce(refused_at, source_updated_at) end""",
    fields=("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "DiaChi"),
    built={
        "restricted.stg_one_stop__dossier_applicants": (
            "applicant_name",
            "applicant_id_number",
            "applicant_phone",
            "applicant_email",
            "applicant_address",
        ),
    },
    derived="applicant_key",
)
FEEDBACK = Subject(
    entity="feedback",
    raw_table="dvc_portal__feedback",
    staging="staging.stg_dvc_portal__feedback_items",
    business_key="feedback_id",
    closed_at="""case when feedback_status in ('HANDLED', 'REJECTED') then coalesce(handled_at, source_updated_at) end""",
    fields=("content",),
    built={"restricted.stg_dvc_portal__feedback_contents": ("feedback_content",)},
)
SUBJECTS = (DOSSIERS, FEEDBACK)

DDL = """
CREATE TABLE IF NOT EXISTS meta.pii_retention_runs (
    run_id           bigserial   PRIMARY KEY,
    retention_days   integer     NOT NULL,
    cutoff           timestamptz NOT NULL,
    previous_cutoff  timestamptz,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    records          integer     NOT NULL DEFAULT 0,
    raw_versions     integer     NOT NULL DEFAULT 0,
    built_rows       integer     NOT NULL DEFAULT 0,
    quarantined      integer     NOT NULL DEFAULT 0
);
COMMENT ON TABLE meta.pii_retention_runs IS
    'Runs of the PII retention (tthc/privacy/retention.py): records closed before cutoff had their personal fields cleared.';
CREATE TABLE IF NOT EXISTS meta.pii_retention_cleared (
    run_id       bigint      NOT NULL,
    entity       text        NOT NULL,
    record_key   text        NOT NULL,
    closed_at    timestamptz NOT NULL,
    versions     integer     NOT NULL,
    fields       text[]      NOT NULL,
    cleared_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE meta.pii_retention_cleared IS
    'One row per record and run: which raw versions had which personal fields set to null, and when.';
CREATE INDEX IF NOT EXISTS pii_retention_cleared_record ON meta.pii_retention_cleared (entity, record_key);
"""


@dataclass
class RetentionReport:
    run_id: int
    cutoff: datetime
    previous_cutoff: datetime | None
    due: int = 0  # records closed before the cutoff that this run looked at
    records: int = 0  # records with at least one raw version cleared
    raw_versions: int = 0
    built_rows: int = 0
    quarantined: int = 0


def retention_days(environ: dict[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    text = environ.get(DAYS_ENV, "").strip()
    if not text:
        return DEFAULT_DAYS
    try:
        days = int(text)
    except ValueError:
        raise RetentionError(
            f"{DAYS_ENV}={text!r}: a whole number of days is needed (default {DEFAULT_DAYS})"
        ) from None
    if days < 1:
        raise RetentionError(f"{DAYS_ENV}={days}: at least 1 day (records are cleared that long after they closed)")
    return days


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (relation,)).fetchone()[0]


def _due(conn: psycopg.Connection, subject: Subject, cutoff: datetime, previous: tuple | None) -> list[tuple]:
    """(record_key, business key, closed_at) of the records to clear in this run."""
    if not _exists(conn, subject.staging):
        return []
    closed = sql.SQL(subject.closed_at)
    staging = sql.SQL(subject.staging)
    if previous is None:  # the first run: everything closed before the cutoff
        query = sql.SQL(
            "SELECT record_key, business_key, closed_at FROM (SELECT record_key, {bk} AS business_key,"
            " {closed} AS closed_at FROM {staging}) d WHERE closed_at < %(cutoff)s"
        ).format(closed=closed, staging=staging, bk=sql.Identifier(subject.business_key))
        return conn.execute(query, {"cutoff": cutoff}).fetchall()
    previous_cutoff, previous_start = previous
    query = sql.SQL("""
        WITH d AS (SELECT record_key, {bk} AS business_key, {closed} AS closed_at FROM {staging})
        SELECT record_key, business_key, closed_at FROM d
        WHERE closed_at < %(cutoff)s AND closed_at >= %(previous_cutoff)s
        UNION
        SELECT record_key, business_key, closed_at FROM d
        WHERE closed_at < %(cutoff)s
          AND record_key IN (SELECT record_key FROM raw.{raw} WHERE loaded_at >= %(since)s)
    """).format(
        closed=closed, staging=staging, raw=sql.Identifier(subject.raw_table), bk=sql.Identifier(subject.business_key)
    )
    return conn.execute(
        query, {"cutoff": cutoff, "previous_cutoff": previous_cutoff, "since": previous_start - LOOKBACK}
    ).fetchall()


def _clear_raw(conn: psycopg.Connection, subject: Subject, run_id: int, batch: list[tuple]) -> tuple[int, int]:
    """Null the personal fields present in every version of the batch's records; returns
    (records, versions) changed (a record cleared before and not loaded again since changes nothing)."""
    closed = {key: closed_at for key, _, closed_at in batch}
    rows = conn.execute(
        sql.SQL("""
        UPDATE raw.{raw} r
        SET payload = r.payload || (SELECT jsonb_object_agg(k, 'null'::jsonb)
                                    FROM jsonb_object_keys(r.payload) k WHERE k = ANY(%(fields)s))
        WHERE r.record_key = ANY(%(keys)s)
          AND EXISTS (SELECT 1 FROM jsonb_each(r.payload) e WHERE e.key = ANY(%(fields)s) AND e.value <> 'null'::jsonb)
        RETURNING r.record_key
    """).format(raw=sql.Identifier(subject.raw_table)),
        {"fields": list(subject.fields), "keys": list(closed)},
    ).fetchall()
    versions: dict[str, int] = {}
    for (key,) in rows:
        versions[key] = versions.get(key, 0) + 1
    if versions:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta.pii_retention_cleared (run_id, entity, record_key, closed_at, versions, fields)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(run_id, subject.entity, key, closed[key], n, list(subject.fields)) for key, n in versions.items()],
            )
    return len(versions), len(rows)


def _tables_with(conn: psycopg.Connection, column: str, key: str) -> list[tuple[str, str]]:
    """(schema, table) of every table outside raw and meta that has both columns."""
    return conn.execute(
        """
        SELECT c.table_schema, c.table_name FROM information_schema.columns c
        JOIN information_schema.columns k USING (table_schema, table_name)
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.column_name = %s AND k.column_name = %s AND t.table_type = 'BASE TABLE'
          AND c.table_schema NOT IN ('raw', 'meta', 'pg_catalog', 'information_schema')
        ORDER BY 1, 2""",
        (column, key),
    ).fetchall()


def _clear_built(conn: psycopg.Connection, subject: Subject, keys: list[str]) -> int:
    """Null the restricted copies and the derived column of the records with these business keys."""
    targets = {tuple(relation.split(".")): set(columns) for relation, columns in subject.built.items()}
    if subject.derived:
        for table in _tables_with(conn, subject.derived, subject.business_key):
            targets.setdefault(table, set()).add(subject.derived)
    changed = 0
    for (schema, table), columns in sorted(targets.items()):
        if not _exists(conn, f'"{schema}"."{table}"'):
            continue
        ordered = sorted(columns)
        assignments = sql.SQL(", ").join(sql.SQL("{} = NULL").format(sql.Identifier(c)) for c in ordered)
        any_set = sql.SQL(" OR ").join(sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in ordered)
        cur = conn.execute(
            sql.SQL("UPDATE {}.{} SET {} WHERE {} = ANY(%s) AND ({})").format(
                sql.Identifier(schema),
                sql.Identifier(table),
                assignments,
                sql.Identifier(subject.business_key),
                any_set,
            ),
            (keys,),
        )
        changed += cur.rowcount
    return changed


def _clear_quarantine(conn: psycopg.Connection, cutoff: datetime, previous_cutoff: datetime | None) -> int:
    if not _exists(conn, "raw.quarantine"):
        return 0
    cur = conn.execute(
        # the old text's md5 stays in the marker, so a reader can still match a record to it; the
        # row leaves the open queue (pii_cleared_at): there is nothing left to replay
        f"UPDATE raw.quarantine SET raw_text = '{CLEARED_TEXT}' || md5(raw_text), pii_cleared_at = now()"
        " WHERE entity = ANY(%s) AND quarantined_at < %s"
        " AND (%s::timestamptz IS NULL OR quarantined_at >= %s::timestamptz - interval '1 day')"
        f" AND raw_text NOT LIKE '{CLEARED_TEXT}%%'",
        ([s.entity for s in SUBJECTS], cutoff, previous_cutoff, previous_cutoff),
    )
    return cur.rowcount


def run_retention(
    loader: Dsn, transformer: Dsn, days: int | None = None, now: datetime | None = None, batch_size: int = BATCH
) -> RetentionReport:
    """Clear the personal fields of records closed more than `days` (TTHC_PII_RETENTION_DAYS,
    default 365) before `now`. `loader` writes raw and meta; `transformer` reads staging and
    clears what dbt built (the same admin DSN may be given for both)."""
    days = retention_days() if days is None else days
    if days < 1:
        raise RetentionError(f"a retention of {days} days: at least 1 day")
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    with (
        psycopg.connect(loader.conninfo(), autocommit=True) as raw_conn,
        psycopg.connect(transformer.conninfo(), autocommit=True) as built_conn,
    ):
        with raw_conn.transaction():
            raw_conn.execute(DDL)
            previous = raw_conn.execute(
                "SELECT cutoff, started_at FROM meta.pii_retention_runs WHERE finished_at IS NOT NULL"
                " ORDER BY run_id DESC LIMIT 1"
            ).fetchone()
            run_id = raw_conn.execute(
                "INSERT INTO meta.pii_retention_runs (retention_days, cutoff, previous_cutoff)"
                " VALUES (%s, %s, %s) RETURNING run_id",
                (days, cutoff, previous[0] if previous else None),
            ).fetchone()[0]
        report = RetentionReport(run_id, cutoff, previous[0] if previous else None)
        for subject in SUBJECTS:
            due = _due(built_conn, subject, cutoff, previous)
            for start in range(0, len(due), batch_size):
                batch = due[start : start + batch_size]
                with raw_conn.transaction():
                    records, versions = _clear_raw(raw_conn, subject, run_id, batch)
                report.records += records
                report.raw_versions += versions
                with built_conn.transaction():
                    report.built_rows += _clear_built(built_conn, subject, [bk for _, bk, _ in batch])
            report.due += len(due)
        with raw_conn.transaction():
            report.quarantined = _clear_quarantine(raw_conn, cutoff, report.previous_cutoff)
            raw_conn.execute(
                "UPDATE meta.pii_retention_runs SET finished_at = now(), records = %s, raw_versions = %s,"
                " built_rows = %s, quarantined = %s WHERE run_id = %s",
                (report.records, report.raw_versions, report.built_rows, report.quarantined, run_id),
            )
    # counts only: never a key or a value (they identify people)
    log.info(
        "PII retention run %d: records closed before %s (%d days): %d looked at, %d records (%d raw versions)"
        " and %d built rows cleared, %d quarantined texts",
        run_id,
        cutoff.date(),
        days,
        report.due,
        report.records,
        report.raw_versions,
        report.built_rows,
        report.quarantined,
    )
    return report


def run_retention_as_stages(admin_or_any: Dsn, **kwargs) -> RetentionReport:
    """run_retention with the loader's and the transformer's logins derived from one DSN
    (tthc.warehouse.stages.as_stage: an admin's is bootstrapped and switched, a role's kept)."""
    from tthc.warehouse.stages import as_stage

    return run_retention(as_stage(admin_or_any, "loader"), as_stage(admin_or_any, "transformer"), **kwargs)


def run_in_airflow() -> dict:
    """The weekly DAG's task: the loader's and the transformer's Airflow logins (or as derived)."""
    from tthc.orchestration.connections import warehouse_dsn

    report = run_retention(warehouse_dsn("loader"), warehouse_dsn("transformer"))
    return {
        "run_id": report.run_id,
        "cutoff": report.cutoff.isoformat(),
        "records": report.records,
        "raw_versions": report.raw_versions,
        "built_rows": report.built_rows,
        "quarantined": report.quarantined,
    }
