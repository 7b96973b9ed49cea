"""Benchmark: how fast the extractors load raw, against plain COPY and pandas, and over HTTP.

    .venv/bin/python bench/extract_load.py [--dossiers-per-year 170000] [--tosql-rows 20000]

Runs against an embedded PostgreSQL in a temporary folder (removed at the end) and writes
`bench/results/extract_load.json` and `.md`:

(a) parse + COPY: dossier pages (pre-fetched response bodies, no HTTP) through the production
    path (`extract_entity`: JSON decode, checks, hashing, COPY into a temp table, insert into
    raw skipping stored versions, one transaction per page, run records) versus a plain
    `COPY … FROM STDIN` of the same rows as CSV into a table of the same shape, versus
    `pandas.DataFrame.to_sql` (default method, on a subset, extrapolated).
(b) one province-year from the simulator over HTTP, every one-stop and portal entity, in a
    process of its own: wall time and records/s.
(c) peak RSS of that extract process at two data sizes: memory must not grow with the data.

Targets (issue 3/7): (a) ≤ 3× plain COPY and ≥ 10× faster than to_sql; (b) < 120 s for a medium
province-year (~170,000 dossiers).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

import orjson  # noqa: E402
import psycopg  # noqa: E402
import requests  # noqa: E402

from extractors.entities import ENTITIES, entity  # noqa: E402
from extractors.one_stop import OneStopClient  # noqa: E402
from extractors.paging import Window  # noqa: E402
from extractors.raw.schema import ensure_raw_schema  # noqa: E402
from extractors.records import RawRow, parse_record  # noqa: E402
from extractors.run import extract_entity  # noqa: E402
from extractors.timefmt import LOCAL  # noqa: E402

RESULTS = REPO / "bench" / "results"
HO_SO = entity("one_stop", "ho_so")
EVERYTHING = Window(datetime(2000, 1, 1, tzinfo=LOCAL), datetime(2100, 1, 1, tzinfo=LOCAL))
PAGE = {"one_stop": 1000, "dvc_portal": 500}  # the contracts' largest pages


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def year_world(dossiers_per_year: int, seed: int):
    from simulator import World, WorldConfig

    return World(
        WorldConfig(seed=seed, dossiers_per_year=dossiers_per_year, start=date(2024, 1, 1), end=date(2024, 12, 31))
    )


AS_OF = datetime(2025, 1, 1, tzinfo=LOCAL)  # the province-year is over


def new_db(admin, name: str):
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.with_database(name)


# -- (a) parse + COPY versus plain COPY versus to_sql ----------------------------------------------------------
class ReplayClient(OneStopClient):
    """The one-stop client answering from response bodies fetched beforehand: no HTTP."""

    def __init__(self, bodies: list[bytes], page_size: int):
        super().__init__("http://replay.invalid", "id", "secret", page_size=page_size)
        self.bodies = bodies

    def send(self, method, path, **kwargs):
        response = requests.Response()
        response.status_code = 200
        response._content = self.bodies[int(kwargs["params"]["page"]) - 1]
        return response


def dossier_pages(world, page_size: int) -> tuple[list[bytes], int]:
    """The ho_so endpoint's response bodies for the whole year, exactly as the server renders them."""
    index = world.index("one_stop", "ho_so")
    from simulator.timefmt import from_aware

    positions = index.window(from_aware(AS_OF))
    total = int(positions.size)
    pages = -(-total // page_size)
    bodies = []
    for k in range(pages):
        rows = index.payloads(positions[k * page_size : (k + 1) * page_size])
        bodies.append(
            orjson.dumps(
                {
                    "error_code": "0",
                    "message": "OK",
                    "data": rows,
                    "pagination": {"page": k + 1, "page_size": page_size, "total_pages": pages, "total": total},
                }
            )
        )
    return bodies, total


PLAIN_TABLE = """
CREATE TABLE plain_copy (
    record_key text NOT NULL, source_updated_at timestamptz, payload jsonb NOT NULL,
    payload_hash text NOT NULL, batch_id bigint NOT NULL DEFAULT 0,
    loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (record_key, payload_hash))
"""


def csv_of(rows: list[RawRow]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    for r in rows:
        w.writerow((r.key, r.updated.isoformat(), r.payload, r.payload_hash))
    return out.getvalue().encode()


def plain_copy(dsn, data: bytes) -> float:
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(PLAIN_TABLE)
        conn.commit()
        t0 = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY plain_copy (record_key, source_updated_at, payload, payload_hash) FROM STDIN (FORMAT csv)"
            ) as cp,
        ):
            view = memoryview(data)
            for i in range(0, len(data), 1 << 20):
                cp.write(view[i : i + (1 << 20)])
        conn.commit()
        return time.perf_counter() - t0


