"""Fingerprints of what a pipeline run leaves behind, for comparing two runs.

A run is judged by everything the night writes:
- every relation of every schema of the warehouse database (raw and meta apart; today staging,
  restricted, intermediate, core, marts, and any leftover such as marts__next), each as its
  rows' hashes in sorted order, without load bookkeeping (BOOKKEEPING below);
- the raw layer: per raw table the set of (record_key, payload_hash), plus the quarantine;
- meta: the watermarks, the successful extract of each window and the last gate's results,
  each without the columns that only say when, in which batch or run, or how long (META);
- the extract packages: the bytes of every file of every issued version in the outbox.

What is left out, and why (each is bookkeeping that differs between two runs holding the same data):
- columns in BOOKKEEPING, in every schema: when or in which batch or run a row was loaded;
- raw: loaded_at, batch_id, source_updated_at-as-fetched-at and the surrogate ids: raw is compared
  as its (record_key, payload_hash) versions, which is what raw promises to keep;
- meta.watermarks: run_id and updated_at (which run moved the watermark and when);
- staging.stg_dvc_portal__service_results.source_updated_at: the portal's scores carry no update
  time, so their loader stores the time it fetched them;
- meta.extract_runs: failed, abandoned and running attempts (a failure adds them by design: they are
  the record of the failure); of successful runs all but (source, entity, window_to), each such row
  counted once: where a window starts, what it fetched and loaded, its batch, run, times, retries and
  pages say how an attempt went (a rerun reads again from the watermark minus the lookback, and
  loads only the versions a failed attempt did not);
- meta.loss_status (the gate's loss measures): every gate run but the last, and of the last run_id,
  batch_id, recorded_at, fetched and source_total (the size of the latest attempt's window);
- meta.quality_results: every gate run but the last (a rerun gate adds a run), and run_id and
  checked_at of the last;
- meta views (extract_summary, gate_summary): computed from the tables above;
- meta.batch_id_seq and other sequences: counters, not data.

    before = take(dsn.conninfo(), outbox)
    ...
    assert not (diff := before.diff(take(dsn.conninfo(), outbox))), diff

`diff` names what differs (a table and how many rows on each side, a raw table's missing and
extra versions, a file) so a failing assertion says where to look.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

# Schemas that are PostgreSQL's own; every other schema is compared (raw and meta their own way).
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")
RAW, META = "raw", "meta"
# Columns that record how a row was loaded rather than what it says: when, in which batch or run.
BOOKKEEPING = frozenset(
    {
        "loaded_at",
        "batch_id",
        "run_id",
        "dbt_updated_at",
        "dbt_valid_from",
        "dbt_valid_to",
        "dbt_scd_id",
        "built_at",
        "refreshed_at",
        "_loaded_at",
    }
)


# Records of how builds ran, not of what the warehouse holds (docs/decisions/009): the change set
# has rows per build and the kept models' state a row per run, so a night with a failed attempt
# or an intraday refresh before it has more of them by design, as meta.extract_runs does.
RUN_RECORDS = frozenset({"intermediate.int_dossier_changes", "intermediate.kept_model_state"})

# Columns that are bookkeeping in one relation only.
RELATION_BOOKKEEPING = {
    # the portal's scores have no update time: their loader stores the time it fetched them
    "staging.stg_dvc_portal__service_results": frozenset({"source_updated_at"}),
}


@dataclass(frozen=True)
class MetaRule:
    """Which rows and columns of a meta table say what the night did (the rest says how it went)."""

    columns: tuple[str, ...]
    where: str = "true"
    distinct: bool = False  # the same row from several attempts counts once


META_TABLES = {
    "watermarks": MetaRule(("source", "entity", "high_watermark")),
    "extract_runs": MetaRule(("source", "entity", "window_to", "status"), "status = 'success'", distinct=True),
    "quality_results": MetaRule(
        ("suite", "check_name", "severity", "success", "observed", "sample", "description"),
        "run_id = (SELECT run_id FROM meta.quality_results ORDER BY checked_at DESC LIMIT 1)",
    ),
    # which gate the published marts passed: the latest publication's day (its run id is bookkeeping)
    "marts_publications": MetaRule(
        ("as_of",), "published_at = (SELECT max(published_at) FROM meta.marts_publications)"
    ),
    "loss_status": MetaRule(
        (
            "source",
            "entity",
            "quarantined_open",
            "missing",
            "open_too_long",
            "quarantine_over",
            "missing_over",
            "first_records",
            "thresholds",
        ),
        "run_id = (SELECT run_id FROM meta.loss_status ORDER BY recorded_at DESC LIMIT 1)",
    ),
}
_VERSION_DIR = re.compile(r"^v[1-9][0-9]*$")


@dataclass(frozen=True)
class TableFingerprint:
    rows: int
    row_hashes: tuple[str, ...]  # md5 of each row's text, sorted

    @property
    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.row_hashes).encode()).hexdigest()


@dataclass
class Fingerprint:
    warehouse: dict[str, TableFingerprint] = field(default_factory=dict)  # "schema.table" -> rows
    raw: dict[str, frozenset] = field(default_factory=dict)  # "raw.table" -> versions
    packages: dict[str, str] = field(default_factory=dict)  # path in outbox -> sha256

    def diff(self, other: Fingerprint) -> list[str]:
        """What differs from `other`, one line per difference; empty when they are the same."""
        out = []
        for name in sorted(set(self.warehouse) | set(other.warehouse)):
            a, b = self.warehouse.get(name), other.warehouse.get(name)
            if a is None or b is None:
                out.append(f"{name}: only in the {'second' if a is None else 'first'} run")
            elif a.digest != b.digest:
                only_a = _multiset_minus(a.row_hashes, b.row_hashes)
                only_b = _multiset_minus(b.row_hashes, a.row_hashes)
                out.append(
                    f"{name}: {a.rows} vs {b.rows} rows; {only_a} rows only in the first, {only_b} only in the second"
                )
        for name in sorted(set(self.raw) | set(other.raw)):
            a, b = self.raw.get(name, frozenset()), other.raw.get(name, frozenset())
            if a != b:
                out.append(
                    f"{name}: {len(a - b)} versions only in the first (e.g. {sorted(a - b)[:2]}), "
                    f"{len(b - a)} only in the second (e.g. {sorted(b - a)[:2]})"
                )
        for path in sorted(set(self.packages) | set(other.packages)):
            a, b = self.packages.get(path), other.packages.get(path)
            if a != b:
                out.append(
                    f"outbox/{path}: "
                    + (
                        "missing in the first"
                        if a is None
                        else "missing in the second"
                        if b is None
                        else "bytes differ"
                    )
                )
        return out


def take(conninfo: str, outbox: Path | None = None, schemas: tuple[str, ...] | None = None) -> Fingerprint:
    """The fingerprint of the database (every schema unless `schemas` names some) and the outbox."""
    with psycopg.connect(conninfo) as conn:
        conn.execute("SET TIME ZONE 'UTC'")  # row text of timestamptz must not depend on the session
        schemas = schemas or user_schemas(conn)
        fingerprint = Fingerprint(
            warehouse=warehouse_tables(conn, tuple(s for s in schemas if s not in (RAW, META)))
            | (meta_tables(conn) if META in schemas else {}),
            raw=raw_versions(conn) if RAW in schemas else {},
        )
    if outbox is not None:
        fingerprint.packages = package_files(outbox)
    return fingerprint


def user_schemas(conn: psycopg.Connection) -> tuple[str, ...]:
    return tuple(
        s
        for (s,) in conn.execute(
            "SELECT nspname FROM pg_namespace WHERE NOT (nspname = ANY(%s)) AND nspname !~ '^pg_(temp|toast_temp)_' "
            "ORDER BY 1",
            (list(SYSTEM_SCHEMAS),),
        )
    )


def meta_tables(conn: psycopg.Connection) -> dict[str, TableFingerprint]:
    """The meta tables by their rules (META_TABLES); a meta table without a rule is compared whole,
    without BOOKKEEPING, so a new one is seen until someone decides what in it is bookkeeping."""
    tables = [
        t
        for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'meta' "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ]
    out = {}
    for table in tables:
        rule = META_TABLES.get(table)
        if rule is None:
            out |= warehouse_tables(conn, (META,), only=table)
            continue
        row = sql.SQL(", ").join(sql.Identifier(c) for c in rule.columns)
        hashes = tuple(
            h
            for (h,) in conn.execute(
                sql.SQL("SELECT {distinct} md5(ROW({row})::text) AS h FROM {rel} WHERE {where} ORDER BY h").format(
                    distinct=sql.SQL("DISTINCT" if rule.distinct else ""),
                    row=row,
                    rel=sql.Identifier(META, table),
                    where=sql.SQL(rule.where),
                )
            )
        )
        out[f"meta.{table}"] = TableFingerprint(len(hashes), hashes)
    return out


def warehouse_tables(
    conn: psycopg.Connection, schemas: tuple[str, ...], exclude: frozenset[str] = BOOKKEEPING, only: str | None = None
) -> dict[str, TableFingerprint]:
    relations = conn.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema = ANY(%s) AND table_name !~ '__dbt_' "  # dbt's temporaries
        "AND (%s::text IS NULL OR table_name = %s) ORDER BY 1, 2",
        (list(schemas), only, only),
    ).fetchall()
    out = {}
    for schema, table in relations:
        if f"{schema}.{table}" in RUN_RECORDS:
            continue
        skip = exclude | RELATION_BOOKKEEPING.get(f"{schema}.{table}", frozenset())
        columns = [
            c
            for (c,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
                "ORDER BY ordinal_position",
                (schema, table),
            )
            if c not in skip
        ]
        if not columns:
            continue
        # ROW(...)::text is PostgreSQL's own rendering: exact for numerics, fixed for the session's zone.
        row = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        hashes = tuple(
            h
            for (h,) in conn.execute(
                sql.SQL("SELECT md5(ROW({row})::text) AS h FROM {rel} ORDER BY h").format(
                    row=row, rel=sql.Identifier(schema, table)
                )
            )
        )
        out[f"{schema}.{table}"] = TableFingerprint(len(hashes), hashes)
    return out


def raw_versions(conn: psycopg.Connection) -> dict[str, frozenset]:
    """Per raw table the (record_key, payload_hash) set; the quarantine as (source, entity, key, reason, text hash)."""
    tables = [
        t
        for (t,) in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        )
    ]
    out = {}
    for table in tables:
        if table == "quarantine":
            query = sql.SQL(
                "SELECT source, entity, coalesce(record_key, ''), reason, md5(raw_text) FROM raw.quarantine"
            )
        else:
            query = sql.SQL("SELECT record_key, payload_hash FROM {}").format(sql.Identifier("raw", table))
        out[f"raw.{table}"] = frozenset(conn.execute(query).fetchall())
    return out


def package_files(outbox: Path) -> dict[str, str]:
    """sha256 of every file of every issued version (v{N} folders); unfinished temporary folders
    and lock files are not packages and are left out (see `litter`)."""
    outbox = Path(outbox)
    out = {}
    for version_dir in sorted(p for p in outbox.glob("*/*/*") if p.is_dir() and _VERSION_DIR.match(p.name)):
        for path in sorted(version_dir.rglob("*")):
            if path.is_file():
                out[str(path.relative_to(outbox))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def litter(outbox: Path) -> list[Path]:
    """Temporary folders an interrupted package write left behind (hidden `.v{N}.tmp-*`)."""
    return sorted(p for p in Path(outbox).glob("*/*/.v*.tmp-*") if p.is_dir())


def _multiset_minus(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    from collections import Counter

    return sum((Counter(a) - Counter(b)).values())
