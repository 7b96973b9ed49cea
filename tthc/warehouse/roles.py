"""Least-privilege login roles of the warehouse and the superuser's one idempotent bootstrap.

Who may do what (docs/decisions/006-least-privilege-roles.md says why):

- tthc_loader: the extractors. Owns `raw` and `meta` and what it creates there (raw tables,
  raw.quarantine, meta.extract_runs, meta.watermarks, meta.batch_id_seq); reads nothing else.
- tthc_transformer: dbt, the quality gate, the marts swap. Owns staging, restricted,
  intermediate, core, marts (and the shadow marts__next) and what dbt builds there; reads raw and
  the loader's run records; creates meta.quality_results and the summary views in meta; may create
  schemas in the database (the swap renames schemas, which PostgreSQL allows only to a schema's
  owner holding CREATE on the database).
- tthc_publisher: the monthly province package. Reads the marts, the two relations it joins
  (core.dim_unit, intermediate.int_unit_closure) and the run records in meta; writes only its
  log of the daily action messages, meta.action_messages (deliveries of the monthly packages are
  recorded in the outbox's files).
- tthc_bi: BI tools read the marts and the actions lists (every row) except the one table that
  names the handlers (act_list_rows_named); never `restricted` nor raw payloads.
- tthc_unit_reader (NOLOGIN): the group of the per-unit logins (tthc/warehouse/unit_logins.py).
  A member reads the actions tables' rows of its own unit's subtree through row-level security,
  handlers' names included, and nothing else (docs/decisions/008-unit-row-level-security.md).

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
UNIT_READER = "tthc_unit_reader"  # NOLOGIN group of the per-unit logins; not a stage
LOADER_SCHEMAS = ("raw", "meta")
# unit_access: the one definer function row-level security calls (see grant_actions).
BUILT_SCHEMAS = ("staging", "restricted", "intermediate", "core", "marts", "unit_access")
# Schemas earlier versions made, with the routines they put there: the bootstrap drops those routines,
# then the schema if nothing else is in it (anything else is someone's, and stays with a warning).
# util: dim_date's working-time functions, which nothing called (removed in tthc-roles:3).
RETIRED_SCHEMAS = {
    "util": (
        "working_seconds_at(timestamptz)",
        "working_seconds_between(timestamptz, timestamptz)",
        "add_working_seconds(timestamptz, numeric)",
    )
}
SHADOW_SCHEMAS = ("marts__next", "marts__prev")  # tthc/pipeline/marts.py
# The actions lists (tthc/actions/publish.py: built in actions__next, swapped in) and their
# history (appended, never swapped); the transformer's when they exist.
ACTIONS, ACTIONS_HISTORY = "actions", "actions_history"
ACTIONS_SCHEMAS = (ACTIONS, ACTIONS_HISTORY, "actions__next", "actions__prev")
OPTIONAL_SCHEMAS = SHADOW_SCHEMAS + ACTIONS_SCHEMAS
# meta holds both stages' records: these are the transformer's (the gate's results and loss
# measures, the summary views); the rest (run records, watermarks, retention runs) the loader's.
TRANSFORMER_META = (
    "quality_results",
    "loss_status",
    "extract_summary",
    "gate_summary",
    "unit_logins",
    "marts_publications",
)
# What the monthly package reads outside the marts (tthc/province_package/rows.py).
PUBLISHER_READS = ("core.dim_unit", "intermediate.int_unit_closure")
EXTENSIONS = ("pgcrypto",)
# Raised when what the bootstrap sets up changes, so existing warehouses get it once.
VERSION = "tthc-roles:3"  # 2: the unit readers' group, unit_access, meta.unit_logins, RLS on actions,
#                            meta.action_messages; 3: the retired util schema dropped
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
            iterations_salt, keys = verifier[len("SCRAM-SHA-256$") :].split("$", 1)
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
        "FROM pg_roles WHERE rolname = %s",
        (role,),
    ).fetchone()
    if row is None:
        try:
            # Roles are cluster-wide: another database's bootstrap (not under this database's
            # advisory lock) may create it at the same moment.
            with conn.transaction():
                if password is None:
                    conn.execute(sql.SQL("CREATE ROLE {} " + _ATTRIBUTES.replace("LOGIN", "NOLOGIN", 1)).format(ident))
                else:
                    conn.execute(
                        sql.SQL("CREATE ROLE {} " + _ATTRIBUTES + " PASSWORD {}").format(ident, sql.Literal(password))
                    )
            return
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            row = (False, False)
    can_login, privileged = row
    if password is not None and not (can_login and _stored_password_matches(conn, role, password)):
        conn.execute(sql.SQL("ALTER ROLE {} " + _ATTRIBUTES + " PASSWORD {}").format(ident, sql.Literal(password)))
    elif privileged:
        conn.execute(
            sql.SQL("ALTER ROLE {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS").format(ident)
        )


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
    schemas = list(LOADER_SCHEMAS + BUILT_SCHEMAS + OPTIONAL_SCHEMAS)
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
        """,
        {"roles": list(ROLES), "schemas": schemas},
    ).fetchall()