def pandas_to_sql(dsn, records: list[dict], rows: list[RawRow]) -> float:
    """The tutorial way: a DataFrame of the records, `to_sql` into a table of raw's shape
    (JSONB payload serialised by SQLAlchemy, the same primary key), default method."""
    import pandas as pd
    import sqlalchemy
    from sqlalchemy.dialects.postgresql import JSONB

    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(PLAIN_TABLE.replace("plain_copy", "tutorial_to_sql"))
    engine = sqlalchemy.create_engine(dsn.sqlalchemy_url())
    try:
        t0 = time.perf_counter()
        frame = pd.DataFrame(
            {
                "record_key": [r.key for r in rows],
                "source_updated_at": [r.updated for r in rows],
                "payload": records,
                "payload_hash": [r.payload_hash for r in rows],
            }
        )
        frame.to_sql("tutorial_to_sql", engine, if_exists="append", index=False, dtype={"payload": JSONB})
        return time.perf_counter() - t0
    finally:
        engine.dispose()


def part_a(admin, world, tosql_rows: int) -> dict:
    bodies, total = dossier_pages(world, PAGE["one_stop"])
    print(f"(a) {total} dossiers in {len(bodies)} pages of {PAGE['one_stop']}", flush=True)
    dsn = new_db(admin, "bench_pipeline")
    with psycopg.connect(dsn.conninfo()) as conn:
        ensure_raw_schema(conn)
    client = ReplayClient(bodies, PAGE["one_stop"])
    t0 = time.perf_counter()
    run = extract_entity(
        dsn.conninfo(), client, HO_SO, EVERYTHING.end, initial_from=EVERYTHING.start, window=EVERYTHING
    )
    pipeline_s = time.perf_counter() - t0
    assert run.loaded == total, (run.loaded, total)

    # the same rows, prepared outside the clock, for the two comparisons
    records = [rec for body in bodies for rec in orjson.loads(body)["data"]]
    rows = [parse_record(HO_SO, rec) for rec in records]
    assert all(isinstance(r, RawRow) for r in rows)
    data = csv_of(rows)
    copy_s = plain_copy(new_db(admin, "bench_plain"), data)

    n = min(tosql_rows, len(rows))
    tosql_subset_s = pandas_to_sql(new_db(admin, "bench_to_sql"), records[:n], rows[:n])
    tosql_s = tosql_subset_s * len(rows) / n
    del records
    # the parsing share of the pipeline: decode + checks + hashing, no database
    t0 = time.perf_counter()
    for body in bodies:
        for rec in orjson.loads(body)["data"]:
            parse_record(HO_SO, rec)
    parse_s = time.perf_counter() - t0
    return {
        "records": total,
        "pages": len(bodies),
        "payload_mb": round(sum(map(len, bodies)) / 1e6, 1),
        "pipeline_parse_copy_s": round(pipeline_s, 2),
        "of_which_parse_s": round(parse_s, 2),
        "plain_copy_csv_s": round(copy_s, 2),
        "to_sql_subset_rows": n,
        "to_sql_subset_s": round(tosql_subset_s, 2),
        "to_sql_extrapolated_s": round(tosql_s, 1),
        "ratio_pipeline_vs_plain_copy": round(pipeline_s / copy_s, 2),
        "speedup_vs_to_sql": round(tosql_s / pipeline_s, 1),
        "pipeline_records_per_s": round(total / pipeline_s),
    }


