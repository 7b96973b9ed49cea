"""Least-privilege roles of the warehouse, applied idempotently.

- tthc_loader: writes the raw layer and the extractors' metadata, reads nothing else.
- tthc_transformer: reads raw, builds staging/restricted/intermediate/core/marts (dbt, the gate).
- tthc_bi: BI tools (Superset, Metabase) read the marts and nothing else; in particular never
  `restricted` (applicant names, ID numbers, phones, feedback text) nor raw payloads.

Objects are created by whichever role runs dbt; default privileges make every table it creates
later in `marts` readable by tthc_bi without a grant after each build.
"""
from __future__ import annotations

import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

LOADER, TRANSFORMER, BI = "tthc_loader", "tthc_transformer", "tthc_bi"
LOADER_SCHEMAS = ("raw", "meta")
BUILT_SCHEMAS = ("staging", "restricted", "intermediate", "core", "marts", "util")


def _ensure_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    if password:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))


def apply_roles(conninfo: str, passwords: dict[str, str] | None = None) -> None:
    """Create the roles and grants. `passwords` makes the named roles able to log in."""
    passwords = passwords or {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        owner = conn.execute("SELECT current_user").fetchone()[0]
        database = conn.execute("SELECT current_database()").fetchone()[0]
        for role in (LOADER, TRANSFORMER, BI):
            _ensure_role(conn, role, passwords.get(role))
        ident = sql.Identifier
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident(database)))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}, {}").format(
            ident(database), ident(LOADER), ident(TRANSFORMER), ident(BI)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        # applicant_key's hmac (dbt macro applicant_hash, var pgcrypto_schema; docs/decisions/007)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public")
        for schema in LOADER_SCHEMAS + BUILT_SCHEMAS:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident(schema)))
            conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))
        for schema in LOADER_SCHEMAS:
            conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(ident(schema), ident(LOADER)))
            conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA {} TO {}").format(
                ident(schema), ident(LOADER)))
            conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(ident(schema), ident(LOADER)))
            conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(TRANSFORMER)))
            conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident(schema), ident(TRANSFORMER)))
            conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                ident(owner), ident(schema), ident(TRANSFORMER)))
        for schema in BUILT_SCHEMAS:
            conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(ident(schema), ident(TRANSFORMER)))
        grant_marts(conn)
    log.info("warehouse roles applied: %s, %s, %s", LOADER, TRANSFORMER, BI)


def _existing(conn: psycopg.Connection, roles: tuple[str, ...]) -> list[str]:
    return [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(roles),))]


def grant_marts(conn: psycopg.Connection, schema: str = "marts") -> None:
    """BI reads every table of the published marts; the transformer builds there.

    Applied by apply_roles and again inside the swap transaction that makes a freshly built
    schema the published one (grants and default privileges belong to the schema object, so a
    swapped-in schema has none until this runs). Roles not created yet are skipped."""
    ident = sql.Identifier
    present = _existing(conn, (TRANSFORMER, BI))
    owner = conn.execute("SELECT current_user").fetchone()[0]
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))
    if TRANSFORMER in present:
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(ident(schema), ident(TRANSFORMER)))
    if BI in present:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(BI)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident(schema), ident(BI)))
        for creator in {owner} | ({TRANSFORMER} & set(present)):
            conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                ident(creator), ident(schema), ident(BI)))


def grant_shadow(conn: psycopg.Connection, schema: str) -> None:
    """A shadow schema (marts being built, not yet gated): the transformer builds there, BI sees nothing."""
    ident = sql.Identifier
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))
    if _existing(conn, (TRANSFORMER,)):
        conn.execute(sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(ident(schema), ident(TRANSFORMER)))


def role_passwords() -> dict[str, str]:
    """Login passwords from the environment (TTHC_BI_PASSWORD, …); the embedded warehouse
    generates a BI password once and keeps it beside the cluster (mode 600)."""
    import os
    import secrets

    from tthc.paths import LOCAL

    passwords = {role: os.environ[var] for role, var in (
        (LOADER, "TTHC_LOADER_PASSWORD"), (TRANSFORMER, "TTHC_TRANSFORMER_PASSWORD"), (BI, "TTHC_BI_PASSWORD"),
    ) if os.environ.get(var)}
    if BI not in passwords and not os.environ.get("WAREHOUSE_DSN"):
        path = LOCAL / "bi.password"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(18))
            path.chmod(0o600)
        passwords[BI] = path.read_text().strip()
    return passwords
