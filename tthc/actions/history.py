"""The per-unit, per-refresh summary kept as history: `actions_history.unit_summary`.

Its columns are act_unit_summary's, primary key (at_ts, unit_code). A refresh appends the
summary it publishes inside the swap's own transaction (tthc/actions/publish.py), so history
holds exactly the published refreshes: a refresh that fails or is killed before the commit
leaves no row, and the same T published twice keeps its first row (ON CONFLICT DO NOTHING).

Not built by dbt (dbt would replace it): created here, by the transformer, which creates the
schemas it publishes (docs/decisions/006); a column act_unit_summary gains is added on the next
append. BI reads it to chart how the lists and the projection moved.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

SCHEMA = "actions_history"
TABLE = "unit_summary"
SOURCE = "act_unit_summary"
KEY = ("at_ts", "unit_code")
BI_ROLE = "tthc_bi"


def _columns(conn: psycopg.Connection, schema: str, table: str) -> list[tuple[str, str]]:
    return conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        (schema, table),
    ).fetchall()


def ensure_history(conn: psycopg.Connection, source_schema: str) -> list[str]:
    """The history table exists with every column of `source_schema`.act_unit_summary; returns
    those columns. Runs inside the caller's transaction."""
    ident = sql.Identifier
    source = _columns(conn, source_schema, SOURCE)
    if not source:
        raise RuntimeError(f"{source_schema}.{SOURCE} does not exist: the actions models did not build it")
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(SCHEMA)))
    have = dict(_columns(conn, SCHEMA, TABLE))
    if not have:
        conn.execute(
            sql.SQL("CREATE TABLE {}.{} ({}, PRIMARY KEY ({}))").format(
                ident(SCHEMA),
                ident(TABLE),
                sql.SQL(", ").join(sql.SQL("{} {}").format(ident(name), sql.SQL(kind)) for name, kind in source),
                sql.SQL(", ").join(ident(k) for k in KEY),
            )
        )
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (BI_ROLE,)).fetchone():
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(SCHEMA), ident(BI_ROLE)))
            conn.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(ident(SCHEMA), ident(TABLE), ident(BI_ROLE)))
    else:
        for name, kind in source:
            if name not in have:
                conn.execute(
                    sql.SQL("ALTER TABLE {}.{} ADD COLUMN {} {}").format(
                        ident(SCHEMA), ident(TABLE), ident(name), sql.SQL(kind)
                    )
                )
    return [name for name, _ in source]


def append_history(conn: psycopg.Connection, source_schema: str = "actions") -> int:
    """Append the published summary; returns the rows added (0 when this T is already there)."""
    ident = sql.Identifier
    columns = sql.SQL(", ").join(ident(c) for c in ensure_history(conn, source_schema))
    cursor = conn.execute(
        sql.SQL("INSERT INTO {}.{} ({}) SELECT {} FROM {}.{} ON CONFLICT ({}) DO NOTHING").format(
            ident(SCHEMA),
            ident(TABLE),
            columns,
            columns,
            ident(source_schema),
            ident(SOURCE),
            sql.SQL(", ").join(ident(k) for k in KEY),
        )
    )
    return cursor.rowcount