# -- (b) and (c): a province-year over HTTP, in a process of its own ---------------------------------------------
def child_extract(url: str, conninfo: str, upper: str) -> None:
    """Extract every entity (the child process); prints one JSON line with per-entity results and peak RSS."""
    from extractors.http import RetryPolicy
    from extractors.sources import SourceSettings, make_client

    upper_dt = datetime.fromisoformat(upper)
    clients = {
        "one_stop": make_client(
            "one_stop", SourceSettings(url, "tthc-demo", "demo-secret"), RetryPolicy(), PAGE["one_stop"]
        ),
        "dvc_portal": make_client(
            "dvc_portal", SourceSettings(url, api_key="demo-api-key"), RetryPolicy(), PAGE["dvc_portal"]
        ),
    }
    out = {}
    t0 = time.perf_counter()
    for e in ENTITIES:
        run = extract_entity(conninfo, clients[e.source], e, upper_dt, initial_from=datetime(2023, 1, 1, tzinfo=LOCAL))
        out[e.table] = {"pages": run.pages, "records": run.fetched, "new": run.loaded, "seconds": run.seconds}
    wall = time.perf_counter() - t0
    print(json.dumps({"entities": out, "wall_s": wall, "peak_rss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_b(admin, world, label: str, nodelay: bool) -> dict:
    from simulator import SimulatorServer
    from simulator import server as sim_server

    # The simulator's handler writes headers and body in two sends; with Nagle on, each response
    # can wait for the client's delayed ACK (~40 ms). --server-nodelay measures without that stall.
    sim_server._Handler.disable_nagle_algorithm = nodelay
    dsn = new_db(admin, f"bench_http_{label}")
    with SimulatorServer(world, port=0, clock=AS_OF) as server:
        # warm the server's indexes so the extract measures serving, not world building
        for source, name in world.entities():
            world.index(source, name)
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--child", server.url, dsn.conninfo(), AS_OF.isoformat()],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        stats = server.stats.to_dict()
    if proc.returncode != 0:
        raise RuntimeError(f"extract process failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    records = sum(e["records"] for e in result["entities"].values())
    result.update(
        process_wall_s=round(wall, 1),
        records=records,
        records_per_s=round(records / result["wall_s"]),
        requests=stats["requests"],
        server_nodelay=nodelay,
    )
    result["wall_s"] = round(result["wall_s"], 1)
    result["peak_rss_mb"] = round(result["peak_rss_mb"], 1)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dossiers-per-year", type=int, default=170_000)
    p.add_argument("--small-fraction", type=float, default=0.25, help="second size for the memory check")
    p.add_argument("--tosql-rows", type=int, default=20_000, help="rows for the (slow) to_sql comparison")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--server-nodelay", choices=("off", "on", "both"), default="both")
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--report-only", action="store_true", help="rewrite the .md from the last .json")
    p.add_argument("--child", nargs=3, metavar=("URL", "CONNINFO", "UPPER"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return child_extract(*args.child)
    if args.report_only:
        return write_report(json.loads((RESULTS / "extract_load.json").read_text()), md_only=True)

    from tthc.warehouse import EmbeddedPostgres

    base = Path(tempfile.mkdtemp(prefix="tthc-bench-"))
    base.chmod(0o755)
    cluster = EmbeddedPostgres(root=base / "cluster", port=free_port())
    report: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "dossiers_per_year": args.dossiers_per_year,
    }
    try:
        cluster.start()
        admin = cluster.admin_dsn()
        t0 = time.perf_counter()
        world = year_world(args.dossiers_per_year, args.seed)
        report["world_s"] = round(time.perf_counter() - t0, 1)
        report["a_parse_copy"] = part_a(admin, world, args.tosql_rows)
        print(json.dumps(report["a_parse_copy"], indent=2), flush=True)
        if not args.skip_http:
            modes = {"off": [False], "on": [True], "both": [False, True]}[args.server_nodelay]
            report["b_http"] = {}
            for nodelay in modes:
                key = "server_nodelay" if nodelay else "simulator_as_is"
                report["b_http"][key] = part_b(admin, world, key, nodelay)
                print(key, json.dumps(report["b_http"][key]), flush=True)
            small_n = int(args.dossiers_per_year * args.small_fraction)
            small = year_world(small_n, args.seed)
            rss_small = part_b(admin, small, "small", modes[-1])
            big = report["b_http"]["server_nodelay" if modes[-1] else "simulator_as_is"]
            report["c_memory"] = {
                "small": {
                    "dossiers_per_year": small_n,
                    "records": rss_small["records"],
                    "peak_rss_mb": rss_small["peak_rss_mb"],
                },
                "large": {
                    "dossiers_per_year": args.dossiers_per_year,
                    "records": big["records"],
                    "peak_rss_mb": big["peak_rss_mb"],
                },
            }
            print(json.dumps(report["c_memory"]), flush=True)
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)
    write_report(report)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "postgres": "15 (embedded, tthc.warehouse.EmbeddedPostgres)",
    }


def write_report(report: dict, md_only: bool = False) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    if not md_only:
        (RESULTS / "extract_load.json").write_text(json.dumps(report, indent=2) + "\n")
    a = report["a_parse_copy"]
    lines = [
        "# Extract and load benchmark",
        "",
        f"Run {report['when']} on {report['machine']['cpus']} CPUs, Python {report['machine']['python']}; "
        f"{report['dossiers_per_year']:,} dossiers per year (world built in {report['world_s']} s).",
        "",
        "## (a) Parse + COPY of dossier pages (no HTTP)",
        "",
        "| method | seconds | vs plain COPY |",
        "|---|---|---|",
        f"| plain `COPY … FROM STDIN` (CSV, same rows, same table shape) | {a['plain_copy_csv_s']} | 1× |",
        f"| extractors: decode + check + hash + COPY + insert new versions | {a['pipeline_parse_copy_s']} "
        f"| {a['ratio_pipeline_vs_plain_copy']}× |",
        f"| pandas `to_sql` (extrapolated from {a['to_sql_subset_rows']:,} rows: {a['to_sql_subset_s']} s) "
        f"| {a['to_sql_extrapolated_s']} | {round(a['to_sql_extrapolated_s'] / a['plain_copy_csv_s'], 1)}× |",
        "",
        f"{a['records']:,} dossiers, {a['pages']} pages, {a['payload_mb']} MB of JSON; the extractors load "
        f"{a['pipeline_records_per_s']:,} records/s, of which decoding and checking take {a['of_which_parse_s']} s; "
        f"to_sql takes {a['speedup_vs_to_sql']}× the extractors' time (target: ≥ 10×).",
        "",
    ]
    if "b_http" in report:
        lines += [
            "## (b) One province-year over HTTP, every entity",
            "",
            "| simulator | wall s | records | records/s | requests | peak RSS MB |",
            "|---|---|---|---|---|---|",
        ]
        for key, b in report["b_http"].items():
            lines.append(
                f"| {key.replace('_', ' ')} | {b['wall_s']} | {b['records']:,} | {b['records_per_s']:,} "
                f"| {b['requests']:,} | {b['peak_rss_mb']} |"
            )
        lines += ["", "Per entity (last mode):", "", "| entity | pages | records | seconds |", "|---|---|---|---|"]
        last = list(report["b_http"].values())[-1]
        for name, e in last["entities"].items():
            lines.append(f"| {name} | {e['pages']} | {e['records']:,} | {e['seconds']} |")
        c = report["c_memory"]
        lines += [
            "",
            "## (c) Peak RSS of the extract process",
            "",
            "| dossiers/year | records | peak RSS MB |",
            "|---|---|---|",
            f"| {c['small']['dossiers_per_year']:,} | {c['small']['records']:,} | {c['small']['peak_rss_mb']} |",
            f"| {c['large']['dossiers_per_year']:,} | {c['large']['records']:,} | {c['large']['peak_rss_mb']} |",
            "",
        ]
    (RESULTS / "extract_load.md").write_text("\n".join(lines))
    print(f"wrote {RESULTS / 'extract_load.json'} and {RESULTS / 'extract_load.md'}")


if __name__ == "__main__":
    main()
