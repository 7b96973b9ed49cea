"""Metrics at a moment T (int_action_metric_counts, domain.md §11 "points at stake") against the
monthly mart, on a simulated province: raw records as the sources served them at CLOCK (just
after July 2025 closed) -> one real dbt run -> at T = 31/7/2025 23:59:59 local, the last second
of July, every unit's every metric (numerator, denominator, points, applies) equals
mart_metric_monthly's July row: the same rules (macros/metric_rules.sql) over [1/7, T].

At the end of June (T = 30/6 23:59:59) §11 reads what happened after T as it stood at T, where the
monthly mart reads it as it is now. The test names each metric that differs and checks the
difference against the dossiers whose dated records moved after T (syncs for 1.4; supplement
completions for 2.1 and 5.3).
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import psycopg
import pytest

from simulator import World, WorldConfig
from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import LOCAL, load_raw

pytestmark = pytest.mark.slow

CLOCK = datetime(2025, 8, 1, 0, 0, 0, tzinfo=LOCAL)
END_OF_JULY = "2025-07-31T23:59:59+07:00"
END_OF_JUNE = "2025-06-30T23:59:59+07:00"
MID_JULY = "2025-07-15T10:30:00+07:00"
ENTITIES = {
    "one_stop": ("don_vi", "thu_tuc", "thu_tuc_don_vi", "ho_so", "qua_trinh_xu_ly"),
    "dvc_portal": ("payments", "sync_status", "feedback", "ratings", "online_services"),
}


@pytest.fixture(scope="module")
def built(module_db, dbt_work):
    world = World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))
    with psycopg.connect(module_db.conninfo()) as conn:
        for source, names in ENTITIES.items():
            for name in names:
                load_raw(conn, source, name, world.records(source, name, CLOCK))
    run_dbt(module_db, dbt_work, "seed")
    moments = {"actions_at": [END_OF_JULY, END_OF_JUNE, MID_JULY]}
    run_dbt(module_db, dbt_work, "run", "--select", "+mart_metric_monthly", "+tag:actions",
            as_of="2025-07-31", variables=moments)
    run_dbt(module_db, dbt_work, "test", "--select", "tag:actions", as_of="2025-07-31", variables=moments)
    return module_db


def query(db, sql, *params):
    with psycopg.connect(db.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def at_t(db, t):
    return {(r[0], r[1]): r[2:] for r in query(
        db, "SELECT unit_code, metric_code, numerator, denominator, points, applies"
            " FROM intermediate.int_action_metric_counts WHERE at_ts = %s", datetime.fromisoformat(t))}


def month(db, key):
    return {(r[0], r[1]): r[2:] for r in query(
        db, "SELECT unit_code, metric_code, numerator, denominator, points, applies"
            " FROM marts.mart_metric_monthly WHERE period_type = 'month' AND period_key = %s", key)}


def test_last_second_of_july_equals_the_july_row(built):
    got, want = at_t(built, END_OF_JULY), month(built, "2025-07")
    assert len(want) > 22 * 10 and set(got) == set(want)
    differ = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not differ, differ
    # the data exercises the metrics (not a comparison of zeros)
    exercised = {m for (_, m), (num, den, *_) in want.items() if 0 < num < den}
    assert {"1.4", "2.1", "3.2", "3.3", "3.4", "3.5", "4.1", "4.2", "5.3"} <= exercised, sorted(exercised)
    assert any(den > 0 for (_, m), (num, den, *_) in want.items() if m == "5.1")


def test_end_of_june_differs_only_by_the_syncs_dated_after_t(built):
    """§11 reads a sync record as it stood at T (SUCCESS with syncedAt <= T); the monthly mart
    counts a SUCCESS record whatever its date. Everything else read at T equals June's row here
    (no supplement completed after T moved a June due time in this province)."""
    got, want = at_t(built, END_OF_JUNE), month(built, "2025-06")
    assert set(got) == set(want)
    assert {k[1] for k in want if got[k] != want[k]} == {"1.4"}
    synced_later = dict(query(built, """
        select closure.ancestor_unit_code, count(*)
        from core.fct_dossier d
        join core.fct_sync s on s.dossier_code = d.dossier_code and s.is_synced and s.synced_at > %s
        join intermediate.int_period_unit_mappings m
          on m.period_type = 'month' and m.period_key = '2025-06' and m.unit_code = d.unit_code
        join intermediate.int_unit_closure closure
          on closure.descendant_unit_code = m.reporting_unit_code
         and closure.valid_from <= date '2025-06-30'
         and (closure.valid_to is null or closure.valid_to >= date '2025-06-30')
        where d.received_at >= '2025-06-01T00:00:00+07:00' and d.received_at < '2025-07-01T00:00:00+07:00'
        group by 1""", datetime.fromisoformat(END_OF_JUNE)))
    assert sum(synced_later.values()) > 0
    for (unit, metric), (num, den, points, applies) in want.items():
        if metric == "1.4":
            at_num, at_den, at_points, at_applies = got[(unit, metric)]
            assert (at_num, at_den, at_applies) == (num - synced_later.get(unit, 0), den, applies), unit
            assert abs(at_points - (6 * at_num / at_den if at_den else 6)) < Decimal("1e-15"), unit
