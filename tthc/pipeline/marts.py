"""Publish the indicator marts by swap, never by overwrite.

dbt builds the marts into a shadow schema (`marts__next`); the marts suites check them there;
only when both pass does one transaction rename `marts` → `marts__prev`, `marts__next` →
`marts`, drop the previous schema and re-apply the readers' grants. All of it runs as the
transformer, which owns both schemas: PostgreSQL renames a schema only for its owner holding
CREATE on the database (docs/decisions/006-least-privilege-roles.md). When anything fails, the
published marts stay exactly as they were (and the failed shadow stays for inspection, out of
BI's reach, until the next build replaces it).

The swap itself (locks taken at most LOCK_TIMEOUT at a time, so a reader keeps its view and
never deadlocks with it) is tthc/pipeline/swap.py, shared with the actions lists.
"""

from __future__ import annotations

import logging
from datetime import date

import psycopg

from expectations.runner import GateResult, QualityGateFailed, run_gate
from expectations.suites import MARTS_SUITES
from tthc.pipeline import dbt
from tthc.pipeline.swap import LOCK_TIMEOUT, SWAP_ATTEMPTS, BeforeCommit, ShadowSwap, SwapTimeout
from tthc.warehouse import Dsn
from tthc.warehouse.roles import grant_marts
from tthc.warehouse.stages import as_stage

log = logging.getLogger(__name__)

__all__ = [
    "LOCK_TIMEOUT",
    "PREVIOUS",
    "PUBLICATIONS",
    "PUBLISHED",
    "SHADOW",
    "SWAP_ATTEMPTS",
    "MartsSwapTimeout",
    "latest_core_gate",
    "prepare_shadow",
    "publish_marts",
    "record_publication",
    "swap_in",
]

_MARTS_SUITE_NAMES = {s.name for s in MARTS_SUITES}


class MartsSwapTimeout(SwapTimeout):
    """Readers held the published marts for the whole retry budget; the shadow is kept."""


# grant_marts is looked up when the swap runs (not bound here), so the failure suite can stop the
# process at this module's grant_marts, inside the swap's transaction (tests/failure/kill_at.py).
MARTS = ShadowSwap("marts", lambda conn, schema: grant_marts(conn, schema), "marts", MartsSwapTimeout)
PUBLISHED, SHADOW, PREVIOUS = MARTS.published, MARTS.shadow, MARTS.previous


def prepare_shadow(conninfo: str) -> None:
    """An empty shadow schema: no table of an earlier build may survive into this one."""
    MARTS.prepare_shadow(conninfo)


def swap_in(conninfo: str, attempts: int = SWAP_ATTEMPTS, before_commit: BeforeCommit | None = None) -> None:
    """Make the shadow the published marts in one transaction (tthc/pipeline/swap.py)."""
    MARTS.swap_in(conninfo, attempts, before_commit)


# Which gate run the published marts passed, one row per publication, written in the swap's own
# transaction: the monthly package counts the checks of exactly that run (tthc/province_package/monthly.py),
# not of whatever gate ran last.
PUBLICATIONS = "meta.marts_publications"
_PUBLICATIONS_DDL = """
CREATE TABLE IF NOT EXISTS meta.marts_publications (
    published_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    run_id       text        NOT NULL,
    as_of        date
);
COMMENT ON TABLE meta.marts_publications IS
    'One row per swap of the marts: the quality gate run (core and marts suites) they passed.';
"""


def record_publication(run_id: str, as_of: date | None) -> BeforeCommit:
    def record(conn: psycopg.Connection) -> None:
        conn.execute(_PUBLICATIONS_DDL)
        conn.execute("INSERT INTO meta.marts_publications (run_id, as_of) VALUES (%s, %s)", (run_id, as_of))

    return record


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
            """,
            (sorted(_MARTS_SUITE_NAMES),),
        ).fetchone()
    return (row[0], int(row[1])) if row else None


def publish_marts(
    dsn: Dsn, as_of: date | None = None, run_id: str | None = None, extra_vars: dict | None = None, docs_dir=None
) -> GateResult:
    """Build → gate → swap. Raises QualityGateFailed when the core gate that ran before (or the
    marts gate) failed; the published marts are then untouched.

    The marts gate joins the core gate's run (its run id, unless `run_id` is given), so one
    night's checks are one run in meta.quality_results, and the package's "last gate" sees both."""
    dsn = as_stage(dsn, "transformer")
    conninfo = dsn.conninfo()
    core = latest_core_gate(conninfo)
    if core is None:
        raise QualityGateFailed("no quality gate has run on this warehouse: run the gate before the marts")
    core_run, core_failures = core
    if core_failures:
        raise QualityGateFailed(
            f"the last quality gate ({core_run}) failed {core_failures} check(s): "
            "marts not rebuilt, the published marts stay as they were"
        )
    prepare_shadow(conninfo)
    dbt.build_marts_into(dsn, SHADOW, as_of, extra_vars)
    gate_args = {} if docs_dir is None else {"docs_dir": docs_dir}
    gate = run_gate(dsn, MARTS_SUITES, run_id or core_run, schemas={"marts": SHADOW}, **gate_args)
    if not gate.passed:
        raise QualityGateFailed(f"marts gate failed on {SHADOW}; {PUBLISHED} unchanged.\n{gate.summary()}")
    swap_in(conninfo, before_commit=record_publication(gate.run_id, as_of))
    return gate
