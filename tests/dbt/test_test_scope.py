"""Which rows a data test reads is in its YAML (docs/decisions/010).

A test of an incremental model says `config: {where: "{{ var('night_rows') }}"}`: on a night
(session setting tthc.test_scope = 'night') the rows loaded lately, otherwise every row. A
uniqueness test of columns a unique index covers says `var('night_rows_always')`: the night's
rows in every scope. A bad value in a row loaded long ago passes the nightly tests (it was tested
on its own night) and fails the full ones; a bad value in a row loaded tonight fails both.
"""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.dbt.dbt_runner import PROJECT, run_dbt
from tests.dbt.records import load_raw
from tests.dbt.test_metric_2_1 import DOSSIERS, PROCEDURES, UNITS
from tthc.pipeline.dbt import WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

AS_OF = "2025-07-20"
CHECKED = "accepted_values_fct_dossier_report_form_class"
VARS = yaml.safe_load((PROJECT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
NIGHT_ROWS, NIGHT_ROWS_ALWAYS = VARS["night_rows"], VARS["night_rows_always"]
UNIQUENESS = ("unique", "unique_combination")


def build_warehouse(dsn, work, *extra: str) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(dsn, work, "seed")
    run_dbt(
        dsn,
        work,
        "build",
        "--select",
        *WAREHOUSE_SELECTION,
        "--exclude",
        "test_type:unit",
        *extra,
        as_of=AS_OF,
        test_scope="night",
    )


def fct_dossier_test(dsn, work, name: str, scope: str):
    result = run_dbt(
        dsn, work, "test", "--select", f"fct_dossier,test_name:{name}", as_of=AS_OF, test_scope=scope, check=False
    )
    return result.returncode, result.stdout


def manifest(work: Path) -> dict:
    return json.loads((work / "target" / "manifest.json").read_text())


def test_nightly_tests_read_the_nights_rows_and_full_tests_every_row(module_db, dbt_work):
    build_warehouse(module_db, dbt_work)
    with psycopg.connect(module_db.conninfo()) as conn:
        old, recent = [
            r[0]
            for r in conn.execute("select dossier_code from core.fct_dossier order by dossier_code limit 2").fetchall()
        ]
        conn.execute(
            "update core.fct_dossier set report_form_class = 'BOGUS', "
            "loaded_at = loaded_at - interval '10 days' where dossier_code = %s",
            (old,),
        )

    night_code, night_out = fct_dossier_test(module_db, dbt_work, "accepted_values", "night")
    all_code, all_out = fct_dossier_test(module_db, dbt_work, "accepted_values", "all")
    assert night_code == 0, night_out[-3000:]
    assert all_code != 0 and CHECKED in all_out and "Got 1 result" in all_out, all_out[-3000:]

    with psycopg.connect(module_db.conninfo()) as conn:
        conn.execute("update core.fct_dossier set report_form_class = 'BOGUS' where dossier_code = %s", (recent,))
    night_code, night_out = fct_dossier_test(module_db, dbt_work, "accepted_values", "night")
    assert night_code != 0 and CHECKED in night_out and "Got 1 result" in night_out, night_out[-3000:]


def test_uniqueness_held_by_a_unique_index_reads_the_nights_rows_in_every_scope(module_db, dbt_work):
    """The unique index refuses a duplicate on every merge; with it dropped, a duplicate loaded
    long ago is out of every scope of the uniqueness test, one loaded tonight in all of them."""
    build_warehouse(module_db, dbt_work, "--full-refresh")
    with psycopg.connect(module_db.conninfo()) as conn:
        index = conn.execute(
            "select indexrelid::regclass::text from pg_index "
            "where indrelid = 'core.fct_dossier'::regclass and indisunique"
        ).fetchone()[0]
        conn.execute(f"drop index {index}")
        conn.execute(
            "insert into core.fct_dossier select * from core.fct_dossier "
            "where dossier_code = (select min(dossier_code) from core.fct_dossier)"
        )
        conn.execute(
            "update core.fct_dossier set loaded_at = loaded_at - interval '10 days' "
            "where dossier_code = (select min(dossier_code) from core.fct_dossier)"
        )
    for scope in ("night", "all"):
        code, out = fct_dossier_test(module_db, dbt_work, "unique", scope)
        assert code == 0, (scope, out[-3000:])
    with psycopg.connect(module_db.conninfo()) as conn:
        conn.execute(
            "update core.fct_dossier set loaded_at = now() "
            "where dossier_code = (select min(dossier_code) from core.fct_dossier)"
        )
    for scope in ("night", "all"):
        code, out = fct_dossier_test(module_db, dbt_work, "unique", scope)
        assert code != 0 and "unique_fct_dossier_dossier_code" in out and "Got 1 result" in out, (scope, out[-3000:])
    # the compiled tests carry their YAML's condition, nothing added by a macro
    compiled = dbt_work / "target" / "compiled" / "tthc" / "models"
    assert NIGHT_ROWS_ALWAYS in next(compiled.rglob("unique_fct_dossier_dossier_code.sql")).read_text()
    fct_dossier_test(module_db, dbt_work, "not_null", "all")
    assert NIGHT_ROWS in next(compiled.rglob("not_null_fct_dossier_dossier_code.sql")).read_text()


def test_every_test_of_an_incremental_model_says_which_rows_it_reads(module_db, dbt_work):
    """Each data test of an incremental model reads var night_rows, except a uniqueness test whose
    columns a unique index of the model covers exactly (its config `indexes`): night_rows_always;
    every other test reads every row; raw sources carry no dbt test (the gate checks raw); and no
    macro of the project replaces dbt's get_where_subquery."""
    run_dbt(module_db, dbt_work, "parse")
    nodes = manifest(dbt_work)["nodes"]
    incremental = {
        k: v for k, v in nodes.items() if v["resource_type"] == "model" and v["config"]["materialized"] == "incremental"
    }
    tests = [t for t in nodes.values() if t["resource_type"] == "test" and t.get("test_metadata")]
    wrong, unindexed, scoped = [], [], 0
    for t in tests:
        model = incremental.get(t.get("attached_node"))
        where = t["config"].get("where")
        if model is None:
            if where in (NIGHT_ROWS, NIGHT_ROWS_ALWAYS):
                wrong.append((t["name"], "scoped, but its model is not incremental"))
            continue
        scoped += 1
        kind, kwargs = t["test_metadata"]["name"], t["test_metadata"]["kwargs"]
        columns = set(kwargs.get("columns") or [kwargs.get("column_name")])
        indexes = [set(i["columns"]) for i in model["config"].get("indexes") or [] if i.get("unique")]
        held = kind in UNIQUENESS and columns in indexes
        if where == NIGHT_ROWS_ALWAYS and not held:
            unindexed.append((t["name"], sorted(columns), indexes))
        elif where != (NIGHT_ROWS_ALWAYS if held else NIGHT_ROWS):
            wrong.append((t["name"], where))
    assert scoped > 50 and not wrong and not unindexed, (wrong, unindexed)
    assert not [t["name"] for t in tests if t["attached_node"] is None or t["attached_node"].startswith("source.")]
    macros = "\n".join(p.read_text() for p in (PROJECT / "macros").rglob("*.sql"))
    assert "get_where_subquery" not in macros

    # the indexes the uniqueness tests lean on exist in the built warehouse
    build_warehouse(module_db, dbt_work, "--full-refresh")
    built = {v["name"] for v in incremental.values()}
    with psycopg.connect(module_db.conninfo()) as conn:
        present = {
            (table, tuple(sorted(cols)))
            for table, cols in conn.execute(
                "select c.relname, array_agg(a.attname::text) from pg_index i join pg_class c on c.oid = i.indrelid "
                "join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey) "
                "where i.indisunique and i.indisvalid group by i.indexrelid, c.relname"
            ).fetchall()
        }
        existing = {r[0] for r in conn.execute("select relname from pg_class where relkind = 'r'").fetchall()}
    for t in tests:
        model = incremental.get(t.get("attached_node"))
        if model is None or t["config"].get("where") != NIGHT_ROWS_ALWAYS or model["name"] not in existing & built:
            continue
        kwargs = t["test_metadata"]["kwargs"]
        columns = tuple(sorted(kwargs.get("columns") or [kwargs.get("column_name")]))
        assert (model["alias"] or model["name"], columns) in present, (t["name"], columns)
