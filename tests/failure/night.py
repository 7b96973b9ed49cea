"""One night of the pipeline for the failure tests, run with the real pieces.

A night is what the DAGs do: every entity of both sources into raw (one task each, a failing
task does not stop the others), the portal's official scores, then, only when every extract
succeeded, dbt (core) → quality gate → dbt (marts) → the month's extract package.

Two ways to run a stage:
- in this process through `tthc.orchestration.tasks` (the DAG tasks' callables), for the
  reference night and for the runs after a failure (`run_night`);
- as the `tthc` CLI in a process group of its own (`start_cli`), for a run the test kills
  (SIGKILL of the whole group, dbt included) or breaks under.

Recovery follows Airflow: the failed task runs again, then everything after it
(`run_night(..., start=stage)`).
"""
from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from extractors.entities import ENTITIES, Entity
from extractors.http import RetryPolicy
from extractors.run import extract_entity
from extractors.sources import SourceSettings, make_client
from extractors.timefmt import LOCAL
from simulator import WorldConfig
from tests.paths import REPO
from tthc.paths import LOCAL as PROJECT_LOCAL
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

# A small province over four months, the July 2025 merger inside: ~2,700 dossiers, every entity.
WORLD = WorldConfig(seed=23, dossiers_per_year=8000, start=date(2025, 4, 1), end=date(2025, 12, 31),
                    departments=4, districts=2, communes_per_district=4, procedures=60)
CLOCK = datetime(2025, 8, 1, 1, 0, tzinfo=LOCAL)   # the night's run time (the sources' clock too)
AS_OF = CLOCK.date()
PERIOD = "2025-07"                                   # the month the night publishes
INITIAL_FROM = "2025-01-01"
STAGES = ("ingest", "build", "gate", "marts", "publish")
CREDENTIALS = {"client_id": "tthc-demo", "client_secret": "demo-secret", "api_key": "demo-api-key"}


@dataclass
class Night:
    """Where one night runs: a warehouse database, the sources, an outbox."""

    dsn: Dsn
    source_url: str
    outbox: Path
    portal_url: str | None = None   # another base URL for the DVC portal (a source that is down)

    def env(self) -> dict[str, str]:
        return {
            "WAREHOUSE_DSN": self.dsn.url(),
            "ONE_STOP_BASE_URL": self.source_url,
            "ONE_STOP_CLIENT_ID": CREDENTIALS["client_id"],
            "ONE_STOP_CLIENT_SECRET": CREDENTIALS["client_secret"],
            "DVC_PORTAL_BASE_URL": self.portal_url or self.source_url,
            "DVC_PORTAL_API_KEY": CREDENTIALS["api_key"],
            "TTHC_INITIAL_FROM": INITIAL_FROM,
            "TTHC_OUTBOX": str(self.outbox),
        }


@dataclass
class NightReport:
    failed_extracts: dict[str, str] = field(default_factory=dict)   # raw table -> error
    stages_run: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)         # stage -> how long it took

    @property
    def complete(self) -> bool:
        return not self.failed_extracts and self.stages_run[-1:] == ["publish"]


# Settings outside Airflow come from the environment; these must not leak in from the caller's.
_CLEARED = ("PROVINCE_INBOX_URL", "PROVINCE_INBOX_TOKEN", "TTHC_CRASH_AT", "TTHC_ALERT_WEBHOOK")


@contextmanager
def environment(values: dict[str, str]):
    """Set the night's variables for in-process tasks, and put the old ones back after."""
    saved = {k: os.environ.get(k) for k in (*values, *_CLEARED)}
    try:
        for key in _CLEARED:
            os.environ.pop(key, None)
        os.environ.update(values)
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_night(night: Night, start: str = "ingest", until: str = "publish",
              entities: tuple[Entity, ...] = ENTITIES, run_id: str | None = None) -> NightReport:
    """Run the night's stages `start`..`until` in this process, as the DAG tasks would; stop where
    a stage fails (the build waits for every extract, the marts for the gate)."""
    from tthc.orchestration import tasks

    run_id = run_id or f"failure-test-{uuid.uuid4().hex[:8]}"
    report = NightReport()
    with environment(night.env()):
        for stage in STAGES[STAGES.index(start):STAGES.index(until) + 1]:
            report.stages_run.append(stage)
            started = time.monotonic()
            if stage == "ingest":
                for target in entities:
                    try:
                        tasks.ingest_entity(target.source, target.name, CLOCK, run_id)
                    except Exception as exc:  # one task failing does not stop the others
                        report.failed_extracts[target.table] = f"{type(exc).__name__}: {exc}"
                if report.failed_extracts:
                    return report
                tasks.fetch_official_scores(CLOCK)
            elif stage == "build":
                tasks.build_warehouse(AS_OF)
            elif stage == "gate":
                tasks.quality_gate(run_id)
            elif stage == "marts":
                tasks.build_marts(AS_OF)
            elif stage == "publish":
                tasks.publish(CLOCK, PERIOD, outbox=night.outbox)
            report.seconds[stage] = round(time.monotonic() - started, 1)
            log.info("failure-test night %s: %s took %.1fs", night.dsn.dbname, stage, report.seconds[stage])
    return report


