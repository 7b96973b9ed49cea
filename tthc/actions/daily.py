"""Each working day: every unit's workbook, and one message per recipient (publish_daily).

    publish_daily(dsn, at, outbox_root, recipients_path=None) -> DailyResult

For the local date of `at`, reads the latest refresh of the lists published that day (schema
`actions`, as the publisher: the DSN given is used as its own login, or, an admin's, switched
to tthc_publisher as every stage does), writes the workbook of every unit that has rows in a
list or recipients in the file (tthc/actions/workbook.py), and sends each recipient of each
unit one message for the day (tthc/actions/messages.py). Sent messages are recorded in
meta.action_messages; a recipient already sent to that day is skipped, so the hourly or nightly
reruns of the same day send nothing twice. A unit's workbook of the day is written by the day's
first publish and kept: the file a message points to does not change under the reader, and the
hourly reruns cost a file check per unit (a unit with recipients is read again for its message
when one is still to send).

The caller decides that the day is a working day (the intraday DAG runs only on working days,
tthc/actions/workdays.py); this function writes and sends for whatever day it is given.

A recipient that cannot be reached does not stop the others. After every unit was written and
every recipient tried, a failure (a message not sent, a recipients file that cannot be read, a
configured unit that does not exist on the day) raises DailyMessagesFailed, so the Airflow task
fails, alerts and retries; the retry sends only what is still missing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg

from extractors.http import RetryPolicy
from tthc.actions import message_log
from tthc.actions.messages import WEBHOOK_POLICY, SendFailed, send, smtp_settings
from tthc.actions.recipients import Recipient, RecipientsError, load_recipients
from tthc.actions.unit_day import (
    RefreshMoved,
    known_units,
    published_refresh,
    read_day_tables,
    read_unit_day,
    units_with_rows,
)
from tthc.actions.workbook import WorkbookResult, workbook_path, write_unit_workbook
from tthc.province_package.values import VN_TZ
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)


class DailyMessagesFailed(RuntimeError):
    """Some message was not sent (or the recipients could not be read); `result` says what went."""

    def __init__(self, message: str, result: DailyResult):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Sent:
    unit_code: str
    recipient: str  # Recipient.label: channel and key, never an address
    reason: str | None = None


@dataclass
class DailyResult:
    day: date
    at_ts: datetime | None = None
    workbooks: list[WorkbookResult] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    already_sent: list[Sent] = field(default_factory=list)
    failed: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # configuration problems: nobody was sent to for them

    @property
    def ok(self) -> bool:
        return not (self.failed or self.errors)

    def summary(self) -> str:
        written = sum(1 for w in self.workbooks if w.written)
        return (
            f"{self.day.isoformat()}: {len(self.workbooks)} workbooks ({written} written, "
            f"{len(self.workbooks) - written} unchanged), {len(self.sent)} messages sent, "
            f"{len(self.already_sent)} already sent, {len(self.failed)} failed"
            + (f", {len(self.errors)} configuration errors" if self.errors else "")
        )

    def as_dict(self) -> dict:
        """For the task's return value (XCom): paths, counts and reasons; no address, no token."""
        return {
            "day": self.day.isoformat(),
            "at_ts": self.at_ts.isoformat() if self.at_ts else None,
            "workbooks": [{"unit": w.unit_code, "path": str(w.path), "written": w.written} for w in self.workbooks],
            "sent": [f"{s.unit_code} {s.recipient}" for s in self.sent],
            "already_sent": [f"{s.unit_code} {s.recipient}" for s in self.already_sent],
            "failed": [{"unit": s.unit_code, "recipient": s.recipient, "reason": s.reason} for s in self.failed],
            "errors": list(self.errors),
        }


def _publisher(dsn: Dsn | str) -> Dsn:
    from tthc.warehouse.stages import as_stage

    return as_stage(Dsn.parse(dsn) if isinstance(dsn, str) else dsn, "publisher")


