"""The incremental state of the models kept per dossier is data (dbt/macros/per_dossier_periods.sql,
docs/decisions/009): the warehouse build records the dossiers it changed in the change set
intermediate.int_dossier_changes (per build), and each run of a kept model a row in
intermediate.kept_model_state (mode, why, upstream versions, the hash of its SQL compiled as for
a full rebuild, settings, periods, the change set read through). No table comment holds state.

One module database, the 2.1 fixture, dbt's persist_docs on throughout (descriptions written
as table comments: they would have overwritten the old state). In order:
  - the first build: a state row per kept model ('all', first build), the change set's
    first-build rows (every dossier), the models' descriptions as their comments;
  - a rerun of the marts build with no build between reads no dossier and rewrites no row;
  - a night after a deploy that edits a macro one kept model calls (on_time_766_at, in a copy
    of the project): that model rebuilds every row (its compiled SQL changed), the late list
    built from its rows too (its upstream rewrote all), the others replace only the night's
    dossiers; each equals a full refresh of the edited project.
An unchanged dossier's rows in the models that should keep them get a marked status, to see
which rows a run rewrote.
"""

from __future__ import annotations

import shutil

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.dbt import dbt_runner
from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import load_raw
from tests.dbt.test_incremental_rebuild import UPDATES
from tests.dbt.test_per_dossier_periods import load_nights_ago
from tthc.pipeline.dbt import WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

KEPT = [
    "int_metric_2_1_dossiers",
    "int_report_carried_over",
    "int_list_late_dossiers",
    "int_list_refused_returned_stopped",
    "int_list_paused_dossiers",
    "int_list_results_not_returned",
    "int_dossier_metric_inputs",
]
INDICATORS = ["--select", "path:models/marts/indicators/intermediate"]
DOCS = {"persist_docs": True}
AS_OF = "2025-07-20"
UNCHANGED = "D04"  # open and overdue from June: carried over into July, in the metric inputs
MARKED = ["int_report_carried_over", "int_dossier_metric_inputs"]  # models that call no edited macro
MARK = 100
# the deploy: metric 2.1's on-time rule inverted (a change no kept row's inputs show)
MACRO_FILE, MACRO_OLD = "macros/metric_rules.sql", "    (case\n        when {{ judged_end }} < {{ end_ts }}"
MACRO_NEW = "    not (case\n        when {{ judged_end }} < {{ end_ts }}"


def state(dsn) -> dict[str, dict]:
    """The newest state row of each kept model."""
    with psycopg.connect(dsn.conninfo(), row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT DISTINCT ON (model) * FROM intermediate.kept_model_state ORDER BY model, built_at DESC"
        ).fetchall()
    return {r["model"]: r for r in rows}


def stored(dsn) -> dict[str, set[tuple]]:
    with psycopg.connect(dsn.conninfo(), row_factory=dict_row) as conn:
        return {m: {tuple(sorted(r.items())) for r in conn.execute(f"SELECT * FROM intermediate.{m}")} for m in KEPT}


def mark_unchanged(dsn) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        for model in MARKED:
            assert (
                conn.execute(
                    f"UPDATE intermediate.{model} SET status = status + {MARK} WHERE btrim(dossier_code) = %s",
                    (UNCHANGED,),
                ).rowcount
                >= 1
            ), model


def marked(rows: dict[str, set[tuple]]) -> dict[str, bool]:
    return {m: any(dict(r)["status"] >= MARK for r in rows[m]) for m in MARKED}


def unmarked(rows: dict[str, set[tuple]]) -> dict[str, set[tuple]]:
    def clean(row):
        values = dict(row)
        if "status" in values and values["status"] >= MARK:
            values["status"] -= MARK
        return tuple(sorted(values.items()))

    return {m: {clean(r) for r in rs} for m, rs in rows.items()}


def comment(dsn, model: str) -> str | None:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute("SELECT obj_description(%s::regclass, 'pg_class')", (f"intermediate.{model}",)).fetchone()[
            0
        ]


