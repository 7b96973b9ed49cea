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
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import psycopg
from psycopg import sql

from extractors.entities import ENTITIES, Entity
from extractors.http import RetryingSession, RetryPolicy
from extractors.run import extract_entity
from extractors.timefmt import LOCAL
from simulator import WorldConfig
from tests.paths import REPO
from tthc.paths import LOCAL as PROJECT_LOCAL
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

# A small province over four months, the July 2025 merger inside: ~2,700 dossiers, every entity.
WORLD = WorldConfig(
    seed=23,
    dossiers_per_year=8000,
    start=date(2025, 4, 1),
    end=date(2025, 12, 31),
    departments=4,
    districts=2,
    communes_per_district=4,
    procedures=60,
)
CLOCK = datetime(2025, 8, 1, 1, 0, tzinfo=LOCAL)  # the night's run time (the sources' clock too)
SECOND_CLOCK = datetime(2025, 8, 2, 1, 0, tzinfo=LOCAL)  # the next night: incremental merges on a built warehouse
AS_OF = CLOCK.date()
PERIOD = "2025-07"  # the month the night publishes
INITIAL_FROM = "2025-01-01"
STAGES = ("ingest", "build", "gate", "marts", "publish")
CREDENTIALS = {"client_id": "tthc-demo", "client_secret": "demo-secret", "api_key": "demo-api-key"}


@dataclass
class Night:
    """Where one night runs: a warehouse database, the sources, an outbox."""

    dsn: Dsn
    source_url: str
    outbox: Path
    portal_url: str | None = None  # another base URL for the DVC portal (a source that is down)
    clock: datetime = CLOCK  # the night's run time (the DAG run's time)
    inbox_url: str | None = None  # the province inbox, when the night delivers
    inbox_token: str = "demo-inbox-token"

    @property
    def as_of(self) -> date:
        return self.clock.date()

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
        } | ({"PROVINCE_INBOX_URL": self.inbox_url, "PROVINCE_INBOX_TOKEN": self.inbox_token} if self.inbox_url else {})


@dataclass
class NightReport:
    failed_extracts: dict[str, str] = field(default_factory=dict)  # raw table -> error
    stages_run: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> how long it took

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


def run_night(
    night: Night,
    start: str = "ingest",
    until: str = "publish",
    entities: tuple[Entity, ...] = ENTITIES,
    run_id: str | None = None,
) -> NightReport:
    """Run the night's stages `start`..`until` in this process, as the DAG tasks would; stop where
    a stage fails (the build waits for every extract, the marts for the gate)."""
    from tthc.orchestration import tasks

    run_id = run_id or f"failure-test-{uuid.uuid4().hex[:8]}"
    report = NightReport()
    with environment(night.env()):
        for stage in STAGES[STAGES.index(start) : STAGES.index(until) + 1]:
            report.stages_run.append(stage)
            started = time.monotonic()
            if stage == "ingest":
                for target in entities:
                    try:
                        tasks.ingest_entity(target.source, target.name, night.clock, run_id)
                    except Exception as exc:  # one task failing does not stop the others
                        report.failed_extracts[target.table] = f"{type(exc).__name__}: {exc}"
                if report.failed_extracts:
                    return report
                tasks.fetch_official_scores(night.clock)
            elif stage == "build":
                tasks.build_warehouse(night.as_of)
            elif stage == "gate":
                tasks.quality_gate(run_id)
            elif stage == "marts":
                tasks.build_marts(night.as_of)
            elif stage == "publish":
                tasks.publish(night.clock, PERIOD, outbox=night.outbox)
            report.seconds[stage] = round(time.monotonic() - started, 1)
            log.info("failure-test night %s: %s took %.1fs", night.dsn.dbname, stage, report.seconds[stage])
    return report


# -- the production retry policy on a shortened clock --------------------------------------------------

TIME_SCALE = 0.01  # one second of the production clock lasts 10 ms here (a 120 s read timeout: 1.2 s)


@dataclass
class ShortClock:
    """The production clock, shortened: every wait and timeout lasts `scale` of its production length.

    `waits` keeps what production would have waited, in production seconds, one entry per sleep."""

    scale: float = TIME_SCALE
    waits: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds * self.scale)

    def policy(self) -> RetryPolicy:
        """RetryPolicy's production defaults (attempts, base delay, caps: the backoff's shape), with the
        socket timeouts shortened by the same scale; backoff and Retry-After waits go through sleep()."""
        production = RetryPolicy()
        return replace(
            production,
            connect_timeout=production.connect_timeout * self.scale,
            read_timeout=production.read_timeout * self.scale,
        )


