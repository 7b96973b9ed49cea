"""Benchmark: generate one province-year of a medium province (~170,000 dossiers) and serve it.

    .venv/bin/python bench/simulator_generate.py [--dossiers-per-year 170000] [--years 1]

Prints seconds for world generation, for building the version indexes, for one full window
query over all dossiers, and for rendering pages of 1,000 dossiers as the server does; then,
for the DVC portal side, the seconds to its first page of each entity (built on first use),
the peak memory after it, and the seconds for one year of official scores.
Targets: generation well under a minute; first portal page in a few seconds; a few hundred MB.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date, datetime

import orjson

from simulator import World, WorldConfig
from simulator.portal.scores import service_results
from simulator.timefmt import VN, from_aware


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dossiers-per-year", type=int, default=170_000)
    p.add_argument("--years", type=int, default=1)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    config = WorldConfig(
        seed=args.seed,
        dossiers_per_year=args.dossiers_per_year,
        start=date(2024, 1, 1),
        end=date(2024 + args.years - 1, 12, 31),
    )
    results = {}
    t0 = time.perf_counter()
    world = World(config)
    results["generate_world_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ho_so = world.index("one_stop", "ho_so")
    steps = world.index("one_stop", "qua_trinh_xu_ly")
    results["build_indexes_s"] = time.perf_counter() - t0
    as_of = from_aware(datetime(2024 + args.years, 3, 1, tzinfo=VN))
    t0 = time.perf_counter()
    positions = ho_so.window(as_of)
    results["window_all_dossiers_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pages = 20
    for k in range(pages):
        orjson.dumps(ho_so.payloads(positions[k * 1000 : (k + 1) * 1000]))
    results["render_page_of_1000_s"] = (time.perf_counter() - t0) / pages
    for entity in ("payments", "sync_status", "feedback", "ratings", "online_services"):
        t0 = time.perf_counter()
        index = world.index("dvc_portal", entity)
        orjson.dumps(index.payloads(index.window(as_of)[:200]))
        results[f"portal_first_page_{entity}_s"] = time.perf_counter() - t0
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    service_results(world, {"timeType": "year", "year": 2024, "rootDepartmentCode": world.units.province.code}, as_of)
    results["service_results_year_s"] = time.perf_counter() - t0
    results.update(
        dossiers=world.plan.n, dossier_versions=len(ho_so), process_steps=len(world.steps), step_versions=len(steps)
    )
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
