"""The sources misbehave on a later night: timeouts, 5xx storms, revoked credentials, and the
portal's official scores failing. The production retry policy (extractors.http.RetryPolicy's
defaults: 8 attempts, full-jitter backoff from 0.5 s capped at 30 s, Retry-After honoured) runs
on a shortened clock (night.ShortClock), never an easier policy.

What a fault the policy rides out leaves: nothing but retries. What outlasts it, or cannot be
retried (refused credentials), fails that entity's task with the reason, keeps its watermark and
alerts; nothing downstream runs. After the source recovers (or the credentials are fixed), the
next run ends identical to a second night that never failed.
"""

from __future__ import annotations

import pytest

from extractors.entities import DVC_PORTAL, ONE_STOP, entity
from extractors.http import RetryPolicy, SourceAuthError
from simulator import FaultConfig
from tests.failure import fingerprint
from tests.failure.conftest import assert_same_as
from tests.failure.night import (
    ShortClock,
    alert_on_failure,
    alert_webhook,
    environment,
    fetch_scores_on_short_clock,
    ingest_on_short_clock,
    query,
    run_night,
)

pytestmark = pytest.mark.slow

SCORES_PATH = "/api/v1/reporting/evaluation/service-results"
PRODUCTION = RetryPolicy()


def statuses(night) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for source, name, status in query(
        night.dsn,
        "SELECT source, entity, status FROM meta.extract_runs WHERE window_to = %s ORDER BY batch_id",
        (night.clock,),
    ):
        out.setdefault(f"{source}__{name}", []).append(status)
    return out


def raw_counts(night) -> dict[str, int]:
    return {n: len(v) for n, v in fingerprint.take(night.dsn.conninfo(), schemas=("raw",)).raw.items()}


def watermarks(night) -> dict[str, object]:
    return {
        f"{s}__{e}": w for s, e, w in query(night.dsn, "SELECT source, entity, high_watermark FROM meta.watermarks")
    }


def assert_production_backoff(waits: list[float], retries: int) -> None:
    """Full jitter: the wait before retry a is in [0, min(max_delay, base_delay * 2**a)]."""
    assert len(waits) == retries, waits
    for attempt, wait in enumerate(waits):
        assert 0 <= wait <= min(PRODUCTION.max_delay, PRODUCTION.base_delay * 2**attempt), (attempt, waits)


def test_the_short_clock_keeps_the_production_policy():
    clock = ShortClock()
    policy = clock.policy()
    assert (policy.max_attempts, policy.base_delay, policy.max_delay, policy.max_retry_after) == (
        PRODUCTION.max_attempts,
        PRODUCTION.base_delay,
        PRODUCTION.max_delay,
        PRODUCTION.max_retry_after,
    )
    assert (policy.connect_timeout, policy.read_timeout) == (
        PRODUCTION.connect_timeout * clock.scale,
        PRODUCTION.read_timeout * clock.scale,
    )


