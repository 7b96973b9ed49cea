"""After any failure, the next run ends exactly where a night that never failed ends.

Each test breaks one night for real (a source down or throttled, SIGKILL at a stage, the
warehouse crashing), checks the failure really happened and left what it should, runs the
pipeline again normally (the failed task and everything after it, as Airflow does), and then
compares with a reference night that never failed: warehouse (core + marts, row hashes without
load bookkeeping), raw (every (record_key, payload_hash)), and the extract package's bytes.

The reference night runs once for the suite (tests/failure/conftest.py); the later-stage tests
start from copies of its database taken between stages (CREATE DATABASE … TEMPLATE), so only
the broken stage and what follows it are run again. The extracts retry with the production
policy (extractors.http.RetryPolicy's defaults) on a shortened clock (night.ShortClock).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import psycopg
import pytest

from extractors.entities import DVC_PORTAL, ONE_STOP, entity, of_source
from extractors.http import RetryPolicy
from simulator import FaultConfig
from tests.conftest import free_port
from tests.failure import fingerprint
from tests.failure.conftest import Reference, assert_same_as
from tests.failure.night import (
    AS_OF,
    CLOCK,
    PERIOD,
    Night,
    ShortClock,
    crash_warehouse,
    ingest_on_short_clock,
    lock_waiters,
    output_shows,
    query,
    relations_in,
    run_night,
    start_cli,
    wait_for,
)

pytestmark = pytest.mark.slow


def assert_same_as_reference(night: Night, reference: Reference) -> None:
    assert_same_as(night, reference)


def run_statuses(night: Night) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for source, name, status in query(
        night.dsn, "SELECT source, entity, status FROM meta.extract_runs ORDER BY batch_id"
    ):
        out.setdefault(f"{source}__{name}", []).append(status)
    return out


def watermarks(night: Night) -> dict[str, object]:
    return {
        f"{s}__{e}": w for s, e, w in query(night.dsn, "SELECT source, entity, high_watermark FROM meta.watermarks")
    }


def raw_count(night: Night, table: str) -> int:
    rows = query(night.dsn, f"SELECT count(*) FROM raw.{table}")
    return rows[0][0] if rows else 0


# -- the extract stage ---------------------------------------------------------------------------------


def test_a_night_of_extract_failures_then_a_normal_night(reference, simulator, scenario, tmp_path):
    """Four extract failures in one night, one per task, as a bad night brings them:
    - the DVC portal does not answer all night (connection refused): its five tasks fail;
    - a 429 storm on process steps starts after some pages committed and outlasts the
      production retry policy (8 attempts, Retry-After honoured), on a shortened clock;
    - dossiers: SIGKILL half-way through the pages;
    - unit offerings: SIGKILL after the last page committed, before the watermark moved.
    Nothing downstream runs. The next night reads every window again, stores nothing twice, and
    ends like the reference. (One night for the four so they share one rebuild; each failure's
    own mark is checked before the rerun, and raw is compared per table.)"""
    night = scenario()
    ho_so, steps, offerings = (entity(ONE_STOP, n) for n in ("ho_so", "qua_trinh_xu_ly", "thu_tuc_don_vi"))
    portal = of_source(DVC_PORTAL)
    calm = (entity(ONE_STOP, "don_vi"), entity(ONE_STOP, "thu_tuc"))

    @contextmanager
    def storm_after_first_pages(target):
        """Every request of process steps answers 429 (Retry-After: 1) once two pages are in."""
        if target != steps:
            yield
            return
        stop = threading.Event()

        def watch():
            while not stop.is_set() and raw_count(night, steps.table) < 100:
                stop.wait(0.005)
            simulator.set_faults(FaultConfig(rate_limit=1.0, retry_after=1, paths=(steps.path,)))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join()
            simulator.set_faults(None)

    night.portal_url = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    clock = ShortClock()
    errors, reasons = ingest_on_short_clock(
        night, (*calm, steps, *portal), clock, page_size=50, during=storm_after_first_pages
    )
    assert set(errors) == {steps.table, *(e.table for e in portal)}, errors
    assert all("ConnectionError" in errors[e.table] for e in portal), errors
    attempts = RetryPolicy().max_attempts
    assert f"failed after {attempts} attempts: HTTP 429" in errors[steps.table], errors[steps.table]
    # the page that failed waited as production waits: Retry-After (1 s) before each of its retries
    assert reasons[ONE_STOP].get("HTTP 429") == attempts - 1, reasons
    assert clock.waits.count(1.0) >= attempts - 1, clock.waits
    assert 0 < raw_count(night, steps.table) < reference.raw_counts[steps.qualified_table]

    # dossiers: every page is slow, so the kill lands between two page commits
    simulator.set_faults(FaultConfig(seed=8, slow=1.0, slow_seconds=1.0, paths=(ho_so.path,)))
    run = start_cli(night, ["ingest", ONE_STOP, "--entity", ho_so.name, "--upper", CLOCK.isoformat()], tmp_path)
    wait_for(lambda: raw_count(night, ho_so.table) > 0, run, "the first page of dossiers")
    assert run.kill() == -signal.SIGKILL
    simulator.set_faults(None)
    assert 0 < raw_count(night, ho_so.table) < reference.raw_counts[ho_so.qualified_table]

    # unit offerings: the watermark table is locked, so the run stops right after its last page
    # and is killed there, waiting to write the watermark
    with psycopg.connect(night.dsn.conninfo()) as blocker:
        blocker.execute("LOCK TABLE meta.watermarks IN EXCLUSIVE MODE")
        run = start_cli(night, ["ingest", ONE_STOP, "--entity", offerings.name, "--upper", CLOCK.isoformat()], tmp_path)
        wait_for(
            lambda: lock_waiters(night.dsn, "INSERT INTO meta.watermarks"),
            run,
            "the unit-offering extract to reach its watermark",
        )
        assert run.kill() == -signal.SIGKILL
        blocker.rollback()
    assert raw_count(night, offerings.table) == reference.raw_counts[offerings.qualified_table]  # all pages in

    statuses = run_statuses(night)
    assert {t: statuses[t] for t in errors} == {t: ["failed"] for t in errors}, statuses
    assert statuses[ho_so.table] == statuses[offerings.table] == ["running"], statuses
    assert set(watermarks(night)) == {e.table for e in calm}
    assert not relations_in(night.dsn, "core"), "the build ran although extracts had failed"

    night.portal_url = None
    report = run_night(night)
    assert report.complete, report
    statuses = run_statuses(night)
    assert statuses[ho_so.table] == statuses[offerings.table] == ["abandoned", "success"], statuses
    assert statuses[steps.table] == ["failed", "success"], statuses
    assert_same_as_reference(night, reference)


# -- dbt, the gate, the marts, the package -----------------------------------------------------------------


def test_dbt_killed_mid_build_then_the_build_again(reference, scenario, tmp_path):
    """SIGKILL of the build (the CLI and its dbt) once the first core model is in: some models
    are built, others not. Building again gives the reference's warehouse and package."""
    night = scenario(reference.templates["build"])
    expected_core = {n.split(".", 1)[1] for n in reference.prints.warehouse if n.startswith("core.")}
    run = start_cli(night, ["build", "--as-of", AS_OF.isoformat()], tmp_path)
    wait_for(output_shows(run, r"OK created .*model core\."), run, "the first core model", timeout=240)
    assert run.kill() == -signal.SIGKILL
    assert relations_in(night.dsn, "core") != expected_core, "the build had finished; nothing was interrupted"

    report = run_night(night, start="build")
    assert report.complete, report
    assert_same_as_reference(night, reference)


