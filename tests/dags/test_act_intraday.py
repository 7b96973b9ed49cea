"""The intraday DAG runs for real (`airflow dags test`, in a process of its own): on a make-up
Saturday it refreshes and publishes the lists at the run's hour; on a public holiday and on an
ordinary Sunday its first task short-circuits and nothing after it runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import uuid
from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from extractors.sources import SourceSettings
from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests.failure.night import Night, create_database, drop_database, run_night
from tthc.orchestration.airflow_local import airflow_env, ensure_metadata_db

pytestmark = pytest.mark.slow

WORLD = WorldConfig(
    seed=13,
    dossiers_per_year=600,
    start=date(2025, 3, 1),
    end=date(2025, 6, 30),
    departments=2,
    districts=1,
    communes_per_district=2,
    procedures=30,
)
NIGHT = datetime(2025, 4, 26, 1, 0, tzinfo=LOCAL)
MAKE_UP_SATURDAY = datetime(2025, 4, 26, 9, 0, tzinfo=LOCAL)  # WORKDAY in the holiday seed
SUNDAY = datetime(2025, 4, 27, 9, 0, tzinfo=LOCAL)
HOLIDAY = datetime(2025, 4, 30, 9, 0, tzinfo=LOCAL)  # HOLIDAY (a Wednesday)


def run(dag_id: str, logical: datetime, env: dict) -> tuple[int, dict[str, str], str]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("run_dag.py")), dag_id, logical.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    states = dict(re.findall(r"^TASK_STATE (\S+) (\S+)$", proc.stdout, re.MULTILINE))
    return proc.returncode, states, proc.stdout[-4000:] + proc.stderr[-4000:]


def test_intraday_dag_runs_on_a_make_up_saturday_and_skips_days_off(pg_cluster, tmp_path):
    admin = pg_cluster.admin_dsn()
    name = f"act_dag_{uuid.uuid4().hex[:6]}"
    with SimulatorServer(World(WORLD), port=0, clock=NIGHT) as server:
        night = Night(create_database(admin, name), server.url, tmp_path / "outbox", clock=NIGHT)
        try:
            assert not run_night(night, until="build").failed_extracts  # what the refresh reads
            server.set_clock(MAKE_UP_SATURDAY)
            env = airflow_env(
                Path(tempfile.mkdtemp(prefix="tthc-test-airflow-")),
                night.dsn,
                one_stop=SourceSettings(server.url, "tthc-demo", "demo-secret"),
                dvc_portal=SourceSettings(server.url, api_key="demo-api-key"),
            )
            env["TTHC_INITIAL_FROM"] = "2025-01-01"
            env["TTHC_OUTBOX"] = str(tmp_path / "outbox")
            ensure_metadata_db(env)

            code, states, output = run("act_intraday", MAKE_UP_SATURDAY, env)
            assert code == 0, output
            assert states["is_working_day"] == "success" and states["refresh_lists"] == "success", states
            with psycopg.connect(night.dsn.conninfo()) as conn:
                assert conn.execute("select at_ts from actions.act_refresh").fetchall() == [(MAKE_UP_SATURDAY,)]
                history = conn.execute("select count(*) from actions_history.unit_summary").fetchone()[0]
            assert history > 0

            for day_off in (HOLIDAY, SUNDAY):
                code, states, output = run("act_intraday", day_off, env)
                assert code == 0, output
                assert states == {
                    "is_working_day": "success",
                    "refresh_lists": "skipped",
                    "publish_daily_workbooks": "skipped",
                }, (day_off, states)
            with psycopg.connect(night.dsn.conninfo()) as conn:
                assert conn.execute("select at_ts from actions.act_refresh").fetchall() == [(MAKE_UP_SATURDAY,)]
                assert conn.execute("select count(*) from actions_history.unit_summary").fetchone()[0] == history
        finally:
            drop_database(admin, name)
