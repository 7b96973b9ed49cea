"""The operational lists' per-dossier rows (int_list_*) are kept per dossier
(dbt/macros/per_dossier_periods.sql): a night replaces the rows of the dossiers whose record -
or, for the paused list, process log - changed and recomputes the running periods, whose cut
moved; a new month adds its rows, a full refresh of fct_dossier rebuilds every row, a
backfill removes the later periods' rows.

To see which rows a run rewrote, each list's rows of one unchanged dossier in a closed period
(June) get a marked status before it: a run that keeps them keeps the mark, a rebuild clears
it. Every state is compared with a --full-refresh of the lists on the same data.
"""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import dossier, entity, load_raw, procedure, step, supplement, ts
from tests.dbt.test_operational_lists import DOSSIERS, STEPS, UNITS, X1, X2
from tthc.pipeline.dbt import WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

INDICATORS = ["--select", "path:models/marts/indicators/intermediate"]


# a list's rows are kept per period, or per cut day for the lists cut at a period's end
def month(key: str) -> dict:
    return {"period_type": "month", "period_key": key}


def cut(day: str) -> dict:
    return {"cut_day": date.fromisoformat(day)}


# each list with a dossier it holds in June that no night below changes
UNCHANGED = {
    "int_list_late_dossiers": "L2",
    "int_list_paused_dossiers": "P1",
    "int_list_results_not_returned": "N1",
    "int_list_refused_returned_stopped": "R1",
}
# June's rows of each list
JUNE = {
    "int_list_late_dossiers": month("2025-06"),
    "int_list_refused_returned_stopped": month("2025-06"),
    "int_list_paused_dossiers": cut("2025-07-01"),
    "int_list_results_not_returned": cut("2025-07-01"),
}
MARK = 100
NIGHT_UPDATED = "2025-07-21 08:00"
# unchanged too, and waiting at the running periods' cut: their July rows grow with the cut
STILL_WAITING = [
    dossier(
        "P4", X1, "2025-07-01 09:00", due="2025-08-20 17:00", status=5, supplements=[supplement("2025-07-15 09:00")]
    ),
    dossier("N3", X2, "2025-06-23 09:00", due="2025-07-10 17:00", ended="2025-07-01 09:00", status=9),
]
# out of tonight's window: the unchanged dossiers, and P2, whose process log alone changes
OLD_LOADS = [*UNCHANGED.values(), "P2", "P4", "N3"]

NIGHT = {
    "ho_so": [
        # L1 deleted as entered by mistake: June's late list loses it
        dossier(
            "L1",
            X1,
            "2025-06-02 09:00",
            due="2025-06-13 17:00",
            ended="2025-06-11 10:00",
            returned="2025-06-11 15:00",
            status=10,
            deleted=True,
            updated=NIGHT_UPDATED,
        ),
        # P3's citizen came back on Fri 18/7: no longer paused at tonight's cut
        # (its first version's NgayCapNhat is its due time, 5/8: this one is later)
        dossier(
            "P3",
            X2,
            "2025-07-07 09:00",
            due="2025-08-05 17:00",
            status=5,
            updated="2025-08-06 08:00",
            supplements=[supplement("2025-07-14 09:00", "2025-07-18 09:00")],
        ),
        # N2, new: result ready Thu 12/6, never handed back
        dossier(
            "N2",
            X2,
            "2025-06-02 09:00",
            due="2025-06-20 17:00",
            ended="2025-06-12 09:00",
            status=9,
            updated=NIGHT_UPDATED,
        ),
        # R2's reason corrected to nothing
        dossier(
            "R2",
            X2,
            "2025-07-01 09:00",
            due="2025-07-10 17:00",
            ended="2025-07-08 09:00",
            status=8,
            LyDo="",
            updated=NIGHT_UPDATED,
        ),
    ],
    # P2's step of Fri 20/6 corrected to status 5: no payment pause at June's end (its
    # record is not loaded again)
    "qua_trinh_xu_ly": [step("P2", 2, X1, "2025-06-20 14:00", status=5) | {"NgayCapNhat": ts(NIGHT_UPDATED)}],
}


def stored(dsn) -> dict[str, set[tuple]]:
    with psycopg.connect(dsn.conninfo(), row_factory=dict_row) as conn:
        return {
            model: {tuple(sorted(r.items())) for r in conn.execute(f"SELECT * FROM intermediate.{model}")}
            for model in UNCHANGED
        }


def mark_unchanged(dsn) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        for model, code in UNCHANGED.items():
            where = "".join(f" AND {column} = %s" for column in JUNE[model])
            marked = conn.execute(
                f"UPDATE intermediate.{model} SET status = status + {MARK} WHERE btrim(dossier_code) = %s{where}",
                (code, *JUNE[model].values()),
            ).rowcount
            assert marked == 1, f"{model} holds no June row of {code}"


