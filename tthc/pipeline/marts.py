"""Publish the indicator marts by swap, never by overwrite.

dbt builds the marts into a shadow schema (`marts__next`); the marts suites check them there;
only when both pass does one transaction rename `marts` → `marts__prev`, `marts__next` →
`marts`, drop the previous schema and re-apply the readers' grants. All of it runs as the
transformer, which owns both schemas: PostgreSQL renames a schema only for its owner holding
CREATE on the database (docs/decisions/006-least-privilege-roles.md). When anything fails, the
published marts stay exactly as they were (and the failed shadow stays for inspection, out of
BI's reach, until the next build replaces it).

A reader never sees a mix: the swap first takes ACCESS EXCLUSIVE locks on every published
table, so it waits for readers that hold one (the extract writer locks all it reads in one
snapshot); it waits at most LOCK_TIMEOUT at a time, below PostgreSQL's deadlock_timeout, and then
retries, so a BI session that reads table after table in one transaction keeps its old view
instead of deadlocking with the swap.
"""
from __future__ import annotations

import logging
import time
from datetime import date

import psycopg
from psycopg import sql

from expectations.runner import GateResult, QualityGateFailed, run_gate
from expectations.suites import MARTS_SUITES
from tthc.pipeline import dbt
from tthc.warehouse import Dsn
from tthc.warehouse.roles import grant_marts, grant_shadow
from tthc.warehouse.stages import as_stage, as_stage_conninfo

log = logging.getLogger(__name__)

PUBLISHED = "marts"
SHADOW = "marts__next"
PREVIOUS = "marts__prev"
LOCK_TIMEOUT = "500ms"      # below deadlock_timeout (1 s): the swap, not a reader, gives way
SWAP_ATTEMPTS = 240         # with the pauses below: gives readers about 5 minutes to finish
_MARTS_SUITE_NAMES = {s.name for s in MARTS_SUITES}


class MartsSwapTimeout(RuntimeError):
    """Readers held the published marts for the whole retry budget; the shadow is kept."""


def prepare_shadow(conninfo: str) -> None:
    """An empty shadow schema: no table of an earlier build may survive into this one."""
    conninfo = as_stage_conninfo(conninfo, "transformer")
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(SHADOW)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(SHADOW)))
        grant_shadow(conn, SHADOW)


def _schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def _swap_once(conn: psycopg.Connection) -> None:
    ident = sql.Identifier
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
        if not _schema_exists(conn, SHADOW):
            raise RuntimeError(f"no {SHADOW} schema to swap in: build the marts first")
        published = conn.execute(
            "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
            (PUBLISHED,)).fetchall()
        if published:
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                sql.SQL(", ").join(sql.SQL(name) for (name,) in published)))
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(PREVIOUS)))
        if _schema_exists(conn, PUBLISHED):
            conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(PUBLISHED), ident(PREVIOUS)))
        conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(SHADOW), ident(PUBLISHED)))
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(PREVIOUS)))
        grant_marts(conn, PUBLISHED)


def swap_in(conninfo: str, attempts: int = SWAP_ATTEMPTS) -> None:
    """Make the shadow the published marts in one transaction (see the module's doc)."""
    conninfo = as_stage_conninfo(conninfo, "transformer")
    for attempt in range(1, attempts + 1):
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                _swap_once(conn)
            log.info("marts swapped in (%s → %s) on attempt %d", SHADOW, PUBLISHED, attempt)
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            if attempt == 1 or attempt % 20 == 0:
                log.info("marts are being read; swap waits (attempt %d of %d)", attempt, attempts)
            time.sleep(min(0.05 * attempt, 1.0))
    raise MartsSwapTimeout(f"readers held {PUBLISHED} through {attempts} attempts; {SHADOW} is kept, "
                           "the published marts are unchanged: rerun the marts step")


def latest_core_gate(conninfo: str) -> tuple[str, int] | None:
    """(run id, failed `fail` checks outside the marts suites) of the newest gate run, if any."""
    with psycopg.connect(conninfo) as conn:
        if not conn.execute("SELECT to_regclass('meta.quality_results') IS NOT NULL").fetchone()[0]:
            return None
        row = conn.execute(
            """
            WITH latest AS (SELECT run_id FROM meta.quality_results ORDER BY checked_at DESC LIMIT 1)
            SELECT q.run_id, count(*) FILTER (WHERE NOT q.success AND q.severity = 'fail'
                                              AND NOT (q.suite = ANY(%s)))
            FROM meta.quality_results q JOIN latest USING (run_id) GROUP BY q.run_id
            """, (sorted(_MARTS_SUITE_NAMES),)).fetchone()
    return (row[0], int(row[1])) if row else None


def publish_marts(dsn: Dsn, as_of: date | None = None, run_id: str | None = None,
                  extra_vars: dict | None = None, docs_dir=None) -> GateResult:
    """Build → gate → swap. Raises QualityGateFailed when the core gate that ran before (or the
    marts gate) failed; the published marts are then untouched.

    The marts gate joins the core gate's run (its run id, unless `run_id` is given), so one
    night's checks are one run in meta.quality_results, and the extract's "last gate" sees both."""
    dsn = as_stage(dsn, "transformer")
    conninfo = dsn.conninfo()
    core = latest_core_gate(conninfo)
    if core is None:
        raise QualityGateFailed("no quality gate has run on this warehouse: run the gate before the marts")
    core_run, core_failures = core
    if core_failures:
        raise QualityGateFailed(f"the last quality gate ({core_run}) failed {core_failures} check(s): "
                                "marts not rebuilt, the published marts stay as they were")
    prepare_shadow(conninfo)
    dbt.build_marts_into(dsn, SHADOW, as_of, extra_vars)
    gate_args = {} if docs_dir is None else {"docs_dir": docs_dir}
    gate = run_gate(dsn, MARTS_SUITES, run_id or core_run, schemas={"marts": SHADOW}, **gate_args)
    if not gate.passed:
        raise QualityGateFailed(f"marts gate failed on {SHADOW}; {PUBLISHED} unchanged.\n{gate.summary()}")
    swap_in(conninfo)
    return gate
