"""Benchmark: the whole pipeline on one province-year, stage by stage, then one nightly increment.

    .venv/bin/python bench/pipeline.py [--dossiers-per-year 170000] [--label medium]

A fresh embedded PostgreSQL in a temporary folder and the simulator in a process of its own
(clock at the end of the year); then, timed: extract every entity over HTTP, dbt full build,
quality gate, marts, the extract package; then the clock moves one day and the nightly
increment runs (extract, incremental build, gate, marts). Wall time per stage, records per
second where it applies, peak memory (this process and the dbt child processes), warehouse
size. Writes bench/results/pipeline-<label>.json and .md.

Targets (issue 7/7): medium province-year end to end < 5 min; nightly increment < 90 s.
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402

from expectations.runner import run_gate  # noqa: E402
from expectations.suites import GATE_SUITES  # noqa: E402
from extractors.entities import ENTITIES  # noqa: E402
from extractors.run import extract_entity  # noqa: E402
from extractors.sources import SourceSettings, make_client  # noqa: E402
from extractors.timefmt import LOCAL  # noqa: E402
from tthc.demo import DEMO_API_KEY, DEMO_CLIENT, DemoPlan, SimulatorProcess, _free_port  # noqa: E402
from tthc.pipeline import dbt  # noqa: E402
from tthc.publish.monthly import publish_month  # noqa: E402
from tthc.publish.periods import Month  # noqa: E402
from tthc.warehouse import EmbeddedPostgres  # noqa: E402

RESULTS = REPO / "bench" / "results"


def peak_rss_mb() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"self_mb": round(own, 1), "children_mb": round(children, 1)}


class Stages:
    def __init__(self):
        self.rows: list[dict] = []

    def run(self, name: str, fn, records: int | None = None):
        print(f"-- {name} …", flush=True)
        started = time.monotonic()
        result = fn()
        seconds = time.monotonic() - started
        row = {"stage": name, "seconds": round(seconds, 1)}
        if records is not None or isinstance(result, int):
            count = records if records is not None else result
            row |= {"records": count, "records_per_s": round(count / seconds) if seconds else None}
        row |= peak_rss_mb()
        self.rows.append(row)
        print(f"   {name}: {seconds:.1f}s", flush=True)
        return result


def extract_all(dsn, url: str, upper: datetime) -> int:
    total = 0
    clients = {
        "one_stop": make_client("one_stop", SourceSettings(url, *DEMO_CLIENT), page_size=1000),
        "dvc_portal": make_client("dvc_portal", SourceSettings(url, api_key=DEMO_API_KEY), page_size=500),
    }
    for entity in ENTITIES:
        record = extract_entity(dsn.conninfo(), clients[entity.source], entity, upper,
                                initial_from=datetime(2000, 1, 1, tzinfo=LOCAL))
        total += record.fetched
    for client in clients.values():
        client.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers-per-year", type=int, default=170_000)
    parser.add_argument("--year", type=int, default=2025)
    parser.add_argument("--label", default=None)
    args = parser.parse_args()
    label = args.label or f"{args.dossiers_per_year}"
    year_end = datetime(args.year + 1, 1, 1, 1, tzinfo=LOCAL)
    base = Path(tempfile.mkdtemp(prefix="tthc-bench-pg-"))
    base.chmod(0o755)
    cluster = EmbeddedPostgres(root=base / "cluster", port=_free_port())
    stages = Stages()
    plan = DemoPlan(dossiers_per_year=args.dossiers_per_year, world_start=date(args.year, 1, 1),
                    world_end=date(args.year + 1, 3, 31))
    try:
        dsn = cluster.start()
        with SimulatorProcess(plan, year_end) as sim:
            stages.run("extract over HTTP (all entities)", lambda: extract_all(dsn, sim.url, year_end))
            stages.run("dbt full build (staging, intermediate, core)",
                       lambda: dbt.build_warehouse(dsn, year_end.date(), full_refresh=True))
            gate = stages.run("quality gate", lambda: run_gate(dsn, GATE_SUITES, "bench"))
            stages.run("dbt marts", lambda: dbt.build_marts(dsn, year_end.date()))
            outbox = base / "outbox"
            with psycopg.connect(dsn.conninfo()) as conn:
                root = conn.execute("select unit_code from core.dim_unit where parent_unit_code is null "
                                    "order by unit_code limit 1").fetchone()[0]
            stages.run("extract package (one month)",
                       lambda: publish_month(dsn, root, Month(args.year, 12), year_end, outbox))
            full_seconds = sum(r["seconds"] for r in stages.rows)
            night = year_end + timedelta(days=1)
            sim.set_clock(night)
            night_start = len(stages.rows)
            stages.run("nightly: extract one day", lambda: extract_all(dsn, sim.url, night))
            stages.run("nightly: dbt incremental build", lambda: dbt.build_warehouse(dsn, night.date()))
            stages.run("nightly: quality gate", lambda: run_gate(dsn, GATE_SUITES, "bench-night"))
            stages.run("nightly: dbt marts", lambda: dbt.build_marts(dsn, night.date()))
            night_seconds = sum(r["seconds"] for r in stages.rows[night_start:])
        with psycopg.connect(dsn.conninfo()) as conn:
            size_mb = conn.execute("select pg_database_size(current_database()) / 1048576.0").fetchone()[0]
            dossiers = conn.execute("select count(*) from core.fct_dossier").fetchone()[0]
            steps = conn.execute("select count(*) from raw.one_stop__qua_trinh_xu_ly").fetchone()[0]
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    report = {
        "label": label, "dossiers_per_year": args.dossiers_per_year, "received_dossiers": dossiers,
        "process_log_versions": steps, "machine": f"{platform.machine()}, {__import__('os').cpu_count()} CPUs",
        "at": datetime.now(LOCAL).isoformat(timespec="seconds"), "stages": stages.rows,
        "end_to_end_seconds": round(full_seconds, 1), "nightly_seconds": round(night_seconds, 1),
        "warehouse_mb": round(float(size_mb), 1), "gate_passed": gate.passed,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"pipeline-{label}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = [f"# Pipeline benchmark: {label} ({args.dossiers_per_year} dossiers a year)", "",
             f"{report['at']}, {report['machine']}; {dossiers} received dossiers in core, "
             f"{steps} process-log versions in raw; warehouse {report['warehouse_mb']} MB.", "",
             "| stage | seconds | records | records/s | peak RSS self / dbt children (MB) |", "|---|---|---|---|---|"]
    for r in stages.rows:
        lines.append(f"| {r['stage']} | {r['seconds']} | {r.get('records', '')} | {r.get('records_per_s', '')} | "
                     f"{r['self_mb']} / {r['children_mb']} |")
    lines += ["", f"End to end (first load of the year): **{report['end_to_end_seconds']} s** (target < 300 s).",
              f"Nightly increment: **{report['nightly_seconds']} s** (target < 90 s)."]
    (RESULTS / f"pipeline-{label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
