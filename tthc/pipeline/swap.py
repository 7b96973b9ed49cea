"""Publish a built schema by swap, never by overwrite: one implementation for every published
layer that dbt builds into a shadow first (the indicator marts, the actions lists).

dbt builds into `<published>__next`; only when its checks pass does one transaction rename
`<published>` → `<published>__prev`, `<published>__next` → `<published>`, drop the previous
schema, run the caller's own step (the actions' history append), so what it writes commits with
the swap or not at all, and re-apply the readers' grants. All of it runs as the
transformer, which owns the schemas: PostgreSQL renames a schema only for its owner holding
CREATE on the database (docs/decisions/006-least-privilege-roles.md). When anything fails, the
published schema stays exactly as it was (and the failed shadow stays for inspection, out of
readers' reach, until the next build replaces it).

A reader never sees a mix: the swap first takes ACCESS EXCLUSIVE locks on every published
table, so it waits for readers that hold one (the package writer locks all it reads in one
snapshot); it waits at most LOCK_TIMEOUT at a time, below PostgreSQL's deadlock_timeout, and then
retries, so a BI session that reads table after table in one transaction keeps its old view
instead of deadlocking with the swap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tthc.warehouse.roles import grant_shadow
from tthc.warehouse.stages import as_stage_conninfo

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "500ms"  # below deadlock_timeout (1 s): the swap, not a reader, gives way
SWAP_ATTEMPTS = 240  # with the pauses below: gives readers about 5 minutes to finish

# What the swap's transaction runs after the renames, before the grants and the commit.
BeforeCommit = Callable[[psycopg.Connection], None]


class SwapTimeout(RuntimeError):
    """Readers held the published schema for the whole retry budget; the shadow is kept."""


@dataclass(frozen=True)
class ShadowSwap:
    """One published schema and its shadow. `grant(conn, schema)` gives the readers their
    privileges on the schema just made the published one (inside the swap's transaction:
    grants and default privileges belong to the schema object, so a swapped-in one has none)."""

    published: str
    grant: Callable[[psycopg.Connection, str], None]
    what: str = ""  # for messages: "marts", "actions"
    timeout_error: type[SwapTimeout] = SwapTimeout

    @property
    def shadow(self) -> str:
        return f"{self.published}__next"

    @property
    def previous(self) -> str:
        return f"{self.published}__prev"

    @property
    def label(self) -> str:
        return self.what or self.published

    def prepare_shadow(self, conninfo: str) -> None:
        """An empty shadow schema: no table of an earlier build may survive into this one."""
        conninfo = as_stage_conninfo(conninfo, "transformer")
        with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.shadow)))
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(self.shadow)))
            grant_shadow(conn, self.shadow)

    def swap_once(self, conn: psycopg.Connection, before_commit: BeforeCommit | None = None) -> None:
        ident = sql.Identifier
        with conn.transaction():
            conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
            if not schema_exists(conn, self.shadow):
                raise RuntimeError(f"no {self.shadow} schema to swap in: build the {self.label} first")
            published = conn.execute(
                "SELECT format('%%I.%%I', n.nspname, c.relname) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm') ORDER BY c.relname",
                (self.published,),
            ).fetchall()
            if published:
                conn.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
                        sql.SQL(", ").join(sql.SQL(name) for (name,) in published)
                    )
                )
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(self.previous)))
            if schema_exists(conn, self.published):
                conn.execute(
                    sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(self.published), ident(self.previous))
                )
            conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(ident(self.shadow), ident(self.published)))
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(ident(self.previous)))
            if before_commit is not None:
                before_commit(conn)
            self.grant(conn, self.published)  # last: it may also secure what before_commit made

    def swap_in(self, conninfo: str, attempts: int = SWAP_ATTEMPTS, before_commit: BeforeCommit | None = None) -> None:
        """Make the shadow the published schema in one transaction (see the module's doc)."""
        conninfo = as_stage_conninfo(conninfo, "transformer")
        for attempt in range(1, attempts + 1):
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    self.swap_once(conn, before_commit)
                log.info("%s swapped in (%s → %s) on attempt %d", self.label, self.shadow, self.published, attempt)
                return
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                if attempt == 1 or attempt % 20 == 0:
                    log.info("%s are being read; swap waits (attempt %d of %d)", self.label, attempt, attempts)
                time.sleep(min(0.05 * attempt, 1.0))
        raise self.timeout_error(
            f"readers held {self.published} through {attempts} attempts; {self.shadow} is kept, "
            f"the published {self.label} are unchanged: rerun the {self.label} step"
        )


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None