def _schema_owners(conn: psycopg.Connection) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT n.nspname, r.rolname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner "
            "WHERE n.nspname = ANY(%s)",
            (list(LOADER_SCHEMAS + BUILT_SCHEMAS + OPTIONAL_SCHEMAS),),
        ).fetchall()
    )


def is_bootstrapped(conn: psycopg.Connection) -> bool:
    """Done already, and nothing made since by the superuser: then a bootstrap writes nothing."""
    marker = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0]
    if marker != VERSION or _misowned(conn):
        return False
    owners = _schema_owners(conn)
    return all(owners.get(s) == owner_of(s) for s in LOADER_SCHEMAS + BUILT_SCHEMAS) and all(
        owners[s] == TRANSFORMER for s in OPTIONAL_SCHEMAS if s in owners
    )


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
            raise BootstrapError(
                "the warehouse bootstrap needs a superuser (or CREATEROLE) connection; "
                "this one is a stage role: give WAREHOUSE_DSN the admin's login"
            )
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (_LOCK,))
        for role in ROLES:
            _ensure_role(conn, role, passwords.get(role))
        _ensure_role(conn, UNIT_READER, None)  # NOLOGIN: only its members log in
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
    conn.execute(q("GRANT CONNECT ON DATABASE {} TO {}").format(ident(database), q(", ").join(ident(r) for r in ROLES)))
    # TEMP: dbt's incremental merges, GX's query assets and the loader's COPY use temporary tables.
    conn.execute(
        q("GRANT TEMPORARY ON DATABASE {} TO {}, {}").format(ident(database), ident(LOADER), ident(TRANSFORMER))
    )
    # CREATE: the marts swap (ALTER SCHEMA … RENAME) and the shadow schema it recreates.
    conn.execute(q("GRANT CREATE ON DATABASE {} TO {}").format(ident(database), ident(TRANSFORMER)))
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")

    owners = _schema_owners(conn)
    for schema in LOADER_SCHEMAS + BUILT_SCHEMAS + tuple(s for s in OPTIONAL_SCHEMAS if s in owners):
        owner = owner_of(schema)
        if schema not in owners:
            conn.execute(q("CREATE SCHEMA {} AUTHORIZATION {}").format(ident(schema), ident(owner)))
        elif owners[schema] != owner:
            conn.execute(q("ALTER SCHEMA {} OWNER TO {}").format(ident(schema), ident(owner)))
        conn.execute(q("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))

    _drop_retired(conn)

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
    conn.execute(
        q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA raw GRANT SELECT ON TABLES TO {}").format(
            ident(LOADER), ident(TRANSFORMER)
        )
    )
    # meta: the transformer adds its results there; the publisher reads the run records for the manifest.
    conn.execute(q("GRANT USAGE, CREATE ON SCHEMA meta TO {}").format(ident(TRANSFORMER)))
    conn.execute(q("GRANT USAGE ON SCHEMA meta TO {}").format(ident(PUBLISHER)))
    conn.execute(q("GRANT SELECT ON ALL TABLES IN SCHEMA meta TO {}, {}").format(ident(TRANSFORMER), ident(PUBLISHER)))
    for creator in (LOADER, TRANSFORMER):
        conn.execute(
            q("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA meta GRANT SELECT ON TABLES TO {}, {}").format(
                ident(creator), ident(TRANSFORMER), ident(PUBLISHER)
            )
        )
    # The publisher sees the names in core and intermediate, and reads only the relations it joins.
    conn.execute(q("GRANT USAGE ON SCHEMA core, intermediate TO {}").format(ident(PUBLISHER)))
    grant_publisher_reads(conn)
    grant_marts(conn)
    for schema in SHADOW_SCHEMAS:
        if schema in owners:
            grant_shadow(conn, schema)
    # The unit logins' access, made as the transformer would make it (it owns what it creates:
    # the definer function, the policies on its actions tables).
    conn.execute(q("SET ROLE {}").format(ident(TRANSFORMER)))
    ensure_unit_access(conn)
    if conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (ACTIONS,)).fetchone()[0]:
        grant_actions(conn, ACTIONS)
    conn.execute("RESET ROLE")
    conn.execute(q("COMMENT ON DATABASE {} IS {}").format(ident(database), sql.Literal(VERSION)))


