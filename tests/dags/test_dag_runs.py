"""Real DAG runs with dag.test(): the nightly ingest against the simulator over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from extractors.entities import ONE_STOP, of_source
from extractors.sources import SourceSettings
from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tthc.orchestration.airflow_local import airflow_env, ensure_metadata_db

pytestmark = pytest.mark.slow

CLOCK = datetime(2025, 3, 1, 1, 0, tzinfo=LOCAL)


def test_nightly_ingest_dag_loads_every_one_stop_entity(fresh_db):
    world = World(WorldConfig(seed=3, dossiers_per_year=400, start=date(2025, 1, 1), end=date(2025, 6, 30)))
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        env = airflow_env(
            Path(tempfile.mkdtemp(prefix="tthc-test-airflow-")),
            fresh_db,
            one_stop=SourceSettings(server.url, "tthc-demo", "demo-secret"),
        )
        env["TTHC_INITIAL_FROM"] = "2024-12-01"
        ensure_metadata_db(env)
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("run_dag.py")), "ingest_one_stop", CLOCK.isoformat()],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with psycopg.connect(fresh_db.conninfo()) as conn:
        for e in of_source(ONE_STOP):
            stored = conn.execute(f"select count(distinct record_key) from {e.qualified_table}").fetchone()[0]
            assert stored == len(world.records(ONE_STOP, e.name, CLOCK)), e.name
        marks = dict(conn.execute("select entity, high_watermark from meta.watermarks").fetchall())
        runs = conn.execute("select count(*) from meta.extract_runs where status = 'success'").fetchone()[0]
    assert set(marks) == {e.name for e in of_source(ONE_STOP)}
    assert all(m == CLOCK for m in marks.values())
    assert runs == len(of_source(ONE_STOP))


def test_a_failing_task_sends_an_alert_with_the_reason(fresh_db):
    """Wrong source credentials: the task fails clearly and the failure callback posts the alert,
    at once, with the production retries configured (refused credentials do not heal by waiting:
    a retry would only delay the alert by the retry delay)."""
    from tests.extractors.scripted_server import ScriptedServer

    world = World(WorldConfig(seed=3, dossiers_per_year=100, start=date(2025, 1, 1), end=date(2025, 3, 31)))
    server = SimulatorServer(world, host="127.0.0.1", port=0, clock=CLOCK)
    server.start()
    try:
        with ScriptedServer(lambda seen: (200, {}, b"{}")) as webhook:
            env = airflow_env(
                Path(tempfile.mkdtemp(prefix="tthc-test-airflow-")),
                fresh_db,
                one_stop=SourceSettings(server.url, "tthc-demo", "not-the-secret"),
            )
            env["TTHC_ALERT_WEBHOOK"] = webhook.url + "/hook"
            env["TTHC_TASK_RETRIES"] = "2"
            ensure_metadata_db(env)
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).with_name("run_dag.py")), "ingest_one_stop", CLOCK.isoformat()],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            alerts = [json.loads(s.body) for s in webhook.calls("/hook")]
    finally:
        server.stop()
    assert proc.returncode != 0
    assert alerts, proc.stdout[-2000:]
    assert {a["task_id"] for a in alerts} == {"extract"}
    assert all(a["kind"] == "task_failure" and "refused the client credentials" in a["reason"] for a in alerts)
