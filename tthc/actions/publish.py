"""Publish a built refresh: swap `actions__next` → `actions` in one transaction that also appends
the per-unit summary to the history (tthc/pipeline/swap.py: the marts' swap, shared).

The readers' grants and row-level security are re-applied inside that transaction (they belong
to the schema and its tables, which the swap replaces): tthc/warehouse/roles.py's grant_actions
when the warehouse's roles module has it; until then BI's read of every list without the
handler's name (act_list_rows_named stays the transformer's).
"""

from __future__ import annotations

import logging
from datetime import datetime

import psycopg
from psycopg import sql

from tthc.actions import history, message_log
from tthc.pipeline.swap import ShadowSwap, SwapTimeout
from tthc.warehouse import roles

log = logging.getLogger(__name__)


class ActionsSwapTimeout(SwapTimeout):
    """Readers held the published lists for the whole retry budget; the shadow is kept."""


class ActionsCheckFailed(RuntimeError):
    """The built shadow is not the refresh asked for; nothing was published."""


def grant_readers(conn: psycopg.Connection, schema: str) -> None:
    """BI's, the publisher's and the unit roles' reads of the freshly published lists, with their
    row-level security (tthc/warehouse/roles.py grant_actions)."""
    roles.grant_actions(conn, schema)


# grant_readers is looked up when the swap runs, so a test can stop the process inside the swap's
# transaction at this module's grant_readers (tests/failure/kill_at.py).
ACTIONS = ShadowSwap("actions", lambda conn, schema: grant_readers(conn, schema), "actions", ActionsSwapTimeout)
PUBLISHED, SHADOW = ACTIONS.published, ACTIONS.shadow


def check_shadow(conninfo: str, at: datetime, schema: str = SHADOW) -> None:
    """The shadow holds the refresh of `at` and a summary row per unit (the dbt tests checked
    the rest while building)."""
    with psycopg.connect(conninfo) as conn:
        moments = [
            r[0]
            for r in conn.execute(sql.SQL("SELECT DISTINCT at_ts FROM {}.act_refresh").format(sql.Identifier(schema)))
        ]
        units = conn.execute(
            sql.SQL("SELECT count(*) FROM {}.act_unit_summary WHERE at_ts = %s").format(sql.Identifier(schema)), (at,)
        ).fetchone()[0]
    if moments != [at]:
        raise ActionsCheckFailed(
            f"{schema}.act_refresh holds {moments}, not the refresh of {at.isoformat()}: not published"
        )
    if not units:
        raise ActionsCheckFailed(f"{schema}.act_unit_summary has no unit at {at.isoformat()}: not published")


def publish(conninfo: str) -> int:
    """Swap the shadow in, appending its summary to the history in the same transaction; returns
    the history rows added."""
    added: list[int] = []

    def with_history(conn: psycopg.Connection) -> None:
        added.append(history.append_history(conn, PUBLISHED))
        message_log.ensure_table(conn, writer=roles.PUBLISHER)  # what the day's messages are recorded in

    ACTIONS.swap_in(conninfo, before_commit=with_history)
    return added[-1] if added else 0
