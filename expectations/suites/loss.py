"""Record loss: the gate fails the night when quarantined or missing records pass the thresholds.

Below the thresholds an open quarantined record is a warning (`quarantine_open`); above them,
or a record of an entity with `fail_after_nights` still quarantined on that many nights, the
check fails, the marts are not rebuilt and nothing is published. The thresholds are read from
expectations/loss_thresholds.yml (or TTHC_LOSS_THRESHOLDS) each time the gate runs; the
measures are expectations/loss.py's, also kept per run in meta.loss_status for the summary and
the extract's manifest. Sample rows name the first keys with their reasons, never a value.
"""

from __future__ import annotations

from expectations import loss
from expectations.checks import FAIL, WARN, Check, E, Suite
from expectations.suites.runs import STORED_KEYS


def _check(name: str, severity: str, condition: str, columns: str, description: str) -> Check:
    """A rows check over loss.status_sql, built when the gate runs (so it reads the thresholds
    file as it is then); its rows are the entities where `condition` holds."""

    def build(scope):
        query = (
            f"select {columns} from ({loss.status_sql()}) s where {condition} order by source, entity"
            "\n/* gate batch: {batch} */"
        )
        return E.UnexpectedRowsExpectation(unexpected_rows_query=scope.render(query), description=description)

    return Check(name, severity, build, description, (STORED_KEYS,))


RECORD_LOSS = Suite(
    name="record_loss",
    schema="raw",
    table="quarantine",
    checks=(
        _check(
            "quarantine_within_thresholds",
            FAIL,
            "quarantine_over",
            "source, entity, quarantined_open, fetched, max_quarantined, max_quarantined_pct, first_records",
            "open quarantined records of each entity (not replayed, no good version loaded since) at most "
            "max_quarantined and at most max_quarantined_pct % of what its last run fetched",
        ),
        _check(
            "quarantine_resolved_in_time",
            FAIL,
            "open_too_long > 0",
            "source, entity, open_too_long, fail_after_nights, first_open_too_long",
            "no record of an entity with fail_after_nights (dossiers: 2) still quarantined on that many nights",
        ),
        _check(
            "missing_within_thresholds",
            FAIL,
            "missing_over",
            "source, entity, batch_id, source_total, missing, max_missing, max_missing_pct",
            "records the source counted for the last successful run that raw holds neither loaded nor "
            "quarantined: at most max_missing and at most max_missing_pct % of the source's total",
        ),
        _check(
            "quarantine_open",
            WARN,
            "quarantined_open > 0",
            "source, entity, quarantined_open, fetched, first_records",
            "no open quarantined record (below the thresholds: a warning; replay or fix at the source)",
        ),
    ),
    record=loss.record_status,
)