def publish_daily(
    dsn: Dsn | str,
    at: datetime,
    outbox_root: Path,
    recipients_path: str | Path | None = None,
    *,
    now: datetime | None = None,
    webhook_policy: RetryPolicy = WEBHOOK_POLICY,
    sleep: Callable[[float], None] = time.sleep,
) -> DailyResult:
    """Write the day's workbooks and send the day's messages (see the module doc); raises
    DailyMessagesFailed at the end when anything was not sent, ActionsNotPublished when the
    day has no published refresh (nothing written, nothing sent)."""
    if at.tzinfo is None:
        raise ValueError(f"at={at!r} has no timezone; pass it timezone-aware")
    day = at.astimezone(VN_TZ).date()
    result = DailyResult(day=day)
    try:
        recipients = load_recipients(recipients_path)
    except RecipientsError as exc:
        log.error("daily messages: %s; nobody is sent to until it is fixed", exc)
        result.errors.append(str(exc))
        recipients = {}
    with psycopg.connect(_publisher(dsn).conninfo(), autocommit=True) as conn:
        refresh = published_refresh(conn, day)
        result.at_ts = refresh.at_ts
        with_rows = set(units_with_rows(conn, refresh))
        candidates = sorted(with_rows | set(recipients))
        names = known_units(conn, candidates, day)
        tables = read_day_tables(conn, refresh)
        days = {}
        for unit in candidates:
            if unit not in names and unit not in with_rows:
                lines = ", ".join(str(r.line) for r in recipients[unit])
                result.errors.append(
                    f"unit {unit} (recipients file line {lines}) is not a unit on {day.isoformat()}: "
                    f"nothing written or sent for it"
                )
                log.error("daily messages: %s", result.errors[-1])
                continue
            kept = workbook_path(Path(outbox_root), unit, day)
            if kept.exists() and unit not in recipients:
                # the day's workbook is the day's first list (what its message pointed to): the
                # hourly refreshes after it do not rewrite it (the live lists are in the warehouse)
                result.workbooks.append(WorkbookResult(unit, kept, written=False))
                continue
            try:
                data = read_unit_day(conn, tables, unit, names.get(unit))
            except RefreshMoved:  # a refresh of the same day was published meanwhile: go on with it
                refresh = published_refresh(conn, day)
                log.info(
                    "a newer refresh of the lists was published (%s): the next workbooks use it",
                    refresh.at_ts.isoformat(),
                )
                result.at_ts = refresh.at_ts
                tables = read_day_tables(conn, refresh)
                data = read_unit_day(conn, tables, unit, names.get(unit))
            written = (
                WorkbookResult(unit, kept, written=False)
                if kept.exists()
                else write_unit_workbook(Path(outbox_root), data)
            )
            result.workbooks.append(written)
            days[unit] = (data, written)
            log.info("actions workbook %s: %s", "written" if written.written else "unchanged", written.path)
        to_send = {u: rs for u, rs in recipients.items() if u in days}
        if to_send:
            _send_all(conn, to_send, days, result, now or datetime.now(VN_TZ), webhook_policy, sleep)
    log.info("daily actions %s", result.summary())
    if not result.ok:
        problems = [f"{s.unit_code} {s.recipient}: {s.reason}" for s in result.failed] + result.errors
        raise DailyMessagesFailed(
            f"daily action messages of {day.isoformat()}: {len(result.failed)} not sent, {len(result.errors)} "
            f"configuration errors ({'; '.join(problems)}). The workbooks are written; a rerun sends only what "
            f"was not sent",
            result,
        )
    return result


def _send_all(
    conn: psycopg.Connection,
    to_send: dict[str, list[Recipient]],
    days: dict,
    result: DailyResult,
    now: datetime,
    policy: RetryPolicy,
    sleep: Callable[[float], None],
) -> None:
    message_log.require_table(conn)
    try:
        smtp, smtp_problem = smtp_settings(), None
    except ValueError as exc:
        smtp, smtp_problem = None, str(exc)
    message_log.lock(conn)
    try:
        for unit in sorted(to_send):
            data, workbook = days[unit]
            done = message_log.sent_keys(conn, unit, data.day)
            for recipient in to_send[unit]:
                if (recipient.channel, recipient.key) in done:
                    result.already_sent.append(Sent(unit, recipient.label))
                    continue
                try:
                    if smtp_problem and recipient.channel == "email":
                        raise SendFailed(smtp_problem)
                    send(recipient, data, str(workbook.path), smtp=smtp, now=now, policy=policy, sleep=sleep)
                except SendFailed as exc:
                    status, error = message_log.FAILED, str(exc)
                    result.failed.append(Sent(unit, recipient.label, error))
                    log.error(
                        "daily message of unit %s NOT sent to %s: %s (the next run tries again)",
                        unit,
                        recipient.label,
                        error,
                    )
                else:
                    status, error = message_log.SENT, None
                    result.sent.append(Sent(unit, recipient.label))
                    log.info("daily message of unit %s sent to %s", unit, recipient.label)
                message_log.record(
                    conn,
                    unit_code=unit,
                    day=data.day,
                    channel=recipient.channel,
                    recipient_key=recipient.key,
                    status=status,
                    refresh_at=data.refresh.at_ts,
                    workbook_path=str(workbook.path),
                    at=now,
                    error=error,
                )
    finally:
        message_log.unlock(conn)