def unmarked(rows: dict[str, set[tuple]]) -> dict[str, set[tuple]]:
    """The rows with the marks taken off; a mark left on means the run kept that row."""

    def clean(row: tuple) -> tuple:
        values = dict(row)
        if values["status"] >= MARK:
            values["status"] -= MARK
        return tuple(sorted(values.items()))

    return {model: {clean(r) for r in rs} for model, rs in rows.items()}


def marks_kept(rows: dict[str, set[tuple]]) -> dict[str, bool]:
    return {model: any(dict(r)["status"] >= MARK for r in rs) for model, rs in rows.items()}


def rebuilt(dsn, work, as_of) -> dict[str, set[tuple]]:
    run_dbt(dsn, work, "run", "--full-refresh", "--select", *UNCHANGED, as_of=as_of)
    return stored(dsn)


def codes(rows: set[tuple], period: dict) -> set[str]:
    return {dict(r)["dossier_code"].strip() for r in rows if dict(r).items() >= period.items()}


def test_a_night_a_month_a_new_fct_dossier_and_a_backfill_each_equal_a_rebuild(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", [procedure("1.000001")])
        load_raw(conn, "one_stop", "ho_so", DOSSIERS + STILL_WAITING)
        load_raw(conn, "one_stop", "qua_trinh_xu_ly", STEPS)
        # loaded nights ago, OLD_LOADS before the others: tonight's window (from the
        # newest load the last run saw minus incremental_lookback, 1 day) holds the others again
        for name in ("don_vi", "thu_tuc", "ho_so", "qua_trinh_xu_ly"):
            conn.execute(
                f"UPDATE {entity('one_stop', name).qualified_table} SET loaded_at = loaded_at - interval '3 days'"
            )
        conn.execute(
            f"UPDATE {entity('one_stop', 'ho_so').qualified_table} SET loaded_at = loaded_at - interval '2 days'"
            " WHERE record_key = ANY(%s)",
            (OLD_LOADS,),
        )
    run_dbt(module_db, dbt_work, "seed")
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of="2025-07-20")
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of="2025-07-20")
    assert codes(stored(module_db)["int_list_paused_dossiers"], cut("2025-07-01")) == {"P1", "P2"}

    # a night, the day after: the changed dossiers' rows replaced, the running periods at the new cut
    mark_unchanged(module_db)
    with psycopg.connect(module_db.conninfo()) as conn:
        for name, records in NIGHT.items():
            load_raw(conn, "one_stop", name, records)
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of="2025-07-21")
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of="2025-07-21")
    night = stored(module_db)
    assert marks_kept(night) == dict.fromkeys(UNCHANGED, True)
    assert codes(night["int_list_paused_dossiers"], cut("2025-07-01")) == {"P1"}  # P2: by its process log
    assert codes(night["int_list_late_dossiers"], month("2025-06")) == {"L2"}  # L1 deleted
    assert codes(night["int_list_results_not_returned"], cut("2025-07-01")) == {"N1", "N2"}
    # tonight's cut, the end of 21/7 (the running periods'): P3 back on 18/7; last night's gone
    assert codes(night["int_list_paused_dossiers"], cut("2025-07-22")) == {"P4"}
    assert not codes(night["int_list_paused_dossiers"], cut("2025-07-21"))
    assert unmarked(night) == rebuilt(module_db, dbt_work, "2025-07-21")

    # a new month: August's rows added (its cut, the end of 3/8), July's at its end; June's kept
    mark_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of="2025-08-04")
    august = stored(module_db)
    assert marks_kept(august) == dict.fromkeys(UNCHANGED, True)
    assert codes(august["int_list_results_not_returned"], cut("2025-08-05")) == {"N2", "N3"}
    assert unmarked(august) == rebuilt(module_db, dbt_work, "2025-08-04")

    # fct_dossier rebuilt by a full refresh (a changed catalogue or calendar): every row again
    mark_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", "--full-refresh", "--select", *WAREHOUSE_SELECTION, as_of="2025-08-04")
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of="2025-08-04")
    assert stored(module_db) == unmarked(august)

    # a backfill of an earlier day: August's rows go, July's are cut at 20/7 again, June's kept
    mark_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of="2025-07-20")
    backfilled = stored(module_db)
    assert marks_kept(backfilled) == dict.fromkeys(UNCHANGED, True)
    assert not codes(backfilled["int_list_late_dossiers"], month("2025-08"))
    assert not codes(backfilled["int_list_results_not_returned"], cut("2025-08-05"))
    assert unmarked(backfilled) == rebuilt(module_db, dbt_work, "2025-07-20")
