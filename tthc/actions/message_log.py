"""meta.action_messages: every daily message sent (or tried), so a rerun sends nothing twice.

One row per (unit_code, day, channel, recipient_key); recipient_key is the SHA-256 of the
channel and address (tthc/actions/recipients.py), so the warehouse holds no address. A row
with status 'sent' is never sent again; 'failed' is tried again by the next run (the task's
retry), which counts the attempts and keeps the last reason.

Each publish of the lists makes the table when it is missing (ensure_table, in the swap's
transaction, as the transformer, which owns it: the superuser creates no table, decision 006), and
the publisher, which sends the messages, may read, insert and update it and nothing more (the
publisher owns nothing).

A message goes out, then its row is committed: a process killed between the two sends that
one message again on the next run (at least once). Webhook receivers get the same
Idempotency-Key and `id` each time, and e-mails the same Message-ID, so they can drop it.
"""

from __future__ import annotations

from datetime import date, datetime

import psycopg
from psycopg import sql

TABLE = "meta.action_messages"
SENT, FAILED = "sent", "failed"
_LOCK = "tthc-action-messages"

DDL = """
CREATE TABLE IF NOT EXISTS meta.action_messages (
    unit_code      text        NOT NULL,
    day            date        NOT NULL,
    channel        text        NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient_key  text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts       integer     NOT NULL DEFAULT 1,
    refresh_at     timestamptz NOT NULL,
    workbook_path  text,
    first_tried_at timestamptz NOT NULL,
    last_tried_at  timestamptz NOT NULL,
    sent_at        timestamptz,
    last_error     text,
    PRIMARY KEY (unit_code, day, channel, recipient_key)
)
"""
COMMENT = (
    "One row per daily action message and recipient (tthc/actions/message_log.py); "
    "recipient_key is a SHA-256 of the channel and address, never the address."
)


def ensure_table(conn: psycopg.Connection, writer: str) -> None:
    """The table, made by the caller's role when missing, written by `writer`."""
    if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]:
        return
    conn.execute(DDL)
    conn.execute(sql.SQL("COMMENT ON TABLE meta.action_messages IS {}").format(sql.Literal(COMMENT)))
    conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON meta.action_messages TO {}").format(sql.Identifier(writer)))


def require_table(conn: psycopg.Connection) -> None:
    if not conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]:
        raise RuntimeError(
            f"{TABLE} does not exist: the lists have never been published in this warehouse "
            f"(`tthc actions refresh` makes it)"
        )


def lock(conn: psycopg.Connection) -> None:
    """One sender at a time (two runs at once would both find a message unsent); held for the session."""
    conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (_LOCK,))


def unlock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (_LOCK,))


def sent_keys(conn: psycopg.Connection, unit_code: str, day: date) -> set[tuple[str, str]]:
    """(channel, recipient_key) already sent for this unit and day."""
    rows = conn.execute(
        "SELECT channel, recipient_key FROM meta.action_messages WHERE unit_code = %s AND day = %s AND status = 'sent'",
        (unit_code, day),
    ).fetchall()
    return {(channel, key) for channel, key in rows}


def record(
    conn: psycopg.Connection,
    *,
    unit_code: str,
    day: date,
    channel: str,
    recipient_key: str,
    status: str,
    refresh_at: datetime,
    workbook_path: str,
    at: datetime,
    error: str | None = None,
) -> None:
    """Upsert one attempt's outcome and commit it at once (the message has gone, or not)."""
    with conn.transaction():
        conn.execute(
            """
            INSERT INTO meta.action_messages AS m (unit_code, day, channel, recipient_key, status, attempts,
                refresh_at, workbook_path, first_tried_at, last_tried_at, sent_at, last_error)
            VALUES (%(unit)s, %(day)s, %(channel)s, %(key)s, %(status)s, 1, %(refresh)s, %(path)s, %(at)s, %(at)s,
                    CASE WHEN %(status)s = 'sent' THEN %(at)s::timestamptz END, %(error)s)
            ON CONFLICT (unit_code, day, channel, recipient_key) DO UPDATE SET
                status = excluded.status, attempts = m.attempts + 1, refresh_at = excluded.refresh_at,
                workbook_path = excluded.workbook_path, last_tried_at = excluded.last_tried_at,
                sent_at = excluded.sent_at, last_error = excluded.last_error
            WHERE m.status <> 'sent'
            """,
            {
                "unit": unit_code,
                "day": day,
                "channel": channel,
                "key": recipient_key,
                "status": status,
                "refresh": refresh_at,
                "path": workbook_path,
                "at": at,
                "error": error,
            },
        )