def test_gate_killed_mid_validation_then_the_gate_again(reference, scenario, tmp_path):
    """The gate is killed while it reads the facts (held at a lock on core.fct_dossier): no
    results are kept, nothing is published. Running the gate again, then the marts and the
    package, ends like the reference."""
    night = scenario(reference.templates["gate"])
    with psycopg.connect(night.dsn.conninfo()) as blocker:
        blocker.execute("LOCK TABLE core.fct_dossier IN ACCESS EXCLUSIVE MODE")
        run = start_cli(night, ["gate"], tmp_path)
        wait_for(lambda: lock_waiters(night.dsn), run, "the gate to read core.fct_dossier", timeout=180)
        assert run.kill() == -signal.SIGKILL
        blocker.rollback()
    assert not query(night.dsn, "SELECT 1 FROM meta.quality_results LIMIT 1"), "a killed gate left results"
    assert not relations_in(night.dsn, "marts")

    report = run_night(night, start="gate")
    assert report.complete, report
    assert_same_as_reference(night, reference)


def test_warehouse_crash_mid_marts_then_the_marts_again(reference, scenario, pg_cluster, tmp_path):
    """The PostgreSQL server stops like a crash (immediate: no checkpoint, every session cut)
    while dbt builds the marts, and starts again. The marts step fails; run again, it ends
    like the reference."""
    night = scenario(reference.templates["marts"])
    run = start_cli(night, ["marts", "--as-of", AS_OF.isoformat()], tmp_path)
    wait_for(output_shows(run, r"OK created .*model"), run, "the first mart model", timeout=240)
    crash_warehouse(pg_cluster)
    assert run.wait(timeout=120) != 0, "the marts step went on although the warehouse was down"
    pg_cluster.start()
    assert query(night.dsn, "SELECT 1"), "the warehouse did not come back"

    report = run_night(night, start="marts")
    assert report.complete, report
    assert_same_as_reference(night, reference)


def test_package_writer_killed_mid_package_then_publish_again(reference, scenario, tmp_path):
    """The publish process dies (SIGKILL) after the first file of the package is on disk: no
    version is issued, only a hidden temporary folder stays. Publishing again issues v1 with
    the reference's bytes."""
    night = scenario(reference.templates["publish"])
    run = start_cli(
        night,
        ["publish", "--period", PERIOD, "--now", CLOCK.isoformat()],
        tmp_path,
        {"TTHC_CRASH_AT": "package.file_written"},
    )
    assert run.wait(timeout=180) == -signal.SIGKILL, run.output()
    assert fingerprint.package_files(night.outbox) == {}, "a version was issued by a write that never finished"
    leftovers = fingerprint.litter(night.outbox)
    assert len(leftovers) == 1 and len(list(leftovers[0].iterdir())) == 1, leftovers

    report = run_night(night, start="publish")
    assert report.complete, report
    assert_same_as_reference(night, reference)
    assert [p.name for p in (night.outbox).glob("*/*/v*")] == ["v1"]
