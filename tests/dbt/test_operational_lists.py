"""The operational lists and the late list per period, end to end: hand-made raw records ->
one real dbt build -> rows checked against what was worked out on paper.

Province P with communes X1 and X2; periods June and July 2025, as_of_date 2025-07-20 (so
July's "open" lists are taken at the end of 20/7). No holiday falls in June or July 2025:
working days are Mon-Fri, 8 h each (07:00-11:30, 13:30-17:00).
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import dossier, load_raw, procedure, step, supplement, unit

pytestmark = pytest.mark.slow

P, X1, X2 = "000.00.00.H97", "000.01.00.H97", "000.02.00.H97"

UNITS = [
    unit(P, "UBND tỉnh Lệ", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(X2, "UBND xã Hai", "XA", parent=P),
]

DOSSIERS = [
    # late only by the several-supplements rule: ended Wed 11/6 before its due Fri 13/6 -> June, 0 h
    dossier(
        "L1",
        X1,
        "2025-06-02 09:00",
        due="2025-06-13 17:00",
        ended="2025-06-11 10:00",
        returned="2025-06-11 15:00",
        status=10,
        supplements=[
            supplement("2025-06-03 09:00", "2025-06-04 09:00"),
            supplement("2025-06-05 09:00", "2025-06-06 09:00"),
        ],
    ),
    # several supplements and late by time too: due Tue 10/6 17:00, ended Thu 12/6 09:00 -> 8 + 2 h
    dossier(
        "L2",
        X1,
        "2025-06-02 09:00",
        due="2025-06-10 17:00",
        ended="2025-06-12 09:00",
        returned="2025-06-12 10:00",
        status=10,
        supplements=[
            supplement("2025-06-03 09:00", "2025-06-04 09:00"),
            supplement("2025-06-05 09:00", "2025-06-06 09:00"),
        ],
    ),
    # supplement requested Fri 27/6 10:00, citizen back Thu 3/7: paused at June's end only
    dossier(
        "P1",
        X1,
        "2025-06-16 09:00",
        due="2025-08-05 17:00",
        status=4,
        supplements=[supplement("2025-06-27 10:00", "2025-07-03 09:00")],
    ),
    # waiting for a financial obligation from Fri 20/6 14:00 (process log) until Wed 2/7
    dossier("P2", X1, "2025-06-16 09:00", due="2025-08-05 17:00", status=4),
    # a pending supplement since Mon 14/7 09:00: paused at the as_of end (20/7)
    dossier(
        "P3", X2, "2025-07-07 09:00", due="2025-08-05 17:00", status=5, supplements=[supplement("2025-07-14 09:00")]
    ),
    # result ready Tue 10/6 09:00, handed back Thu 3/7: not returned at June's end (14.75 days)
    dossier(
        "N1",
        X1,
        "2025-06-02 09:00",
        due="2025-06-20 17:00",
        ended="2025-06-10 09:00",
        returned="2025-07-03 09:00",
        status=10,
    ),
    # refused in June; stopped in July (with a reason)
    dossier("R1", X1, "2025-06-09 09:00", status=3, NgayTuChoi="20250610100000", LyDo=None),
    dossier(
        "R2", X2, "2025-07-01 09:00", due="2025-07-10 17:00", ended="2025-07-08 09:00", status=8, LyDo="Hồ sơ giả mạo"
    ),
    # inter-agency: X2's step overran on Mon 30/6 (due Fri 27/6 17:00: 3 h); the dossier is within
    # its due (Thu 3/7) at June's end, late in July
    dossier("I1", X1, "2025-06-23 09:00", due="2025-07-03 17:00", status=4, LienThong=True),
]

STEPS = [
    step("P2", 1, X1, "2025-06-16 09:00", status=2),
    step("P2", 2, X1, "2025-06-20 14:00", status=6),
    step("P2", 3, X1, "2025-07-02 10:00", status=4),
    step("I1", 1, X1, "2025-06-24 10:00", due="2025-06-24 17:00", started="2025-06-23 09:00"),
    step("I1", 2, X2, "2025-06-30 10:00", due="2025-06-27 17:00"),
]


@pytest.fixture(scope="module")
def built(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", [procedure("1.000001")])
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
        load_raw(conn, "one_stop", "qua_trinh_xu_ly", STEPS)
    # cautious, as the pipeline: a test that reads a model outside the selection (the seed
    # metric_scoring_rules' relationship to metric_registry) is left out
    run_dbt(
        module_db,
        dbt_work,
        "build",
        "--select",
        "+path:models/marts/indicators",
        "--exclude",
        "mart_portal_reconciliation",
        "--indirect-selection",
        "cautious",
        as_of="2025-07-20",
    )
    return module_db


def rows(db, sql, month):
    with psycopg.connect(db.conninfo()) as conn:
        return sorted(conn.execute(sql + " WHERE period_type = 'month' AND period_key = %s", (month,)).fetchall())


def test_lists_per_period(built):
    late = "SELECT dossier_code, overdue_working_hours, end_of_processing_at IS NULL FROM marts.mart_late_dossiers"
    # ho_so_qua_han: late only by the several-supplements rule -> 0 working hours
    assert rows(built, late, "2025-06") == [("L1", Decimal("0"), False), ("L2", Decimal("10"), False)]
    assert rows(built, late, "2025-07") == [("I1", Decimal("160"), True)]  # Thu 3/7 17:00 -> 1/8

    paused = "SELECT dossier_code, unit_code, pause_reason, paused_since, paused_working_hours FROM marts.mart_dossiers_paused"
    june = rows(built, paused, "2025-06")
    assert [(r[0], r[1], r[2], r[4]) for r in june] == [
        ("P1", X1, "YEU_CAU_BO_SUNG", Decimal("13.00")),  # Fri 27/6 10:00 -> 1/7 00:00
        ("P2", X1, "CHO_NGHIA_VU_TAI_CHINH", Decimal("51.00")),  # Fri 20/6 14:00 -> 1/7 00:00
    ]
    assert [(r[0], r[4]) for r in rows(built, paused, "2025-07")] == [("P3", Decimal("38.00"))]

    waiting = "SELECT dossier_code, status, working_days_waiting FROM marts.mart_results_not_returned"
    assert rows(built, waiting, "2025-06") == [("N1", 10, Decimal("14.75"))]
    assert rows(built, waiting, "2025-07") == []

    decided = (
        "SELECT dossier_code, unit_code, outcome, is_reason_missing FROM marts.mart_dossiers_refused_returned_stopped"
    )
    assert rows(built, decided, "2025-06") == [("R1", X1, "TU_CHOI", True)]
    assert rows(built, decided, "2025-07") == [("R2", X2, "DUNG_XU_LY", False)]

    delays = "SELECT dossier_code, unit_code, step_number, step_unit_code, step_overdue_working_hours FROM marts.mart_inter_agency_delays"
    assert rows(built, delays, "2025-06") == []  # I1 still within its due at June's end
    assert rows(built, delays, "2025-07") == [("I1", X1, 2, X2, Decimal("3.0000"))]
