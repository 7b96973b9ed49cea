"""Run the real dbt CLI (its own venv) against a test database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tthc.pipeline.dbt import checks_scope_option
from tthc.privacy import pii_key
from tthc.warehouse import Dsn

REPO = Path(__file__).resolve().parents[2]
DBT = REPO / ".venv-dbt" / "bin" / "dbt"
PROJECT = REPO / "dbt"


def dbt_command(work: Path, *args: str) -> list[str]:
    """dbt <args> on the project, with its target and logs in the test's own folder."""
    return [
        str(DBT),
        *args,
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
        "--target",
        "warehouse",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]


def run_dbt(
    dsn: Dsn,
    work: Path,
    *args: str,
    as_of: str | None = None,
    check: bool = True,
    variables: dict | None = None,
    test_scope: str | None = None,
):
    """dbt <args> with a private target/log folder, so parallel workers never share state;
    `test_scope` as the pipeline passes it (session setting tthc.test_scope, default 'all')."""
    cmd = dbt_command(work, *args)
    variables = dict(variables or {}) | ({"as_of_date": as_of} if as_of else {})
    if variables:
        cmd += ["--vars", json.dumps(variables)]
    # the applicant key as the pipeline passes it (tthc/pipeline/dbt.py): a session setting
    env = {
        **os.environ,
        **dsn.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "PGOPTIONS": f"{checks_scope_option(test_scope)} {pii_key.pg_options(pii_key.load_key())}",
    }
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def run_dbt_offline(work: Path, *args: str) -> subprocess.CompletedProcess:
    """dbt commands that read the project only (parse, ls): no database, no key. The profile
    still renders, so its connection variables get values that reach nothing."""
    cmd = dbt_command(work, *args)
    env = {
        **os.environ,
        "TTHC_PG_HOST": "127.0.0.1",
        "TTHC_PG_PORT": "1",
        "TTHC_PG_USER": "nobody",
        "TTHC_PG_PASSWORD": "unused",
        "TTHC_PG_DBNAME": "none",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"dbt {' '.join(args)} failed:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}")
    return result


def parsed_manifest(work: Path) -> dict:
    """dbt's manifest of the project as it is (dbt parse into `work`)."""
    run_dbt_offline(work, "parse")
    return json.loads((work / "target" / "manifest.json").read_text())