def test_a_bad_night_at_the_sources_then_the_next_run(second_reference, later_simulator, scenario):
    """On the second night, one fault per task:
    - units: a 5xx storm of 7 requests, ridden out by the 8th attempt;
    - procedures: pages that answer after the read timeout now and then, ridden out;
    - unit offerings: every page answers after the read timeout (the source accepts, never answers
      in time): fails after 8 attempts;
    - dossiers: a 5xx storm longer than the retries: fails after 8 attempts;
    - process steps: the one-stop system revoked our client credentials (token endpoint 401);
    - payments: the portal revoked the API key (403);
    - the portal's official scores: a 5xx storm longer than the retries.
    Credential refusals are fatal at once (no retry can help), with a reason that says so; every
    failure keeps the watermark and alerts. Then the sources recover and the credentials are
    fixed: the next run (failed tasks, the scores, the build) ends like the night that never failed."""
    from tthc.orchestration import tasks

    night = scenario(second_reference.templates["ingest"], second=True)
    sim = later_simulator
    units, procedures, offerings, dossiers, steps = (
        entity(ONE_STOP, n) for n in ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly")
    )
    payments = entity(DVC_PORTAL, "payments")
    timeout = PRODUCTION.read_timeout * ShortClock().scale
    before = watermarks(night)
    first_counts = raw_counts(night)

    # ridden out
    sim.set_faults(FaultConfig(storm_requests=PRODUCTION.max_attempts - 1, paths=(units.path,)))
    storm_clock = ShortClock()
    errors, reasons = ingest_on_short_clock(night, (units,), storm_clock)
    assert errors == {} and sum(reasons[ONE_STOP].get(f"HTTP {c}", 0) for c in (502, 503, 504)) == 7, reasons
    assert_production_backoff(storm_clock.waits, PRODUCTION.max_attempts - 1)

    sim.set_faults(FaultConfig(seed=3, slow=0.5, slow_seconds=timeout * 3, paths=(procedures.path,)))
    errors, reasons = ingest_on_short_clock(night, (procedures,), ShortClock(), page_size=20)
    assert errors == {} and reasons[ONE_STOP].get("ReadTimeout", 0) >= 1, (errors, reasons)

    # outlasting the retries
    sim.set_faults(FaultConfig(slow=1.0, slow_seconds=timeout * 3, paths=(offerings.path,)))
    errors, _ = ingest_on_short_clock(night, (offerings,), ShortClock())
    assert f"failed after {PRODUCTION.max_attempts} attempts: ReadTimeout" in errors[offerings.table], errors

    sim.set_faults(FaultConfig(storm_requests=PRODUCTION.max_attempts, paths=(dossiers.path,)))
    outlasted = ShortClock()
    errors, _ = ingest_on_short_clock(night, (dossiers,), outlasted)
    assert f"failed after {PRODUCTION.max_attempts} attempts: HTTP 50" in errors[dossiers.table], errors
    assert_production_backoff(outlasted.waits, PRODUCTION.max_attempts - 1)

    # revoked credentials, through the DAG task itself (production client, production clock)
    sim.set_faults(FaultConfig(credentials_revoked=True))
    asked = sim.stats.by_path[steps.path]
    refused = {}
    with environment(night.env()):
        for target in (steps, payments):
            with pytest.raises(SourceAuthError) as caught:
                tasks.ingest_entity(target.source, target.name, night.clock, "failure-test")
            refused[target.table] = caught.value
    assert "HTTP 401" in str(refused[steps.table]) and "HTTP 403" in str(refused[payments.table]), refused
    assert all("refused" in str(e) for e in refused.values()), refused
    assert sim.stats.by_path[steps.path] == asked, "process steps were asked for without a token"

    sim.set_faults(FaultConfig(storm_requests=PRODUCTION.max_attempts, paths=(SCORES_PATH,)))
    with pytest.raises(Exception, match=f"failed after {PRODUCTION.max_attempts} attempts") as scores_failure:
        fetch_scores_on_short_clock(night, ShortClock())
    sim.set_faults(None)

    failed = (offerings, dossiers, steps, payments)
    # the failed extracts and the scores stored nothing of the night, whose changes are missing
    # (unit offerings bring no new version on this day: their failure shows in the runs only)
    failed_raw = {t.qualified_table for t in failed} | {"raw.dvc_portal__service_results"}
    counts = raw_counts(night)
    assert {t: counts[t] for t in failed_raw} == {t: first_counts[t] for t in failed_raw}, counts
    changed = {t for t in failed_raw if second_reference.raw_counts[t] > first_counts[t]}
    assert changed >= {
        dossiers.qualified_table,
        steps.qualified_table,
        payments.qualified_table,
        "raw.dvc_portal__service_results",
    }, changed
    runs = statuses(night)
    assert {t.table: runs.get(t.table) for t in failed} == {t.table: ["failed"] for t in failed}, runs
    assert runs[units.table] == runs[procedures.table] == ["success"], runs
    after = watermarks(night)
    assert {t.table: after[t.table] for t in failed} == {t.table: before[t.table] for t in failed}
    assert after[units.table] > before[units.table]
    errors_kept = dict(
        query(
            night.dsn,
            "SELECT source || '__' || entity, error FROM meta.extract_runs WHERE status = 'failed' AND window_to = %s",
            (night.clock,),
        )
    )
    assert "refused" in errors_kept[steps.table] and "ReadTimeout" in errors_kept[offerings.table], errors_kept

    # each failure alerts with its reason (Airflow's on_failure_callback, after the task's retries)
    with alert_webhook() as (url, alerts):
        alert_on_failure(refused[steps.table], "ingest_one_stop", "extract", url)
        alert_on_failure(scores_failure.value, "ingest_dvc_portal", "official_scores", url)
    assert [a["kind"] for a in alerts] == ["task_failure", "task_failure"], alerts
    assert "SourceAuthError" in alerts[0]["reason"] and "client credentials" in alerts[0]["reason"], alerts[0]
    assert alerts[1]["task_id"] == "official_scores" and "service-results" in alerts[1]["reason"], alerts[1]

    # sources back, credentials fixed: the failed tasks again, the scores, then the build
    report = run_night(night, until="marts")
    assert not report.failed_extracts and report.stages_run == ["ingest", "build", "gate", "marts"], report
    runs = statuses(night)
    assert {t.table: runs[t.table] for t in failed} == {t.table: ["failed", "success"] for t in failed}, runs
    assert_same_as(night, second_reference, packages=False)