def _drop_retired(conn: psycopg.Connection) -> None:
    ident, q = sql.Identifier, sql.SQL
    for schema, routines in RETIRED_SCHEMAS.items():
        if conn.execute("SELECT to_regnamespace(%s) IS NULL", (schema,)).fetchone()[0]:
            continue
        for routine in routines:
            conn.execute(q("DROP FUNCTION IF EXISTS {}.{}").format(ident(schema), q(routine)))
        try:
            with conn.transaction():  # a savepoint: a schema that is not empty stays, the bootstrap goes on
                conn.execute(q("DROP SCHEMA {} RESTRICT").format(ident(schema)))
            log.info("warehouse: retired schema %s dropped", schema)
        except psycopg.errors.DependentObjectsStillExist:
            log.warning(
                "warehouse: schema %s is no longer the project's but holds objects it did not make; left as it is",
                schema,
            )


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
            conn.execute(
                sql.SQL("GRANT SELECT ON {}.{} TO {}").format(
                    sql.Identifier(schema), sql.Identifier(table), sql.Identifier(PUBLISHER)
                )
            )


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
            conn.execute(
                sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
                    ident(role), ident(schema), sql.SQL(", ").join(ident(r) for r in readers)
                )
            )


def _is_superuser(conn: psycopg.Connection) -> bool:
    return conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]


def grant_shadow(conn: psycopg.Connection, schema: str) -> None:
    """A shadow schema (marts being built, not yet gated): its owner builds there, nobody else sees it."""
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))


# ---- The per-unit logins' access to the actions lists (docs/decisions/008-unit-row-level-security.md)
#
# A unit login (tthc/warehouse/unit_logins.py) is a member of UNIT_READER and has one row in
# meta.unit_logins. Row-level security on each actions table lets it read the rows whose
# unit_code is in its unit's subtree on the local date of the row's at_ts. It reads neither the
# mapping nor the unit closure: the policy asks unit_access.readable_units(), a SECURITY DEFINER
# function the transformer owns, for {unit_code: days on which that unit is in the subtree} of
# the session's login, once per query (an InitPlan), then looks each row's unit up in it.

ACCESS_SCHEMA = "unit_access"
UNIT_LOGINS = "meta.unit_logins"
LOCAL_ZONE = "Asia/Ho_Chi_Minh"  # at_ts's local date decides the subtree (docs/acting-today.md, §11)
# Tables with no unit_code that carry no unit's data: every unit reads them whole.
UNIT_WIDE_TABLES = ("act_refresh",)
# What names the handlers (NguoiXuLy, personal data): units read it through RLS, BI never.
NAMED_TABLES = ("act_list_rows_named",)
NAMED_COLUMN = "handler_name"
_UNIT_POLICY, _UNIT_WIDE_POLICY, _BI_POLICY = "tthc_unit_subtree", "tthc_unit_reads_all", "tthc_bi_reads_all"
# The publisher writes every unit's daily workbook (tthc/actions/daily.py): it reads what BI reads.
_PUBLISHER_POLICY = "tthc_publisher_reads_all"

