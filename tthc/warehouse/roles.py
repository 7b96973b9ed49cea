"""Least-privilege login roles of the warehouse and the superuser's one idempotent bootstrap.

Who may do what (docs/decisions/006-least-privilege-roles.md says why):

- tthc_loader: the extractors. Owns `raw` and `meta` and what it creates there (raw tables,
  raw.quarantine, meta.extract_runs, meta.watermarks, meta.batch_id_seq); reads nothing else.
- tthc_transformer: dbt, the quality gate, the marts swap. Owns staging, restricted,
  intermediate, core, marts (and the shadow marts__next) and what dbt builds there; reads raw and
  the loader's run records; creates meta.quality_results and the summary views in meta; may create
  schemas in the database (the swap renames schemas, which PostgreSQL allows only to a schema's
  owner holding CREATE on the database).
- tthc_publisher: the monthly extract. Reads the marts, the two relations the extract joins
  (core.dim_unit, intermediate.int_unit_closure) and the run records in meta; writes nothing in
  the warehouse (deliveries are recorded in the outbox's files).
- tthc_bi: BI tools read the marts and nothing else, never `restricted` nor raw payloads.

None is a superuser, none may create roles or databases. The superuser only creates the roles,
the schemas (with their owners) and extensions, and moves objects it owns in the project's
schemas to the right role (the one-time fix of a warehouse built before these roles logged in).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)

LOADER, TRANSFORMER, PUBLISHER, BI = "tthc_loader", "tthc_transformer", "tthc_publisher", "tthc_bi"
ROLES = (LOADER, TRANSFORMER, PUBLISHER, BI)
LOADER_SCHEMAS = ("raw", "meta")
BUILT_SCHEMAS = ("staging", "restricted", "intermediate", "core", "marts", "util")
SHADOW_SCHEMAS = ("marts__next", "marts__prev")  # tthc/pipeline/marts.py
# meta holds both stages' records: these are the transformer's (the gate's results and loss
# measures, the summary views); the rest (run records, watermarks, retention runs) the loader's.
TRANSFORMER_META = ("quality_results", "loss_status", "extract_summary", "gate_summary")
# What the monthly extract reads outside the marts (tthc/publish/rows.py).
PUBLISHER_READS = ("core.dim_unit", "intermediate.int_unit_closure")
EXTENSIONS = ("pgcrypto",)
# Raised when what the bootstrap sets up changes, so existing warehouses get it once.
VERSION = "tthc-roles:1"
_LOCK = "tthc-warehouse-bootstrap"
_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


class BootstrapError(RuntimeError):
    pass


def owner_of(schema: str, name: str | None = None) -> str:
    """The role that owns `schema` (and, given `name`, that object in it)."""
    if schema == "meta" and name in TRANSFORMER_META:
        return TRANSFORMER
    if schema in LOADER_SCHEMAS:
        return LOADER
    return TRANSFORMER


def password_matches(verifier: str | None, role: str, password: str) -> bool:
    """Whether `password` logs `role` in, read from pg_authid's stored verifier (SCRAM or md5),
    so a bootstrap sets a password only when it changed (ALTER ROLE rewrites a shared catalog
    row that concurrent sessions of other databases may be updating too)."""
    if not verifier:
        return False
    if verifier.startswith("SCRAM-SHA-256$"):
        try:
            iterations_salt, keys = verifier[len("SCRAM-SHA-256$"):].split("$", 1)
            iterations, salt = iterations_salt.split(":", 1)
            stored_key = keys.split(":", 1)[0]
            salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
            client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
            return hmac.compare_digest(hashlib.sha256(client_key).digest(), base64.b64decode(stored_key))
        except ValueError:
            return False
    if verifier.startswith("md5"):
        return hmac.compare_digest(verifier, "md5" + hashlib.md5((password + role).encode()).hexdigest())
    return False


def _ensure_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    """The role exists and logs in with no privilege beyond its grants; `password` is set when
    it differs from the stored one (None: leave an existing role's password as it is)."""
    ident = sql.Identifier(role)
    row = conn.execute(
        "SELECT rolcanlogin, rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls "
        "FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if row is None:
        try:
            # Roles are cluster-wide: another database's bootstrap (not under this database's
            # advisory lock) may create it at the same moment.
            with conn.transaction():
                if password is None:
                    conn.execute(sql.SQL("CREATE ROLE {} " + _ATTRIBUTES.replace("LOGIN", "NOLOGIN", 1)).format(ident))
                else:
                    conn.execute(sql.SQL("CREATE ROLE {} " + _ATTRIBUTES + " PASSWORD {}").format(
                        ident, sql.Literal(password)))
            return
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            row = (False, False)
    can_login, privileged = row
    if password is not None and not (can_login and _stored_password_matches(conn, role, password)):
        conn.execute(sql.SQL("ALTER ROLE {} " + _ATTRIBUTES + " PASSWORD {}").format(ident, sql.Literal(password)))
    elif privileged:
        conn.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS").format(ident))


def _stored_password_matches(conn: psycopg.Connection, role: str, password: str) -> bool:
    try:
        with conn.transaction():
            row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    except psycopg.errors.InsufficientPrivilege:  # an admin with CREATEROLE only: cannot tell, so set it
        return False
    return password_matches(row[0] if row else None, role, password)


def _is_admin(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def _misowned(conn: psycopg.Connection) -> list[tuple[str, str, str, str]]:
    """(kind, schema, name, signature) of every object in the project's schemas that no stage role
    owns: made by the superuser (a warehouse built before the roles logged in, or a test set-up).
    Sequences owned by a table column move with their table; extension members are left alone."""
    schemas = list(LOADER_SCHEMAS + BUILT_SCHEMAS + SHADOW_SCHEMAS)
    return conn.execute(
        """
        WITH stage AS (SELECT oid FROM pg_roles WHERE rolname = ANY(%(roles)s))
        SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
               n.nspname, c.relname, ''
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
          AND c.relowner NOT IN (SELECT oid FROM stage)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
        UNION ALL
        SELECT 'ROUTINE', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ANY(%(schemas)s) AND p.proowner NOT IN (SELECT oid FROM stage)
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
        ORDER BY 2, 3
        """, {"roles": list(ROLES), "schemas": schemas}).fetchall()


def _schema_owners(conn: psycopg.Connection) -> dict[str, str]:
    return dict(conn.execute(
        "SELECT n.nspname, r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
        "WHERE n.nspname = ANY(%s)", (list(LOADER_SCHEMAS + BUILT_SCHEMAS + SHADOW_SCHEMAS),)).fetchall())


def is_bootstrapped(conn: psycopg.Connection) -> bool:
    """Done already, and nothing made since by the superuser: then a bootstrap writes nothing."""
    marker = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                          "WHERE datname = current_database()").fetchone()[0]
    if marker != VERSION or _misowned(conn):
        return False
    owners = _schema_owners(conn)
    return all(owners.get(s) == owner_of(s) for s in LOADER_SCHEMAS + BUILT_SCHEMAS) and \
        all(owners[s] == TRANSFORMER for s in SHADOW_SCHEMAS if s in owners)


def apply_roles(conninfo: str, passwords: dict[str, str | None] | None = None) -> None:
    """As the superuser (or a role with CREATEROLE), idempotently: the four roles, pgcrypto, the
    schemas with their owners, the ownership fix, grants and default privileges. `passwords` sets
    the named roles' login passwords (a role created without one cannot log in until given one).

    One transaction under an advisory lock: stages resolving their logins at the same time (the
    ingest DAG's mapped tasks) wait for one another instead of racing on the catalog. When the
    database is already set up (is_bootstrapped), only the passwords are checked."""
    passwords = passwords or {}
    with psycopg.connect(conninfo) as conn:
        if not _is_admin(conn):
            raise BootstrapError("the warehouse bootstrap needs a superuser (or CREATEROLE) connection; "
                                 "this one is a stage role: give WAREHOUSE_DSN the admin's login")
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
        for role in ROLES:
            _ensure_role(conn, role, passwords.get(role))
        if is_bootstrapped(conn):
            conn.commit()
            return
        _setup_database(conn)
        conn.commit()
    log.info("warehouse roles applied: %s", ", ".join(ROLES))


def _setup_database(conn: psycopg.Connection) -> None:
    ident, q = sql.Identifier, sql.SQL
    database = conn.execute("SELECT current_database()").fetchone()[0]
    available = {name for (name,) in conn.execute("SELECT name FROM pg_available_extensions")}
    for extension in EXTENSIONS:
        if extension in available:
            # In public, where dbt's var pgcrypto_schema calls hmac() schema-qualified.
            conn.execute(q("CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA public").format(ident(extension)))
        else:
            log.warning("extension %s is not installed on this server (package postgresql-contrib)", extension)

    conn.execute(q("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(ident(database)))
    conn.execute(q("GRANT CONNECT ON DATABASE {} TO {}").format(
        ident(database), q(", ").join(ident(r) for r in ROLES)))
    # TEMP: dbt's incremental merges, GX's query assets and the loader's COPY use temporary tables.
    conn.execute(q("GRANT TEMPORARY ON DATABASE {} TO {}, {}").format(ident(database), ident(LOADER), ident(TRANSFORMER)))
    # CREATE: the marts swap (ALTER SCHEMA … RENAME) and the shadow schema it recreates.
    conn.execute(q("GRANT CREATE ON DATABASE {} TO {}").format(ident(database), ident(TRANSFORMER)))
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")

    owners = _schema_owners(conn)
    for schema in LOADER_SCHEMAS + BUILT_SCHEMAS + tuple(s for s in SHADOW_SCHEMAS if s in owners):
        owner = owner_of(schema)
        if schema not in owners:
            conn.execute(q("CREATE SCHEMA {} AUTHORIZATION {}").format(ident(schema), ident(owner)))
        elif owners[schema] != owner:
            conn.execute(q("ALTER SCHEMA {} OWNER TO {}").format(ident(schema), ident(owner)))
        conn.execute(q("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))

    for kind, schema, name, args in _misowned(conn):
        target = owner_of(schema, name)
        name_sql = q("{}.{}").format(ident(schema), ident(name))
        if kind == "ROUTINE":
            name_sql = q("{}({})").format(name_sql, q(args))
        conn.execute(q("ALTER {} {} OWNER TO {}").format(q(kind), name_sql, ident(target)))
        log.info("warehouse: %s %s.%s now owned by %s", kind.lower(), schema, name, target)

    # The transformer reads raw and the loader's run records, now and what the loader creates later.
    conn.execute(q("GRANT USAGE ON SCHEMA raw TO {}").format(ident(TRANSFORMER)))
    conn.execute(q("GRANT SELECT ON ALL TABLES IN SCHEMA raw TO {}").format(ident(TRANSFORMER)))
    conn.execute(q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA raw GRANT SELECT ON TABLES TO {}").format(
        ident(LOADER), ident(TRANSFORMER)))
    # meta: the transformer adds its results there; the publisher reads the run records for the manifest.
    conn.execute(q("GRANT USAGE, CREATE ON SCHEMA meta TO {}").format(ident(TRANSFORMER)))
    conn.execute(q("GRANT USAGE ON SCHEMA meta TO {}").format(ident(PUBLISHER)))
    conn.execute(q("GRANT SELECT ON ALL TABLES IN SCHEMA meta TO {}, {}").format(ident(TRANSFORMER), ident(PUBLISHER)))
    for creator in (LOADER, TRANSFORMER):
        conn.execute(q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA meta GRANT SELECT ON TABLES TO {}, {}").format(
            ident(creator), ident(TRANSFORMER), ident(PUBLISHER)))
    # The publisher sees the names in core and intermediate, and reads only the relations it joins.
    conn.execute(q("GRANT USAGE ON SCHEMA core, intermediate TO {}").format(ident(PUBLISHER)))
    grant_publisher_reads(conn)
    grant_marts(conn)
    for schema in SHADOW_SCHEMAS:
        if schema in owners:
            grant_shadow(conn, schema)
    conn.execute(q("COMMENT ON DATABASE {} IS {}").format(ident(database), sql.Literal(VERSION)))


def _existing(conn: psycopg.Connection, roles: tuple[str, ...]) -> list[str]:
    return [r for (r,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", (list(roles),))]


def grant_publisher_reads(conn: psycopg.Connection) -> None:
    """SELECT for the publisher on PUBLISHER_READS that exist. dbt replaces a table on each full
    build, and a new table has no grants: the transformer (their owner) runs this after a build."""
    if not _existing(conn, (PUBLISHER,)):
        return
    for name in PUBLISHER_READS:
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]:
            schema, table = name.split(".")
            conn.execute(sql.SQL("GRANT SELECT ON {}.{} TO {}").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(PUBLISHER)))


def grant_marts(conn: psycopg.Connection, schema: str = "marts") -> None:
    """BI and the publisher read every table of the published marts.

    Applied by the bootstrap and again inside the swap transaction that makes a freshly built
    schema the published one (grants and default privileges belong to the schema object, so a
    swapped-in schema has none until this runs). Roles not created yet are skipped."""
    ident = sql.Identifier
    present = _existing(conn, (TRANSFORMER, PUBLISHER, BI))
    creator = conn.execute("SELECT current_user").fetchone()[0]
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))
    readers = [r for r in (PUBLISHER, BI) if r in present]
    for reader in readers:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(reader)))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(ident(schema), ident(reader)))
    if readers:
        # What the transformer creates there later; a superuser may set them for it too.
        creators = {creator} | ({TRANSFORMER} & set(present) if _is_superuser(conn) else set())
        for role in sorted(creators):
            conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                ident(role), ident(schema), sql.SQL(", ").join(ident(r) for r in readers)))


def _is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def grant_shadow(conn: psycopg.Connection, schema: str) -> None:
    """A shadow schema (marts being built, not yet gated): its owner builds there, nobody else sees it."""
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
