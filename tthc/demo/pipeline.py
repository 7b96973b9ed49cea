"""`make demo`: the whole pipeline end to end on the embedded warehouse and the simulator.

Starts the warehouse and the bundled source simulator, then for each demo night moves the
simulator's clock to that night and runs the real DAGs with `airflow dags test`: ingest,
build + quality gate + marts, and on the first of the month the monthly publish. Ends by
printing where the marts and the province package are, a short table of scores, and one commune's day
(tthc/demo/actions.py): its lists as of a working hour of the last month, the three things to
do, the month-end projection and the path of its workbook.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import psycopg
import requests

from extractors.sources import SourceSettings
from extractors.timefmt import LOCAL
from tthc.orchestration.airflow_local import airflow_env, dags_test
from tthc.paths import LOCAL as LOCAL_DIR
from tthc.paths import OUTBOX, PROJECT_ROOT
from tthc.privacy import pii_key
from tthc.warehouse import Dsn, resolve_dsn

log = logging.getLogger(__name__)

DEMO_CLIENT = ("tthc-demo", "demo-secret")
DEMO_API_KEY = "demo-api-key"
DEMO_INBOX_TOKEN = "demo-inbox-token"


@dataclass(frozen=True)
class DemoPlan:
    seed: int = 7
    dossiers_per_year: int = 12000
    world_start: date = date(2025, 1, 1)
    world_end: date = date(2025, 12, 31)
    nights: tuple[date, ...] = (date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1), date(2025, 8, 1))
    # the working hour the demo ends on: the actions lists as of T, read from what the last night
    # loaded (a Thursday near the end of the last demo month, so its lists are full)
    actions_at: datetime = datetime(2025, 7, 31, 9, 0, tzinfo=LOCAL)

    def night_moments(self) -> tuple[datetime, ...]:
        return tuple(datetime.combine(n, datetime.min.time(), LOCAL).replace(hour=1) for n in self.nights)

    def showcase_moments(self) -> tuple[datetime, ...]:
        """The moments the simulator lays every case of docs/acting-today.md (§11) out for (simulator/showcase.py)."""
        moments = self.night_moments() + (self.actions_at,)
        return tuple(m for m in moments if self.world_start <= m.date() <= self.world_end)

    def world_config(self):
        from simulator.config import WorldConfig

        return WorldConfig(
            seed=self.seed,
            dossiers_per_year=self.dossiers_per_year,
            start=self.world_start,
            end=self.world_end,
            showcase_at=self.showcase_moments(),
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SimulatorProcess:
    """The simulator as its own process, driven through its admin endpoints."""

    def __init__(self, plan: DemoPlan, first_clock: datetime):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [
            str(Path(sys.executable).parent / "tthc-simulator"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--seed",
            str(plan.seed),
            "--dossiers-per-year",
            str(plan.dossiers_per_year),
            "--start",
            plan.world_start.isoformat(),
            "--end",
            plan.world_end.isoformat(),
            "--as-of",
            first_clock.isoformat(),
        ]
        for moment in plan.showcase_moments():
            self.cmd += ["--showcase-at", moment.isoformat()]
        self.log_path = LOCAL_DIR / "logs" / "simulator.log"

    def __enter__(self) -> SimulatorProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w", encoding="utf-8")
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the simulator exited early; see {self.log_path}")
            try:
                if requests.get(f"{self.url}/_sim/health", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the simulator did not become healthy; see {self.log_path}")

    def set_clock(self, moment: datetime) -> None:
        requests.post(f"{self.url}/_sim/clock", json={"as_of": moment.isoformat()}, timeout=30).raise_for_status()

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


def _score_table(dsn: Dsn, period: str) -> str:
    """The province and the units under it, best first: the six groups, the total, rank and band."""
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            """
            select unit_code, unit_level, score_ckmb, score_tdgq, score_clgq, score_tttt, score_mdhl,
                   score_mdsh, total_score, rank_in_level, rating_band, unit_name
            from marts.mart_score_monthly
            where period_type = 'month' and period_key = %s
            order by (parent_unit_code is not null), unit_level, total_score desc, unit_code
            limit 16
            """,
            (period,),
        ).fetchall()
    head = (
        f"  {'unit':<16} {'level':<9} {'CKMB':>5} {'TDGQ':>5} {'CLGQ':>5} {'TTTT':>5} {'MDHL':>5} "
        f"{'MDSH':>5} {'total':>6} {'rank':>4}  band        name"
    )
    lines = [f"766 scores, {period} (provisional or final as in the province package):", head]
    for code, level, *groups, total, rank, band, name in rows:
        cells = " ".join(f"{float(g):>5.2f}" for g in groups)
        lines.append(f"  {code:<16} {level:<9} {cells} {float(total):>6.2f} {rank:>4}  {band:<11} {name}")
    return "\n".join(lines)


def _scorecard_line(dsn: Dsn, period: str) -> str:
    """The path of the busiest commune's scorecard of the month (the monthly publish wrote it;
    written here if that publish did not)."""
    from tthc.paths import REPORTS
    from tthc.scorecards.publish import publish_scorecards
    from tthc.scorecards.write import scorecard_path

    with psycopg.connect(dsn.conninfo()) as conn:
        row = conn.execute(
            "select unit_code, unit_name from marts.mart_metric_monthly where period_type = 'month' "
            "and period_key = %s and metric_code = '2.1' and unit_level = 'XA' "
            "order by denominator desc, unit_code limit 1",
            (period,),
        ).fetchone()
    if row is None:
        return f"Scorecards: no commune in the marts for {period}"
    html, pdf = scorecard_path(REPORTS, row[0], period), scorecard_path(REPORTS, row[0], period, ".pdf")
    if not (html.exists() and pdf.exists()):
        publish_scorecards(dsn, period, datetime.now(LOCAL), root=REPORTS, units=[row[0]])
    return (
        f"Scorecard: {html} (PDF beside it) - {row[1]}, {period}, the busiest commune; every unit's "
        f"month, quarter and year under {REPORTS}/<unit>/<period>/"
    )


def fresh_database(name: str) -> Dsn:
    """The demo gets a database of its own, rebuilt on every run so a demo always starts clean;
    the outbox is kept, so a second run shows that unchanged months get no new version."""
    server = resolve_dsn()
    with psycopg.connect(server.with_database("postgres").conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.with_database(name)


def run_demo(plan: DemoPlan = DemoPlan()) -> None:
    started = time.monotonic()
    dsn = fresh_database("tthc_demo")
    print(f"== warehouse: {dsn}")
    first_night = datetime.combine(plan.nights[0], datetime.min.time(), LOCAL).replace(hour=1)
    with SimulatorProcess(plan, first_night) as sim:
        print(f"== simulator: {sim.url} (seed {plan.seed}, {plan.dossiers_per_year} dossiers a year)")
        env = airflow_env(
            LOCAL_DIR / "airflow",
            dsn,
            one_stop=SourceSettings(sim.url, *DEMO_CLIENT),
            dvc_portal=SourceSettings(sim.url, api_key=DEMO_API_KEY),
        )
        env.setdefault("TTHC_INITIAL_FROM", plan.world_start.isoformat())
        # The demo's own applicant key: random, made once under .local (mode 600), never a default.
        env.pop(pii_key.KEY_ENV, None)
        env[pii_key.KEY_FILE_ENV] = str(pii_key.local_key_file())
        # The simulator also plays the province's inbox: packages are pushed there after writing.
        env |= {"PROVINCE_INBOX_URL": sim.url, "PROVINCE_INBOX_TOKEN": DEMO_INBOX_TOKEN}
        for night in plan.nights:
            moment = datetime.combine(night, datetime.min.time(), LOCAL).replace(hour=1)
            sim.set_clock(moment)
            for dag_id in ("ingest_one_stop", "ingest_dvc_portal", "build_warehouse", "publish_monthly"):
                t0 = time.monotonic()
                dags_test(dag_id, moment, env)
                print(f"   {night}  {dag_id:<16} ok  ({time.monotonic() - t0:.0f}s)")
    last_month = (
        f"{plan.nights[-1].year:04d}-{plan.nights[-1].month - 1:02d}"
        if plan.nights[-1].month > 1
        else f"{plan.nights[-1].year - 1:04d}-12"
    )
    print()
    print(_score_table(dsn, last_month))
    print(_scorecard_line(dsn, last_month))
    print()
    from expectations.data_docs import default_docs_dir
    from tthc.pipeline import dbt
    from tthc.warehouse.summary import latest_night

    print(latest_night(dsn.conninfo()))
    print()
    docs = dbt.generate_docs(dsn)
    print(
        f"Marts:     schema 'marts' in {dsn} (e.g. marts.mart_metric_monthly); BI reads them as"
        f" tthc_bi (`tthc warehouse bi-url --database {dsn.dbname}`)"
    )
    print(
        f"Extracts:  {OUTBOX}/<unit>/<YYYY-MM>/v<N>/ (also pushed to the simulator's province inbox;"
        f" deliveries in {OUTBOX}/deliveries.jsonl)"
    )
    print(f"Data Docs: file://{default_docs_dir() / 'index.html'} (every quality check of every night)")
    print(f"dbt docs:  file://{docs} (models, columns, lineage)")
    print(
        f"Airflow:   the runs above are in {LOCAL_DIR / 'airflow'}; to browse them: "
        f"PATH={PROJECT_ROOT / '.venv' / 'bin'}:$PATH AIRFLOW_HOME={LOCAL_DIR / 'airflow'} "
        f"AIRFLOW__CORE__DAGS_FOLDER={PROJECT_ROOT / 'dags'} airflow standalone  (then http://localhost:8080)"
    )
    print(f"Logs:      {LOCAL_DIR / 'logs'}")
    print(
        f"Actions:   schema 'actions' (lists of §11, refreshed hourly by the act_intraday DAG); "
        f"workbooks under {OUTBOX / 'actions'}/<unit>/<date>/"
    )
    print()
    from tthc.demo import actions as demo_actions

    t0 = time.monotonic()
    print(demo_actions.run(dsn, plan.actions_at, OUTBOX))
    print(f"   act today as of {plan.actions_at.isoformat()}: {time.monotonic() - t0:.0f}s")
    print(f"Done in {time.monotonic() - started:.0f}s.")