UNIT_LOGINS_DDL = f"""
CREATE TABLE IF NOT EXISTS {UNIT_LOGINS} (
    role_name  text PRIMARY KEY,
    unit_code  text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""

# session_user, not current_user: inside a SECURITY DEFINER function current_user is the owner;
# session_user is the login, also after it SET ROLE to the group. search_path pinned and every
# name qualified, so nothing a caller puts on its path runs with the owner's rights. The body is
# a string, parsed at each call, so dbt replacing int_unit_closure does not drop it.
READABLE_UNITS_SQL = f"""
SELECT coalesce(pg_catalog.jsonb_object_agg(u.unit_code, u.days::text), '{{}}'::jsonb)
FROM (
    SELECT c.descendant_unit_code AS unit_code,
           pg_catalog.range_agg(pg_catalog.daterange(c.valid_from, c.valid_to, '[]')) AS days
    FROM {UNIT_LOGINS} l
    JOIN intermediate.int_unit_closure c ON c.ancestor_unit_code = l.unit_code
    WHERE l.role_name = session_user::text
    GROUP BY c.descendant_unit_code
) u
"""
_READABLE_UNITS = f"{ACCESS_SCHEMA}.readable_units()"


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def ensure_unit_access(conn: psycopg.Connection) -> None:
    """The definer function, idempotently, as the transformer (or a superuser that SET ROLE to
    it): writes the catalog only for what is missing or changed. The mapping table it reads is
    made with the first unit login (tthc/warehouse/unit_logins.py); until then no role calls it
    (a policy is evaluated only for the roles it names)."""
    ident, q = sql.Identifier, sql.SQL
    conn.execute(q("CREATE SCHEMA IF NOT EXISTS {}").format(ident(ACCESS_SCHEMA)))
    source = conn.execute("SELECT prosrc FROM pg_proc WHERE oid = to_regprocedure(%s)", (_READABLE_UNITS,)).fetchone()
    if source is None or source[0] != READABLE_UNITS_SQL:
        # The closure may not be built yet (a fresh warehouse): its name is resolved at each call.
        checks = conn.execute("SELECT current_setting('check_function_bodies')").fetchone()[0]
        conn.execute("SELECT set_config('check_function_bodies', 'off', false)")
        conn.execute(
            q(
                "CREATE OR REPLACE FUNCTION {}.readable_units() RETURNS jsonb LANGUAGE sql STABLE "
                "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS {}"
            ).format(ident(ACCESS_SCHEMA), sql.Literal(READABLE_UNITS_SQL))
        )
        conn.execute("SELECT set_config('check_function_bodies', %s, false)", (checks,))
        conn.execute(q("REVOKE ALL ON FUNCTION {}.readable_units() FROM PUBLIC").format(ident(ACCESS_SCHEMA)))
    if _role_exists(conn, UNIT_READER):
        if not conn.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", (UNIT_READER, ACCESS_SCHEMA)).fetchone()[0]:
            conn.execute(q("GRANT USAGE ON SCHEMA {} TO {}").format(ident(ACCESS_SCHEMA), ident(UNIT_READER)))
        if not conn.execute(
            "SELECT has_function_privilege(%s, %s, 'EXECUTE')", (UNIT_READER, _READABLE_UNITS)
        ).fetchone()[0]:
            conn.execute(
                q("GRANT EXECUTE ON FUNCTION {}.readable_units() TO {}").format(
                    ident(ACCESS_SCHEMA), ident(UNIT_READER)
                )
            )


def _unit_policy_sql(has_at_ts: bool) -> str:
    """The rows of the login's subtree on the row's local date (today's, for a table without at_ts).
    `(SELECT …)` is uncorrelated: evaluated once per query, then a key lookup per row."""
    moment = "at_ts" if has_at_ts else "now()"
    return (
        f"((((SELECT {_READABLE_UNITS}) ->> unit_code))::datemultirange "
        f"@> ({moment} AT TIME ZONE '{LOCAL_ZONE}')::date)"
    )


def _tables(conn: psycopg.Connection, schema: str) -> list[tuple[str, bool, set[str], set[str]]]:
    """(name, row security on, columns, policy names) of the schema's tables."""
    rows = conn.execute(
        """
        SELECT c.relname, c.relrowsecurity,
               array(SELECT a.attname::text FROM pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
               array(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname
        """,
        (schema,),
    ).fetchall()
    return [(name, rls, set(columns), set(policies)) for name, rls, columns, policies in rows]


def grant_actions(conn: psycopg.Connection, schema: str = ACTIONS) -> None:
    """Readers' privileges and row-level security on every table of `schema` (and of the
    history, actions_history, when it exists: it is appended after the grants, never swapped).

    Runs as the tables' owner (the transformer) inside the transaction that swaps `schema` in
    (tthc/actions/publish.py), so no reader ever sees a published table without its policies:
    - row security enabled on every table (the owner, building and checking, is not subject to it);
    - UNIT_READER: SELECT, and a policy: a table with unit_code shows the rows of the login's
      subtree (see _unit_policy_sql); UNIT_WIDE_TABLES all rows; any other table no grant;
    - BI: SELECT on every table but the named ones (act_list_rows_named, any handler_name
      column), with an all-rows policy; on the named ones any grant it holds is revoked;
    - PUBLISHER: the same as BI (it writes every unit's daily workbook, tthc/actions/daily.py).
    No default privileges: a table someone builds straight into `actions` later is readable by
    nobody until this runs again. Idempotent; writes the catalog only for what is missing."""
    ensure_unit_access(conn)
    _secure_schema(conn, schema)
    if (
        schema != ACTIONS_HISTORY
        and conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (ACTIONS_HISTORY,)).fetchone()[0]
    ):
        _secure_schema(conn, ACTIONS_HISTORY)


