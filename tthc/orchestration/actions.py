"""The callables behind the act-today tasks (dags/act_intraday.py and the nightly build's last
step): is this hour a working one, refresh the lists, publish the day's workbooks."""
from __future__ import annotations

from datetime import datetime

from tthc.orchestration.connections import warehouse_dsn
from tthc.paths import OUTBOX


def working_day(at: datetime) -> tuple[bool, str]:
    """(whether the intraday refresh runs at `at`, why): the holiday seed decides the local day."""
    from extractors.timefmt import LOCAL
    from tthc.actions.workdays import day_kind

    return day_kind(at.astimezone(LOCAL).date())


def refresh(at: datetime, run_id: str | None = None, ingest: bool = True) -> dict:
    """The lists as of `at`, published atomically (tthc/actions/refresh.py); `ingest` False on
    the night, which has just extracted and built everything the lists read."""
    from tthc.actions.refresh import refresh_actions

    result = refresh_actions(warehouse_dsn("transformer"), at, ingest=ingest, run_id=run_id,
                             loader=warehouse_dsn("loader") if ingest else None)
    return result.as_dict()


def publish_daily(at: datetime, outbox=OUTBOX) -> dict:
    """Each unit's workbook of the day (and its message where recipients are configured); a
    rerun sends nothing twice (tthc/actions/daily.py)."""
    from tthc.actions.daily import publish_daily as publish

    return publish(warehouse_dsn("publisher"), at, outbox).as_dict()
