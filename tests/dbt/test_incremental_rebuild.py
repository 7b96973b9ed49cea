"""The pipeline's two dbt selections ("warehouse build", then "marts") on the 2.1 fixture,
then late updates merged incrementally: a dossier deleted as entered by mistake, one closed,
one new, and an older version of a closed dossier that arrives late (it must not win). The
merged staging, intermediate and facts must equal a full rebuild, and the mart must move.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import dossier, load_raw
from tests.dbt.test_metric_2_1 import DOSSIERS, PROCEDURES, UNITS, X1, X2, XO, P
from tthc.pipeline.dbt import MARTS_SELECTION, WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

WAREHOUSE = ["--select", *WAREHOUSE_SELECTION]
MARTS = ["--select", *MARTS_SELECTION]
AS_OF = "2025-07-20"

UPDATES = [
    dossier(
        "D02",
        X1,
        "2025-06-03 09:00",
        due="2025-06-12 17:00",
        ended="2025-06-13 09:00",
        status=9,
        deleted=True,
        updated="2025-07-16 08:00",
    ),  # June X1 loses a late dossier
    dossier(
        "D14", XO, "2025-06-27 09:00", due="2025-07-08 17:00", ended="2025-07-05 09:00", status=9
    ),  # July X2: now closed on time
    dossier("D17", X1, "2025-07-15 09:00", due="2025-08-10 17:00", status=4),  # July X1: open, not due
    dossier(
        "D03", X1, "2025-06-20 09:00", due="2025-07-15 17:00", status=4, updated="2025-06-21 08:00"
    ),  # stale version, loaded late
]

# every incremental model of the warehouse build, as a full rebuild would have it
MERGED_QUERIES = [
    "SELECT dossier_code, status, received_at, due_at, processing_ended_at, is_deleted, loaded_at"
    " FROM staging.stg_one_stop__dossiers ORDER BY dossier_code",
    "SELECT * FROM intermediate.int_dossier_supplements_summarized ORDER BY dossier_code",
    "SELECT * FROM intermediate.int_dossier_contents_summarized ORDER BY dossier_code",
    "SELECT dossier_code, status, timeliness_end_at, effective_due_at, is_closed_on_time_766,"
    " report_form_class, working_hours_used FROM core.fct_dossier ORDER BY dossier_code",
]


def counts(dsn):
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            "SELECT period_key, unit_code, numerator::int, denominator::int FROM marts.mart_metric_monthly"
            " WHERE metric_code = '2.1' AND period_type = 'month'"
        ).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


# planner statistics: a full refresh analyzes what it rewrote; a night's merge leaves them be
ANALYZED = ["core.fct_dossier", "staging.stg_one_stop__dossiers", "core.dim_unit"]


def last_analyzed(dsn) -> dict:
    with psycopg.connect(dsn.conninfo()) as conn:
        rows = conn.execute(
            "SELECT schemaname || '.' || relname, last_analyze FROM pg_stat_user_tables"
            " WHERE schemaname || '.' || relname = ANY(%s)",
            (ANALYZED,),
        ).fetchall()
    return dict(rows)


def facts(dsn):
    with psycopg.connect(dsn.conninfo()) as conn:
        return [conn.execute(query).fetchall() for query in MERGED_QUERIES]


def build_twice(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(module_db, dbt_work, "seed")  # the pipeline seeds before the warehouse build
    # unit tests already run in test_metric_2_1; here the data tests and the models
    run_dbt(module_db, dbt_work, "build", *WAREHOUSE, "--exclude", "test_type:unit", as_of=AS_OF)
    run_dbt(module_db, dbt_work, "build", *MARTS, "--exclude", "test_type:unit", as_of=AS_OF)
    before = counts(module_db)
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "ho_so", UPDATES)
    first_stats = last_analyzed(module_db)
    run_dbt(module_db, dbt_work, "run", *WAREHOUSE, as_of=AS_OF)
    night_stats = last_analyzed(module_db)
    run_dbt(module_db, dbt_work, "run", *MARTS, as_of=AS_OF)
    after = counts(module_db)
    merged = facts(module_db)
    run_dbt(module_db, dbt_work, "run", "--full-refresh", *WAREHOUSE, as_of=AS_OF)
    refresh_stats = last_analyzed(module_db)
    return before, after, merged, facts(module_db), (first_stats, night_stats, refresh_stats)


def check_the_split_selections_build_the_mart(runs):
    before, *_ = runs
    assert before[("2025-06", P)] == (6, 9)
    assert before[("2025-07", X2)] == (2, 4)


def check_late_updates_move_the_mart(runs):
    _, after, *_ = runs
    assert after[("2025-06", X1)] == (2, 3)  # D02 deleted
    assert after[("2025-06", P)] == (6, 8)
    assert after[("2025-07", X2)] == (3, 4)  # D14 closed in time
    assert after[("2025-07", X1)] == (2, 3)  # D17 open, not yet due
    assert after[("2025-07", P)] == (6, 9)


def check_incremental_merge_equals_a_full_rebuild(runs):
    _, _, merged, rebuilt, _ = runs
    fct = {row[0].strip(): row for row in merged[-1]}
    assert "D02" not in fct
    assert fct["D03"][1] == 10  # the stale open version did not win
    assert merged == rebuilt


def test_late_updates_merge_incrementally(module_db, dbt_work):
    """All dbt runs once, then the checks (one test, so xdist never repeats the builds)."""
    runs = build_twice(module_db, dbt_work)
    check_the_split_selections_build_the_mart(runs)
    check_late_updates_move_the_mart(runs)
    check_incremental_merge_equals_a_full_rebuild(runs)
    check_statistics_follow_rebuilds(runs)


def check_statistics_follow_rebuilds(runs):
    first, night, refresh = runs[-1]
    assert night["core.dim_unit"] > first["core.dim_unit"], "a table rebuilt each night is analyzed each night"
    for merged in ("core.fct_dossier", "staging.stg_one_stop__dossiers"):
        assert night[merged] == first[merged], f"{merged}: a night's merge does not re-sample"
        assert refresh[merged] is not None and refresh[merged] > night["core.dim_unit"], (
            f"{merged}: a full refresh analyzes the table it rewrote"
        )