def _secure_schema(conn: psycopg.Connection, schema: str) -> None:
    ident, q = sql.Identifier, sql.SQL
    units, bi = _role_exists(conn, UNIT_READER), _role_exists(conn, BI)
    publisher = _role_exists(conn, PUBLISHER)
    conn.execute(q("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(ident(schema)))
    for role in [r for r, present in ((UNIT_READER, units), (BI, bi), (PUBLISHER, publisher)) if present]:
        if not conn.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", (role, schema)).fetchone()[0]:
            conn.execute(q("GRANT USAGE ON SCHEMA {} TO {}").format(ident(schema), ident(role)))
    for table, rls, columns, policies in _tables(conn, schema):
        name = q("{}.{}").format(ident(schema), ident(table))
        if not rls:
            conn.execute(q("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(name))
        named = table in NAMED_TABLES or NAMED_COLUMN in columns
        if "unit_code" in columns:
            unit_policy = (_UNIT_POLICY, _unit_policy_sql("at_ts" in columns))
        elif table in UNIT_WIDE_TABLES and not named:
            unit_policy = (_UNIT_WIDE_POLICY, "true")
        else:
            unit_policy = None
        wanted: dict[str, tuple[str, str]] = {}
        if units and unit_policy:
            wanted[unit_policy[0]] = (UNIT_READER, unit_policy[1])
        if bi and not named:
            wanted[_BI_POLICY] = (BI, "true")
        if publisher and not named:
            wanted[_PUBLISHER_POLICY] = (PUBLISHER, "true")
        for policy in sorted(p for p in policies if p.startswith("tthc_") and p not in wanted):
            conn.execute(q("DROP POLICY {} ON {}").format(ident(policy), name))
        for policy, (role, using) in wanted.items():
            if policy not in policies:
                conn.execute(
                    q("CREATE POLICY {} ON {} AS PERMISSIVE FOR SELECT TO {} USING ({})").format(
                        ident(policy), name, ident(role), q(using)
                    )
                )
        for role, present in ((UNIT_READER, units), (BI, bi), (PUBLISHER, publisher)):
            if not present:
                continue
            holds = conn.execute(
                "SELECT has_table_privilege(%s, format('%%I.%%I', %s::text, %s::text), 'SELECT')", (role, schema, table)
            ).fetchone()[0]
            if any(r == role for r, _ in wanted.values()):
                if not holds:
                    conn.execute(q("GRANT SELECT ON {} TO {}").format(name, ident(role)))
            elif holds:
                conn.execute(q("REVOKE ALL ON {} FROM {}").format(name, ident(role)))
