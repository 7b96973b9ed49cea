"""Nightly data tests read the night's rows (dbt/macros/test_scope.sql); full ones read all.

A bad value in a row loaded long ago passes the nightly tests (it was tested on its own night)
and fails the full ones; a bad value in a row loaded tonight fails both.
"""
from __future__ import annotations

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import load_raw
from tests.dbt.test_metric_2_1 import DOSSIERS, PROCEDURES, UNITS
from tthc.pipeline.dbt import WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

AS_OF = "2025-07-20"
CHECKED = "accepted_values_fct_dossier_report_form_class"


def report_form_test(dsn, work, scope: str):
    result = run_dbt(dsn, work, "test", "--select", "fct_dossier,test_name:accepted_values", as_of=AS_OF,
                     variables={"test_scope": scope}, check=False)
    return result.returncode, result.stdout


def test_nightly_tests_read_the_nights_rows_and_full_tests_every_row(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(module_db, dbt_work, "seed")
    run_dbt(module_db, dbt_work, "build", "--select", *WAREHOUSE_SELECTION, "--exclude", "test_type:unit",
            as_of=AS_OF, variables={"test_scope": "night"})
    with psycopg.connect(module_db.conninfo()) as conn:
        old, recent = [r[0] for r in conn.execute(
            "select dossier_code from core.fct_dossier order by dossier_code limit 2").fetchall()]
        conn.execute("update core.fct_dossier set report_form_class = 'BOGUS', "
                     "loaded_at = loaded_at - interval '10 days' where dossier_code = %s", (old,))

    night_code, night_out = report_form_test(module_db, dbt_work, "night")
    all_code, all_out = report_form_test(module_db, dbt_work, "all")
    assert night_code == 0, night_out[-3000:]
    assert all_code != 0 and CHECKED in all_out and "Got 1 result" in all_out, all_out[-3000:]

    with psycopg.connect(module_db.conninfo()) as conn:
        conn.execute("update core.fct_dossier set report_form_class = 'BOGUS' where dossier_code = %s", (recent,))
    night_code, night_out = report_form_test(module_db, dbt_work, "night")
    assert night_code != 0 and CHECKED in night_out and "Got 1 result" in night_out, night_out[-3000:]


def test_nightly_bounds_reach_the_planner_as_literals(module_db, dbt_work):
    """A night's "loaded since" bound is inlined as the exact timestamp (macro
    timestamptz_literal): for a subquery's value the planner assumes a third of the table and
    scanned raw whole at 2 M dossiers. The literal must equal what the subquery would give."""
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(module_db, dbt_work, "seed")
    for _ in range(2):  # the second run is incremental whatever ran before in this module
        run_dbt(module_db, dbt_work, "build", "--select", *WAREHOUSE_SELECTION, "--exclude", "test_type:unit",
                as_of=AS_OF, variables={"test_scope": "night"})
    with psycopg.connect(module_db.conninfo()) as conn:
        merge_bound, test_bound = conn.execute(
            "select (max(loaded_at) - interval '1 day')::text, (max(loaded_at) - interval '2 days')::text "
            "from core.fct_dossier").fetchone()
    compiled = dbt_work / "target" / "compiled" / "tthc" / "models"
    model_sql = (compiled / "marts" / "core" / "fct_dossier.sql").read_text()
    assert f"loaded_at > '{merge_bound}'::timestamptz" in model_sql, model_sql[:3000]
    assert "select coalesce(max(loaded_at)" not in model_sql
    test_sql = next(compiled.rglob("unique_fct_dossier_dossier_code.sql")).read_text()
    assert f"loaded_at >= '{test_bound}'::timestamptz" in test_sql, test_sql


def test_full_uniqueness_tests_read_the_nights_rows_when_a_unique_index_holds_the_rest(module_db, dbt_work):
    """With test_scope 'all', a uniqueness test reads every row unless a unique index on exactly
    its columns refuses duplicates already (checked in pg_index when the test runs)."""
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(module_db, dbt_work, "seed")
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of=AS_OF)
    compiled = dbt_work / "target" / "compiled" / "tthc" / "models"

    def full_test_sql(name: str) -> str:
        run_dbt(module_db, dbt_work, "test", "--select", f"fct_dossier,test_name:{name}", as_of=AS_OF,
                variables={"test_scope": "all"})
        return next(compiled.rglob(f"{name}_fct_dossier_dossier_code.sql")).read_text()

    # fct_dossier's unique index on dossier_code: the night's rows; not_null: every row
    assert "loaded_at >=" in full_test_sql("unique")
    assert "loaded_at >=" not in full_test_sql("not_null")
    with psycopg.connect(module_db.conninfo()) as conn:
        index = conn.execute("select indexrelid::regclass::text from pg_index "
                             "where indrelid = 'core.fct_dossier'::regclass and indisunique").fetchone()[0]
        conn.execute(f"drop index {index}")
    assert "loaded_at >=" not in full_test_sql("unique")
