"""Connections outside Airflow: a `tthc` command resolves its logins without touching Airflow,
so it never creates ~/airflow (or any file outside the project)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO

TTHC = str(Path(sys.executable).parent / "tthc")


def outside_airflow(home: Path, admin_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    return env | {"HOME": str(home), "WAREHOUSE_DSN": admin_url}


def run_cli(home: Path, admin_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    clean = outside_airflow(home, admin_url) | env
    return subprocess.run([TTHC, *args], env=clean, cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_cli_call_outside_airflow_leaves_the_home_folder_alone(tmp_path, pg_cluster):
    result = run_cli(tmp_path, pg_cluster.admin_dsn().url(), "warehouse", "bi-url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("postgresql://tthc_bi:")
    assert list(tmp_path.iterdir()) == []
    other = run_cli(tmp_path, pg_cluster.admin_dsn().url(), "warehouse", "bi-url", "--database", "tthc_demo")
    assert other.stdout.strip() == result.stdout.strip().rsplit("/", 1)[0] + "/tthc_demo"


def test_a_connection_in_the_environment_is_read_with_airflow_home_inside_the_project(tmp_path, pg_cluster):
    conn = (
        '{"conn_type": "postgres", "host": "db.example", "port": 5433, "login": "tthc_bi", '
        '"password": "from-conn", "schema": "warehouse"}'
    )
    result = run_cli(tmp_path, pg_cluster.admin_dsn().url(), "warehouse", "bi-url", AIRFLOW_CONN_WAREHOUSE_BI=conn)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "postgresql://tthc_bi:from-conn@db.example:5433/warehouse"
    assert list(tmp_path.iterdir()) == []


def test_airflow_is_not_imported_by_resolving_a_login(tmp_path, pg_cluster):
    code = "import sys; from tthc.warehouse.stages import stage_dsn; stage_dsn('bi'); print('airflow' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=outside_airflow(tmp_path, pg_cluster.admin_dsn().url()),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout.strip() == "False", out.stderr
