"""The callables behind every DAG task: resolve connections, run one pipeline step, report.

DAG files only declare; what a task does lives here, where tests can call it directly.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import psycopg

from expectations.runner import QualityGateFailed, run_gate
from expectations.suites import GATE_SUITES
from extractors.entities import entity
from extractors.run import extract_entity
from extractors.sources import make_client
from tthc import settings
from tthc.orchestration.connections import source_settings, warehouse_dsn
from tthc.paths import OUTBOX, REPORTS
from tthc.pipeline import dbt
from tthc.province_package.monthly import publish_month
from tthc.province_package.periods import Month
from tthc.province_package.rows import reporting_roots

log = logging.getLogger(__name__)


__all__ = [
    "QualityGateFailed",
    "build_marts",
    "build_warehouse",
    "fetch_official_scores",
    "ingest_entity",
    "publish",
    "quality_gate",
]


def ingest_entity(source: str, entity_name: str, upper: datetime, run_id: str | None = None) -> dict:
    target = entity(source, entity_name)
    client = make_client(source, source_settings(source))
    try:
        record = extract_entity(
            warehouse_dsn("loader").conninfo(),
            client,
            target,
            upper,
            initial_from=settings.initial_from(),
            lookback=settings.lookback(),
            run_id=run_id,
        )
    finally:
        client.close()
    return {
        "entity": target.table,
        "batch_id": record.batch_id,
        "fetched": record.fetched,
        "loaded": record.loaded,
        "quarantined": record.quarantined,
        "retries": record.retries,
    }


def fetch_official_scores(upper: datetime) -> int:
    """The portal's own 766 scores for each province root, for the reconciliation mart."""
    from extractors.dvc_portal import DvcPortalClient
    from extractors.portal_scores import fetch_service_results, periods_around, province_roots

    dsn = warehouse_dsn("loader")
    day = upper.date()
    roots = province_roots(dsn.conninfo(), day)
    if not roots:
        log.warning("no province unit loaded yet from the one-stop system: official scores skipped")
        return 0
    client = make_client("dvc_portal", source_settings("dvc_portal"))
    assert isinstance(client, DvcPortalClient)
    try:
        return fetch_service_results(dsn.conninfo(), client, roots, periods_around(day))
    finally:
        client.close()


def build_warehouse(as_of: date) -> None:
    dbt.build_warehouse(warehouse_dsn("transformer"), as_of)


def quality_gate(run_id: str | None = None, as_of: date | None = None) -> dict:
    """The core gate (raw, load records, staging, core) between the warehouse build and the marts;
    on the night of `as_of` its checks of incremental tables read that night's rows, every row
    on the weekly full-check night (dbt.checks_scope, the same rule as the build's tests)."""
    night_only = dbt.checks_scope(as_of) == "night"
    gate = run_gate(warehouse_dsn("transformer"), GATE_SUITES, run_id, night_only=night_only)
    gate.raise_if_failed()
    return {
        "run_id": gate.run_id,
        "checks": len(gate.results),
        "warnings": len(gate.warnings),
        "data_docs": str(gate.docs_index) if gate.docs_index else None,
    }


def build_marts(as_of: date, run_id: str | None = None) -> dict:
    """Marts into the shadow schema, the marts gate there, then the swap (tthc/pipeline/marts.py).

    Raises QualityGateFailed, leaving the published marts as they were, when the core gate
    before it or the marts gate failed."""
    from tthc.warehouse.summary import latest_night

    dsn = warehouse_dsn("transformer")
    gate = dbt.build_marts(dsn, as_of, run_id=run_id)
    log.info("night summary:\n%s", latest_night(dsn.conninfo()))
    return {
        "run_id": gate.run_id,
        "checks": len(gate.results),
        "warnings": len(gate.warnings),
        "data_docs": str(gate.docs_index) if gate.docs_index else None,
    }


def publish(
    now: datetime,
    period: str | None = None,
    unit_code: str | None = None,
    outbox: Path = OUTBOX,
    reports: Path = REPORTS,
) -> dict:
    """Write the province package of `period` (default: the month that just ended) for each province,
    then push every package not yet delivered to the province inbox (when one is configured),
    then write the scorecards of the month, its quarter and its year for every unit (under
    `reports`, beside the outbox, never inside a package)."""
    from tthc.province_package.delivery import deliver_outbox

    month = Month.parse(period) if period else Month.before(now)
    dsn = warehouse_dsn("publisher")
    if unit_code:
        units = [unit_code]
    else:
        with psycopg.connect(dsn.conninfo()) as conn:
            units = reporting_roots(conn, month)
    written = []
    for unit in units:
        result = publish_month(dsn, unit, month, now, outbox)
        written.append(str(result.path))
    report = deliver_outbox(outbox)
    log.info(report.summary())
    # The scorecards come after the packages are written and delivered, so their failure never
    # holds the province's extract back; it fails the task afterwards, naming what is missing.
    cards, failure = month_scorecards(dsn, month, now, reports, unit_code)
    report.raise_if_failed()  # a rejected package is a finding for people, not a silent skip
    if failure:
        raise ScorecardsNotWritten(f"the province packages of {month.key} are written and delivered, but {failure}")
    return {"written": written, "delivery": report.as_dict(), "scorecards": cards}


class ScorecardsNotWritten(RuntimeError):
    """Some scorecards of the month (or of its quarter or year) were not written."""


def month_scorecards(dsn, month: Month, now: datetime, root: Path, under: str | None = None) -> tuple[dict, str | None]:
    """The scorecards of the month and of the quarter and year containing it, for every unit of
    each period (under `under` when given): ({period: summary}, None) or what failed."""
    from tthc.scorecards.periods import containing
    from tthc.scorecards.publish import ScorecardsFailed, pipeline_mode, publish_scorecards

    mode = pipeline_mode()
    if mode == "off":
        log.info("scorecards: not written (TTHC_SCORECARDS=off)")
        return {}, None
    done, failed = {}, []
    for period in containing(month.key):
        try:
            result = publish_scorecards(dsn, period, now, root=root, under=under, pdf=mode == "pdf")
        except ScorecardsFailed as exc:
            done[period.key] = exc.result.as_dict()
            failed.append(
                f"{period.key}: {len(exc.result.failed)} units failed "
                f"({', '.join(sorted(exc.result.failed))}): {next(iter(exc.result.failed.values()))}"
            )
            log.error("scorecards %s: %s", period.key, exc)
        except Exception as exc:  # the period could not be read at all: say so, go on with the next
            failed.append(f"{period.key}: {type(exc).__name__}: {exc}")
            log.exception("scorecards %s not written", period.key)
        else:
            done[period.key] = result.as_dict()
    return done, ("scorecards not written: " + "; ".join(failed)) if failed else None
