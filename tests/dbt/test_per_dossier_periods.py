"""int_metric_2_1_dossiers is kept per dossier (dbt/macros/per_dossier_periods.sql): a night
replaces the rows of the dossiers whose record changed and keeps the others; a new period adds
its rows for every dossier, a backfill's earlier as_of removes the later periods' rows, and a
full refresh of fct_dossier rebuilds every row.

To see which rows a run rewrote, one unchanged dossier's rows are tampered with (is_on_time
flipped) before it: a run that keeps them keeps the flip, a rebuild restores them. Every
result is compared with a --full-refresh of the model on the same data.
"""

from __future__ import annotations

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import entity, load_raw
from tests.dbt.test_incremental_rebuild import UPDATES
from tests.dbt.test_metric_2_1 import DOSSIERS, PROCEDURES, UNITS
from tthc.pipeline.dbt import WAREHOUSE_SELECTION

pytestmark = pytest.mark.slow

MODEL = "intermediate.int_metric_2_1_dossiers"
INDICATORS = ["--select", "path:models/marts/indicators/intermediate"]
UNCHANGED = "D04"  # open and overdue from June: rows in many periods, not among UPDATES
AS_OF, NEXT_MONTH = "2025-07-20", "2025-08-04"


def rows(dsn) -> set[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return set(conn.execute(f"SELECT * FROM {MODEL}").fetchall())


def flip_unchanged(dsn) -> int:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(
            f"UPDATE {MODEL} SET is_on_time = NOT is_on_time WHERE dossier_code = %s", (UNCHANGED,)
        ).rowcount


def flipped_back(stored: set[tuple], fresh: tuple = ()) -> set[tuple]:
    """The rows with the tampered dossier's flag restored (is_on_time is the fifth column),
    except in the `fresh` periods ((type, key)), computed after the tampering."""
    return {r[:4] + (not r[4],) + r[5:] if r[2].strip() == UNCHANGED and r[:2] not in fresh else r for r in stored}


def load_nights_ago(dsn) -> None:
    """The raw records loaded nights ago, the UNCHANGED dossier before the others: tonight's window
    (from the newest row a kept model holds minus incremental_lookback, 1 day) holds the others again."""
    with psycopg.connect(dsn.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
        for name in ("don_vi", "thu_tuc", "ho_so"):
            conn.execute(
                f"UPDATE {entity('one_stop', name).qualified_table} SET loaded_at = loaded_at - interval '3 days'"
            )
        conn.execute(
            f"UPDATE {entity('one_stop', 'ho_so').qualified_table} SET loaded_at = loaded_at - interval '2 days'"
            " WHERE record_key = %s",
            (UNCHANGED,),
        )


def rebuilt(dsn, work, as_of) -> set[tuple]:
    run_dbt(dsn, work, "run", "--full-refresh", "--select", "int_metric_2_1_dossiers", as_of=as_of)
    return rows(dsn)


def test_a_night_replaces_changed_dossiers_a_month_adds_its_rows_a_new_fct_dossier_rebuilds(module_db, dbt_work):
    load_nights_ago(module_db)
    run_dbt(module_db, dbt_work, "seed")
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of=AS_OF)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF)
    assert flip_unchanged(module_db) >= 4

    # a night: UPDATES deletes D02, closes D14, adds D17, brings a stale D03
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "ho_so", UPDATES)
    run_dbt(module_db, dbt_work, "run", "--select", *WAREHOUSE_SELECTION, as_of=AS_OF)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF)
    night = rows(module_db)
    # equal to a rebuild only with the flip undone: the unchanged dossier's rows were kept
    assert {r[2].strip() for r in night} >= {"D14", "D17"} and "D02" not in {r[2].strip() for r in night}
    assert flipped_back(night) == rebuilt(module_db, dbt_work, AS_OF)

    # a new month: its rows for every dossier (D04, open, enters August unchanged), the rest kept
    flip_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=NEXT_MONTH)
    august = (("month", "2025-08"),)
    next_month = rows(module_db)
    assert any(r[:3] == ("month", "2025-08", UNCHANGED) for r in next_month)
    assert flipped_back(next_month, fresh=august) == rebuilt(module_db, dbt_work, NEXT_MONTH)

    # fct_dossier rebuilt by a full refresh (a changed catalogue or calendar): every row again
    flip_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", "--full-refresh", "--select", *WAREHOUSE_SELECTION, as_of=NEXT_MONTH)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=NEXT_MONTH)
    assert rows(module_db) == flipped_back(next_month, fresh=august)

    # a backfill of an earlier day: August's rows go, the others are kept
    flip_unchanged(module_db)
    run_dbt(module_db, dbt_work, "run", *INDICATORS, as_of=AS_OF)
    backfilled = rows(module_db)
    assert not any(r[1] == "2025-08" and r[0] == "month" for r in backfilled)
    assert flipped_back(backfilled) == rebuilt(module_db, dbt_work, AS_OF)
