"""Benchmark: every unit's scorecard of one month, HTML and PDF (issue 22: a large province within 60 s).

    .venv/bin/python bench/scorecards.py [--dossiers-per-year 2000000] [--districts 30]
        [--communes-per-district 20] [--month 2025-12] [--label large]
    .venv/bin/python bench/scorecards.py --dsn postgresql://…   # a warehouse whose marts are built already

Without --dsn, builds a province of its own first (not timed against the target): a fresh
embedded PostgreSQL in a temporary folder, the simulator's province-year generated in this
process and stored in raw as the extractors store it (records checked against the contract,
COPY; no HTTP: what the scorecards cost does not depend on how raw was filled), the dbt build,
the quality gate, the marts, and the lists of §11 (docs/acting-today.md) at 16:00 on the month's last day (their three
things and projection are on every card). A scorecard reads aggregates, so its cost grows with
the number of units, not of dossiers: --districts and --communes-per-district size the tree (the
simulator's defaults are 6 and 10; the July 2025 merger makes about one commune of three).

Timed: reading the month for every unit (one snapshot), then `publish_scorecards` for every unit
of the month with HTML and PDF (read, render, one Chromium printing every page, atomic writes),
then the same with HTML only. Writes bench/results/scorecards-<label>.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
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

from extractors.timefmt import LOCAL  # noqa: E402
from tthc.privacy import pii_key  # noqa: E402
from tthc.warehouse import Dsn, EmbeddedPostgres  # noqa: E402

RESULTS = REPO / "bench" / "results"
TARGET_SECONDS = 60


def load_world(dsn: Dsn, config, clock: datetime) -> int:
    """Every entity of the simulated world as the sources would serve it at `clock`, into raw."""
    from extractors.entities import ENTITIES
    from extractors.loader import RawLoader
    from extractors.raw.schema import ensure_raw_schema
    from extractors.records import RawRow, parse_record
    from simulator import World

    world = World(config)
    stored = 0
    with psycopg.connect(dsn.conninfo()) as conn:
        ensure_raw_schema(conn)
        batch = conn.execute("select nextval('meta.batch_id_seq')").fetchone()[0]
        loader = RawLoader(conn)
        for entity in ENTITIES:
            rows = [
                r
                for r in (parse_record(entity, rec) for rec in world.records(entity.source, entity.name, clock))
                if isinstance(r, RawRow)
            ]
            stored += loader.load(entity, batch, rows)
            conn.execute(
                "insert into meta.watermarks (source, entity, high_watermark) values (%s, %s, %s) "
                "on conflict do nothing",
                (entity.source, entity.name, clock),
            )
        conn.commit()
    return stored


def build_province(dsn: Dsn, args, month_start: date, month_end: date) -> dict:
    from expectations.runner import run_gate
    from expectations.suites import GATE_SUITES
    from simulator.config import WorldConfig
    from tthc.actions.refresh import refresh_actions
    from tthc.pipeline import dbt

    clock = datetime.combine(month_end, datetime.min.time(), LOCAL).replace(hour=1)
    config = WorldConfig(
        seed=7,
        dossiers_per_year=args.dossiers_per_year,
        start=date(month_start.year, 1, 1),
        end=month_end - timedelta(days=1),
        districts=args.districts,
        communes_per_district=args.communes_per_district,
    )
    seconds = {}
    t0 = time.monotonic()
    records = load_world(dsn, config, clock)
    seconds["generate and load raw"] = round(time.monotonic() - t0, 1)
    print(f"   raw: {records} record versions in {seconds['generate and load raw']} s", flush=True)
    for name, step in (
        ("dbt build", lambda: dbt.build_warehouse(dsn, clock.date(), full_refresh=True)),
        ("quality gate", lambda: run_gate(dsn, GATE_SUITES, "bench-scorecards")),
        ("dbt marts", lambda: dbt.build_marts(dsn, clock.date())),
        (
            "lists of §11",
            lambda: refresh_actions(
                dsn,
                at=datetime.combine(month_end - timedelta(days=1), datetime.min.time(), LOCAL).replace(hour=16),
                ingest=False,
            ),
        ),
    ):
        if name == "lists of §11" and args.no_lists:
            continue
        t0 = time.monotonic()
        step()
        seconds[name] = round(time.monotonic() - t0, 1)
        print(f"   {name}: {seconds[name]} s", flush=True)
    return {"raw_record_versions": records, "seconds": seconds}


def units_by_level(dsn: Dsn, month: str) -> dict[str, int]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return dict(
            conn.execute(
                "select coalesce(unit_level, '?'), count(*) from marts.mart_score_monthly "
                "where period_type = 'month' and period_key = %s group by 1 order by 2 desc",
                (month,),
            ).fetchall()
        )


def sizes(root: Path, suffix: str) -> dict:
    files = list(root.rglob(f"*{suffix}"))
    total = sum(f.stat().st_size for f in files)
    return {"files": len(files), "mean_kb": round(total / len(files) / 1024, 1) if files else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="an existing warehouse (admin's URL) whose marts hold --month: nothing is built")
    parser.add_argument("--dossiers-per-year", type=int, default=20_000)
    parser.add_argument("--districts", type=int, default=30)
    parser.add_argument("--communes-per-district", type=int, default=20)
    parser.add_argument("--month", default="2025-12")
    parser.add_argument("--label", default=None)
    parser.add_argument("--no-lists", action="store_true", help="do not refresh the lists (cards without three things)")
    parser.add_argument("--keep", action="store_true", help="leave the built warehouse running; prints its DSN")
    args = parser.parse_args()

    from tthc.province_package.periods import Month
    from tthc.scorecards.data import read_period
    from tthc.scorecards.publish import publish_scorecards

    month = Month.parse(args.month)
    label = args.label or (
        f"{args.dossiers_per_year}-{args.districts}x{args.communes_per_district}" if not args.dsn else "existing"
    )
    if not (os.environ.get(pii_key.KEY_ENV) or os.environ.get(pii_key.KEY_FILE_ENV)):
        os.environ[pii_key.KEY_FILE_ENV] = str(pii_key.local_key_file())  # generated data: a local key
    base = Path(tempfile.mkdtemp(prefix="tthc-bench-scorecards-"))
    base.chmod(0o755)
    cluster = None
    built = None
    try:
        if args.dsn:
            dsn = Dsn.parse(args.dsn)
        else:
            cluster = EmbeddedPostgres(root=base / "cluster", port=_free_port())
            dsn = cluster.start()
            print(
                f"-- building a province: {args.dossiers_per_year} dossiers a year, {args.districts} districts × "
                f"{args.communes_per_district} communes before the merger …",
                flush=True,
            )
            built = build_province(dsn, args, month.start, month.end)
        levels = units_by_level(dsn, month.key)
        now = datetime.combine(month.end, datetime.min.time(), LOCAL).replace(hour=3)
        print(f"-- {sum(levels.values())} units in {month.key}: {levels}", flush=True)

        t0 = time.monotonic()
        data = read_period(dsn, month.key, now)
        read_s = round(time.monotonic() - t0, 2)
        print(f"   read every unit's month (one snapshot): {read_s} s", flush=True)

        reports = base / "reports"
        t0 = time.monotonic()
        full = publish_scorecards(dsn, month.key, now, root=reports, pdf=True)
        full_s = round(time.monotonic() - t0, 1)
        print(f"   every unit, HTML + PDF: {full_s} s ({full.summary()})", flush=True)

        t0 = time.monotonic()
        html_only = publish_scorecards(dsn, month.key, now, root=base / "reports-html", pdf=False)
        html_s = round(time.monotonic() - t0, 1)
        print(f"   every unit, HTML only: {html_s} s", flush=True)
        html_sizes, pdf_sizes = sizes(reports, ".html"), sizes(reports, ".pdf")
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        if cluster is not None:
            if args.keep:
                print(f"-- kept: {base} ({dsn.url()})")
            else:
                cluster.destroy()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)

    units = len(full.written)
    report = {
        "label": label,
        "month": month.key,
        "units": units,
        "units_by_level": levels,
        "dossiers_per_year": None if args.dsn else args.dossiers_per_year,
        "districts": None if args.dsn else args.districts,
        "communes_per_district": None if args.dsn else args.communes_per_district,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "at": datetime.now(LOCAL).isoformat(timespec="seconds"),
        "read_seconds": read_s,
        "html_pdf_seconds": full_s,
        "html_only_seconds": html_s,
        "per_unit_ms": round(1000 * full_s / units, 1) if units else None,
        "target_seconds": TARGET_SECONDS,
        "within_target": full_s <= TARGET_SECONDS,
        "html": html_sizes,
        "pdf": pdf_sizes,
        "lists_at": data.lists_at.isoformat() if data.lists_at else None,
        "cpu_seconds": {
            "self": round(own.ru_utime + own.ru_stime, 1),
            "children": round(kids.ru_utime + kids.ru_stime, 1),
        },
        "peak_rss_mb": {"self": round(own.ru_maxrss / 1024, 1), "children": round(kids.ru_maxrss / 1024, 1)},
        "build": built,
        "failed": full.failed or html_only.failed,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"scorecards-{label}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    lines = [
        f"# Scorecards benchmark: {label}",
        "",
        f"{report['at']}, {report['machine']}; month {month.key}, {units} units "
        f"({', '.join(f'{k} {v}' for k, v in levels.items())})"
        + (
            ""
            if args.dsn
            else f"; built from {args.dossiers_per_year} dossiers a year, {args.districts} districts "
            f"× {args.communes_per_district} communes before the merger"
        )
        + ".",
        "",
        "| step | seconds |",
        "|---|---|",
        f"| read every unit's month (one snapshot) | {read_s} |",
        f"| every unit: read, render, HTML + PDF written | **{full_s}** (target ≤ {TARGET_SECONDS}) |",
        f"| every unit: HTML only | {html_s} |",
        "",
        f"Per unit, HTML + PDF: {report['per_unit_ms']} ms. Mean sizes: HTML {html_sizes['mean_kb']} KB, "
        f"PDF {pdf_sizes['mean_kb']} KB. Peak RSS: this process {report['peak_rss_mb']['self']} MB, "
        f"children (Chromium) {report['peak_rss_mb']['children']} MB.",
    ]
    if built:
        lines += [
            "",
            "Building the province (not part of the target): "
            + ", ".join(f"{k} {v} s" for k, v in built["seconds"].items())
            + ".",
        ]
    (RESULTS / f"scorecards-{label}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if not report["failed"] else 1


def _free_port() -> int:
    from tthc.demo.pipeline import _free_port as free

    return free()


if __name__ == "__main__":
    sys.exit(main())