def impatient_policy() -> RetryPolicy:
    """Retries as the production policy does them, but giving up after three tries and without
    long waits, so a source that stays broken fails a task in a second, not in minutes."""
    return RetryPolicy(max_attempts=3, base_delay=0.005, max_delay=0.02, max_retry_after=0.02,
                       connect_timeout=2.0, read_timeout=10.0)


def ingest_impatiently(night: Night, targets: tuple[Entity, ...], page_size: int) -> tuple[dict, dict]:
    """Extract `targets` the way the task does, with the impatient policy and small pages.

    Returns (errors by raw table, retry reasons by source)."""
    errors, reasons = {}, {}
    for target in targets:
        url = night.portal_url if target.source == "dvc_portal" and night.portal_url else night.source_url
        settings = SourceSettings(url, CREDENTIALS["client_id"], CREDENTIALS["client_secret"], CREDENTIALS["api_key"])
        client = make_client(target.source, settings, impatient_policy(), page_size)
        try:
            extract_entity(night.dsn.conninfo(), client, target, CLOCK,
                           initial_from=datetime.fromisoformat(INITIAL_FROM).replace(tzinfo=LOCAL),
                           run_id="failure-test")
        except Exception as exc:
            errors[target.table] = f"{type(exc).__name__}: {exc}"
        finally:
            reasons.setdefault(target.source, {})
            for reason, count in client.http.retry_reasons.items():
                reasons[target.source][reason] = reasons[target.source].get(reason, 0) + count
            client.close()
    return errors, reasons


# -- runs the test kills ---------------------------------------------------------------------------

@dataclass
class CliRun:
    proc: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> int:
        """SIGKILL the whole process group: the CLI and whatever it started (dbt)."""
        if self.running():
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(timeout=30)

    def wait(self, timeout: float = 300) -> int:
        return self.proc.wait(timeout=timeout)


def start_cli(night: Night, args: list[str], log_dir: Path, extra_env: dict[str, str] | None = None) -> CliRun:
    """`tthc ARGS` against the night's warehouse and sources, in a process group of its own."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED} | night.env() | (extra_env or {})
    log_path = log_dir / f"tthc-{args[0]}-{uuid.uuid4().hex[:6]}.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tthc.cli", *args], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return CliRun(proc, log_path)


def output_shows(run: CliRun, pattern: str):
    """A condition for wait_for: the run's output so far has a line matching `pattern`."""
    compiled = re.compile(pattern)
    return lambda: compiled.search(run.log_path.read_text(errors="replace"))


def wait_for(condition, run: CliRun, what: str, timeout: float = 120.0, every: float = 0.05):
    """Poll `condition()` until it returns something truthy while `run` is still going."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if not run.running():
            raise AssertionError(f"the run ended (exit {run.proc.returncode}) before {what}:\n{run.output()}")
        time.sleep(every)
    run.kill()
    raise AssertionError(f"timed out waiting for {what}:\n{run.output()}")


# -- the warehouse ---------------------------------------------------------------------------------

def query(dsn: Dsn, text: str, params=None) -> list[tuple]:
    try:
        with psycopg.connect(dsn.conninfo(), connect_timeout=5) as conn:
            return conn.execute(text, params).fetchall()
    except psycopg.errors.UndefinedTable:
        return []


def relations_in(dsn: Dsn, schema: str) -> set[str]:
    return {r[0] for r in query(dsn, "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                                     "AND table_name !~ '__dbt_'", (schema,))}


def lock_waiters(dsn: Dsn, query_prefix: str = "") -> list[str]:
    """Statements of other sessions in the night's database that wait for a lock."""
    return [q for (q,) in query(dsn, "SELECT query FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
                                     "AND pid <> pg_backend_pid()", (dsn.dbname,))
            if q.lstrip().upper().startswith(query_prefix.upper())]


def create_database(admin: Dsn, name: str, template: str | None = None) -> Dsn:
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        if template:
            # A template must have no sessions (GX keeps a pooled one after the gate).
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template,))
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin.with_database(name)


def drop_database(admin: Dsn, name: str) -> None:
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    # dbt keeps a target folder per warehouse database (tthc.pipeline.dbt): not ours to keep.
    import shutil

    shutil.rmtree(PROJECT_LOCAL / "dbt" / f"{name}-{admin.port}", ignore_errors=True)


def crash_warehouse(cluster) -> None:
    """Stop the PostgreSQL server the way a crash does: no checkpoint, every session cut
    (`pg_ctl stop -m immediate`); the next start replays the WAL."""
    from tthc.warehouse.embedded import find_pg_bin

    cmd = [str(find_pg_bin() / "pg_ctl"), "stop", "-m", "immediate", "-w", "-D", str(cluster.data_dir)]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