def test_state_is_data_a_macro_edit_rebuilds_what_calls_it_and_persist_docs_breaks_nothing(
    module_db, dbt_work, monkeypatch
):
    load_nights_ago(module_db)  # the unchanged dossier (D04, as UNCHANGED here) before the others
    run_dbt(module_db, dbt_work, "seed")
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of=AS_OF, variables=DOCS)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF, variables=DOCS)

    # the first build: every kept model's state as data, and no state in a comment
    first = state(module_db)
    assert set(first) == set(KEPT)
    assert {m: (s["mode"], s["rebuild_reason"]) for m, s in first.items()} == dict.fromkeys(
        KEPT, ("all", "first build")
    )
    assert all(len(s["compiled_sql_hash"]) == 32 and s["changes_through"] is not None for s in first.values())
    assert set(first["int_list_late_dossiers"]["upstream"]) == {
        "core.fct_dossier",
        "intermediate.int_metric_2_1_dossiers",
    }
    assert first["int_list_results_not_returned"]["settings"] == {"results_not_returned_working_days": 5}
    assert "month|2025-07|2025-07-01|2025-08-01" in first["int_metric_2_1_dossiers"]["periods"]
    with psycopg.connect(module_db.conninfo()) as conn:
        first_build = conn.execute(
            "SELECT changed_by, count(*) FILTER (WHERE dossier_code IS NULL), count(*)"
            " FROM intermediate.int_dossier_changes GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert first_build == [
        (name, 1, 1)
        for name in (
            "stg_dvc_portal__payments",
            "stg_dvc_portal__sync_statuses",
            "stg_one_stop__dossiers",
            "stg_one_stop__process_steps",
        )
    ]
    assert comment(module_db, "int_metric_2_1_dossiers").startswith("Metric 2.1 per period and in-scope dossier")

    # a rerun with no build between: no dossier read, no row rewritten
    mark_unchanged(module_db)
    before = stored(module_db)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF, variables=DOCS)
    rerun = state(module_db)
    assert {m: (s["mode"], s["changed_dossiers"]) for m, s in rerun.items()} == dict.fromkeys(KEPT, ("changed", 0))
    assert {m: s["compiled_sql_hash"] for m, s in rerun.items()} == {
        m: s["compiled_sql_hash"] for m, s in first.items()
    }
    assert stored(module_db) == before

    # a night after a deploy that edits a macro int_metric_2_1_dossiers calls
    edited = dbt_work / "edited-project"
    shutil.copytree(dbt_runner.PROJECT, edited, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    rules = (edited / MACRO_FILE).read_text()
    assert rules.count(MACRO_OLD) == 1
    (edited / MACRO_FILE).write_text(rules.replace(MACRO_OLD, MACRO_NEW))
    monkeypatch.setattr(dbt_runner, "PROJECT", edited)
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "ho_so", UPDATES)
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of=AS_OF, variables=DOCS)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF, variables=DOCS)
    night = state(module_db)
    assert {m: (s["mode"], s["rebuild_reason"]) for m, s in night.items()} == dict.fromkeys(KEPT, ("changed", None)) | {
        "int_metric_2_1_dossiers": ("all", "compiled SQL changed"),
        "int_list_late_dossiers": ("all", "upstream rebuilt"),
    }
    assert night["int_dossier_metric_inputs"]["changed_dossiers"] >= 4  # D02, D03, D14, D17
    tonight = stored(module_db)
    assert marked(tonight) == dict.fromkeys(MARKED, True)  # their unchanged rows kept
    assert comment(module_db, "int_metric_2_1_dossiers").startswith("Metric 2.1 per period and in-scope dossier")

    # every kept model equals a full refresh of the edited project on the same data
    run_dbt(module_db, dbt_work, "run", "--full-refresh", *INDICATORS, as_of=AS_OF, variables=DOCS)
    assert unmarked(tonight) == stored(module_db)