def production_client(night: Night, target: Entity, clock: ShortClock, page_size: int | None = None):
    """The client tasks.ingest_entity builds (extractors.sources.make_client), on the short clock."""
    from extractors.dvc_portal import DvcPortalClient
    from extractors.one_stop import OneStopClient

    http = RetryingSession(clock.policy(), sleep=clock.sleep)
    if target.source == "dvc_portal":
        return DvcPortalClient(night.portal_url or night.source_url, CREDENTIALS["api_key"], http, page_size)
    return OneStopClient(night.source_url, CREDENTIALS["client_id"], CREDENTIALS["client_secret"], http, page_size)


def ingest_on_short_clock(
    night: Night,
    targets: tuple[Entity, ...],
    clock: ShortClock,
    page_size: int | None = None,
    run_id: str = "failure-test",
    during=None,
) -> tuple[dict, dict]:
    """Extract `targets` one after the other as tasks.ingest_entity does (the same window settings,
    the production retry policy), on the short clock. `during(target)`, if given, is a context
    manager around each extract (a fault that starts mid-extract).

    Returns (errors by raw table, retry reasons by source)."""
    from contextlib import nullcontext

    from tthc import settings

    errors, reasons = {}, {}
    with environment(night.env()):
        for target in targets:
            client = production_client(night, target, clock, page_size)
            try:
                with during(target) if during else nullcontext():
                    extract_entity(
                        night.dsn.conninfo(),
                        client,
                        target,
                        night.clock,
                        initial_from=settings.initial_from(),
                        lookback=settings.lookback(),
                        run_id=run_id,
                    )
            except Exception as exc:
                errors[target.table] = f"{type(exc).__name__}: {exc}"
            finally:
                reasons.setdefault(target.source, {})
                for reason, count in client.http.retry_reasons.items():
                    reasons[target.source][reason] = reasons[target.source].get(reason, 0) + count
                client.close()
    return errors, reasons


def fetch_scores_on_short_clock(night: Night, clock: ShortClock) -> int:
    """tasks.fetch_official_scores (the portal's official 766 scores) with the production policy on
    the short clock."""
    from extractors.portal_scores import fetch_service_results, periods_around, province_roots

    portal = Entity("dvc_portal", "service_results", "", (), "", False)  # only its source matters here
    client = production_client(night, portal, clock)
    try:
        conninfo = night.dsn.conninfo()
        return fetch_service_results(
            conninfo, client, province_roots(conninfo, night.as_of), periods_around(night.as_of)
        )
    finally:
        client.close()


# -- alerts -------------------------------------------------------------------------------------------


@contextmanager
def alert_webhook():
    """A webhook on a free loopback port that keeps the JSON of every alert POSTed to it; yields
    (url, alerts)."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    alerts: list[dict] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            alerts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alert", alerts
    finally:
        server.shutdown()
        server.server_close()


def alert_on_failure(exc: BaseException, dag_id: str, task_id: str, webhook: str) -> None:
    """What Airflow does when a task fails for good: its on_failure_callback with the exception."""
    from types import SimpleNamespace

    from tthc.orchestration.alerts import notify_failure

    context = {
        "exception": exc,
        "task_instance": SimpleNamespace(dag_id=dag_id, task_id=task_id, try_number=3, log_url=None),
        "dag_run": SimpleNamespace(run_id="failure-test"),
    }
    with environment({"TTHC_ALERT_WEBHOOK": webhook}):
        notify_failure(context)


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


def start_cli(
    night: Night, args: list[str], log_dir: Path, extra_env: dict[str, str] | None = None, kill_at: str | None = None
) -> CliRun:
    """`tthc ARGS` against the night's warehouse and sources, in a process group of its own;
    with `kill_at` ("module:function"), killed by SIGKILL when it calls that function (kill_at.py)."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED} | night.env() | (extra_env or {})
    log_path = log_dir / f"tthc-{args[0]}-{uuid.uuid4().hex[:6]}.log"
    command = ["-m", "tests.failure.kill_at", kill_at] if kill_at else ["-m", "tthc.cli"]
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, *command, *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
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
    return {
        r[0]
        for r in query(
            dsn,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_name !~ '__dbt_'",
            (schema,),
        )
    }


def lock_waiters(dsn: Dsn, query_prefix: str = "") -> list[str]:
    """Statements of other sessions in the night's database that wait for a lock."""
    return [
        q
        for (q,) in query(
            dsn,
            "SELECT query FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid()",
            (dsn.dbname,),
        )
        if q.lstrip().upper().startswith(query_prefix.upper())
    ]


def create_database(admin: Dsn, name: str, template: str | None = None) -> Dsn:
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        if template:
            # A template must have no sessions (GX keeps a pooled one after the gate).
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template,))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
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
