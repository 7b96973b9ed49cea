"""Run the real DAGs locally: an Airflow home under .local, connections from the environment.

`airflow dags test` runs a real DAG run in-process against a SQLite metadata database;
this module prepares that environment and calls it, for the demo and for tests.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from extractors.sources import SourceSettings
from tthc.paths import DAGS_DIR, LOCAL, PROJECT_ROOT
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)


def airflow_env(
    home: Path, dsn: Dsn, one_stop: SourceSettings | None = None, dvc_portal: SourceSettings | None = None
) -> dict[str, str]:
    """Environment for Airflow processes: config, and connections given as env variables."""
    env = dict(os.environ)
    env |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "TTHC_TASK_RETRIES": env.get("TTHC_TASK_RETRIES", "0"),  # local runs fail fast
        "TTHC_HOME": str(PROJECT_ROOT),
        "AIRFLOW_CONN_WAREHOUSE": json.dumps(
            {
                "conn_type": "postgres",
                "host": dsn.host,
                "port": dsn.port,
                "login": dsn.user,
                "password": dsn.password,
                "schema": dsn.dbname,
            }
        ),
    }
    if one_stop:
        env["AIRFLOW_CONN_ONE_STOP"] = json.dumps(
            {
                "conn_type": "http",
                "host": one_stop.base_url,
                "login": one_stop.client_id,
                "password": one_stop.client_secret,
            }
        )
    if dvc_portal:
        env["AIRFLOW_CONN_DVC_PORTAL"] = json.dumps(
            {
                "conn_type": "http",
                "host": dvc_portal.base_url,
                "password": dvc_portal.api_key,
            }
        )
    return env


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


# What the project's Airflow home must say in airflow.cfg itself, not only in the environment of
# the processes this module starts: a person who opens the UI with that home (the demo prints the
# command) must see the project's DAGs, not Airflow's ~80 examples beside them.
CONFIG = {"core": {"load_examples": "False", "dags_folder": str(DAGS_DIR), "default_timezone": "Asia/Ho_Chi_Minh"}}


def ensure_metadata_db(env: dict[str, str]) -> None:
    home = Path(env["AIRFLOW_HOME"])
    marker = home / ".migrated"
    if marker.exists():
        write_config(home / "airflow.cfg")
        return
    home.mkdir(parents=True, exist_ok=True)
    log.info("creating the Airflow metadata database in %s", home)
    subprocess.run([airflow_bin(), "db", "migrate"], env=env, check=True, capture_output=True, text=True)
    write_config(home / "airflow.cfg")
    marker.touch()


def write_config(path: Path, settings: dict[str, dict[str, str]] = CONFIG) -> None:
    """Set `settings` in an airflow.cfg, keeping every other line (Airflow's generated secrets too)."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    for section, values in settings.items():
        header = f"[{section}]"
        if header not in (line.strip() for line in lines):
            lines += ["", header]
        start = next(i for i, line in enumerate(lines) if line.strip() == header) + 1
        end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
        for key, value in values.items():
            found = next(
                (
                    i
                    for i in range(start, end)
                    if lines[i].split("=", 1)[0].strip() == key and not lines[i].lstrip().startswith(("#", ";"))
                ),
                None,
            )
            if found is None:
                lines.insert(start, f"{key} = {value}")
                end += 1
            else:
                lines[found] = f"{key} = {value}"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def dags_test(dag_id: str, logical_date: datetime, env: dict[str, str], log_file: Path | None = None) -> None:
    """One real DAG run; raises with the log's tail if any task failed."""
    ensure_metadata_db(env)
    log_file = log_file or (LOCAL / "logs" / f"{dag_id}-{logical_date:%Y%m%dT%H%M}.log")
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w", encoding="utf-8") as out:
        proc = subprocess.run(
            [airflow_bin(), "dags", "test", dag_id, logical_date.isoformat()],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    text = log_file.read_text(encoding="utf-8", errors="replace")
    failed = proc.returncode != 0 or "state=failed" in text or "DagRunState.FAILED" in text
    if failed:
        raise RuntimeError(
            f"airflow dags test {dag_id} {logical_date:%Y-%m-%d} failed; log: {log_file}\n" + text[-3000:]
        )
