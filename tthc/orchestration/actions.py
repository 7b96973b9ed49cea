"""The callables behind the act-today tasks (dags/act_intraday.py and the nightly build's last
step): is this hour a working one, refresh the lists, publish the day's workbooks."""

from __future__ import annotations

from datetime import datetime

from tthc.orchestration.connections import warehouse_dsn
from tthc.paths import OUTBOX, REPORTS


def working_day(at: datetime) -> tuple[bool, str]:
    """(whether the intraday refresh runs at `at`, why): the holiday seed decides the local day."""
    from extractors.timefmt import LOCAL
    from tthc.actions.workdays import day_kind

    return day_kind(at.astimezone(LOCAL).date())


def refresh(at: datetime, run_id: str | None = None, ingest: bool = True) -> dict:
    """The lists as of `at`, published atomically (tthc/actions/refresh.py); `ingest` False on
    the night, which has just extracted and built everything the lists read."""
    from tthc.actions.refresh import refresh_actions

    result = refresh_actions(
        warehouse_dsn("transformer"),
        at,
        ingest=ingest,
        run_id=run_id,
        loader=warehouse_dsn("loader") if ingest else None,
    )
    return result.as_dict()


def publish_daily(at: datetime, outbox=OUTBOX, reports=REPORTS) -> dict:
    """Each unit's workbook of the day (and its message where recipients are configured); a
    rerun sends nothing twice (tthc/actions/daily.py). Then each unit's scorecard of the month
    to date (tthc/scorecards), written by the day's first publish and kept, like the workbooks.
    A failure of either is raised after both were tried."""
    from tthc.actions.daily import DailyMessagesFailed
    from tthc.actions.daily import publish_daily as publish
    from tthc.province_package.values import VN_TZ
    from tthc.scorecards.publish import pipeline_mode, publish_scorecards

    dsn = warehouse_dsn("publisher")
    messages_failed = None
    try:
        out = publish(dsn, at, outbox).as_dict()
    except DailyMessagesFailed as exc:  # the workbooks are written: still write the scorecards
        messages_failed, out = exc, exc.result.as_dict()
    mode = pipeline_mode()
    if mode == "off":
        if messages_failed is not None:
            raise messages_failed
        return out
    try:
        cards = publish_scorecards(
            dsn, at.astimezone(VN_TZ).date().isoformat(), at, root=reports, pdf=mode == "pdf", keep_existing=True
        )
    except Exception as exc:  # some or all scorecards not written (ScorecardsFailed names the units)
        if messages_failed is not None:
            raise messages_failed from exc
        raise
    out["scorecards"] = cards.as_dict()
    if messages_failed is not None:
        raise messages_failed
    return out
