"""The actions models (docs/acting-today.md, §11) on a few hand-made dossiers, end to end: raw records -> one
real dbt build of `+tag:actions` at two moments at once (var actions_at as a list) -> the states
at each T and a few list rows checked against what was worked out on paper. The exhaustive
hand-computed lists, gains and projections are in test_actions_lists.py and its siblings.

Province P with communes X1 and X2; commune XO merged into X2 on 1/7/2025 (valid to 30/6).
T2 = Thu 10/7/2025 10:00 and T1 = Mon 21/7/2025 09:00 (local). No holiday falls in July 2025:
working days Mon-Fri, 8 h each (07:00-11:30, 13:30-17:00).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import LOCAL, dossier, iso, load_raw, procedure, step, supplement, unit

pytestmark = pytest.mark.slow

P, X1, X2, XO = "000.00.00.H97", "000.01.00.H97", "000.02.00.H97", "000.09.00.H97"
T1, T2 = "2025-07-21T09:00:00+07:00", "2025-07-10T10:00:00+07:00"

UNITS = [
    unit(P, "UBND tỉnh Lệ", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(X2, "UBND xã Hai", "XA", parent=P),
    unit(XO, "UBND xã Cũ", "XA", parent=P, valid_to="2025-06-30", successor=X2),
]


def sync_at(dossier_code, unit_code, synced, result="SUCCESS"):
    return {
        "dossierCode": dossier_code,
        "departmentCode": unit_code,
        "receivedAt": iso(synced),
        "syncedAt": iso(synced),
        "portalStatus": 2,
        "syncResult": result,
        "errorMessage": None,
        "updatedAt": iso(synced),
    }


DOSSIERS = [
    # due Mon 21/7 15:00: at T1 4 working hours left (09:00-11:30, 13:30-15:00) -> due soon
    dossier("A", X1, "2025-07-14 09:00", due="2025-07-21 15:00"),
    # due Tue 15/7 17:00: at T1 overdue by Wed-Fri (24 h) + Mon 07:00-09:00 (2 h) = 26 h, no apology;
    # at T2 29 working hours left (not due soon)
    dossier("B", X1, "2025-07-01 09:00", due="2025-07-15 17:00"),
    # one supplement requested Tue 8/7, completed Tue 15/7 (after T2): at T2 waiting on the citizen
    # with the due then in force Fri 11/7 17:00; at T1 moved to Fri 18/7 17:00: overdue 2 h
    dossier(
        "C",
        X2,
        "2025-07-02 09:00",
        due="2025-07-18 17:00",
        supplements=[
            supplement(
                "2025-07-08 09:00", "2025-07-15 09:00", previous_due="2025-07-11 17:00", new_due="2025-07-18 17:00"
            )
        ],
    ),
    # old commune XO (merged into X2 on 1/7): result ready Tue 8/7 09:00, never handed back, no
    # result file: at T2 17 working hours since ready (6 + 8 + 3)
    dossier("D", XO, "2025-06-20 09:00", due="2025-07-09 17:00", ended="2025-07-08 09:00", status=9),
    # refused at intake in the period without a reason (not a received dossier)
    dossier("E", X1, "2025-07-09 09:00", status=3, NgayTuChoi="20250709100000", LyDo=None),
    dossier("E2", X1, "2025-07-15 09:00", status=3, NgayTuChoi="20250715100000", LyDo="  "),
    # refused Thu 10/7 09:30, record updated after T2: dated by NgayTuChoi, on T2's list
    dossier("E3", X1, "2025-07-10 09:00", status=3, NgayTuChoi="20250710093000", updated="2025-07-12 08:00"),
    dossier(
        "F",
        X1,
        "2025-07-03 09:00",
        due="2025-07-31 17:00",
        ended="2025-07-04 09:00",
        status=8,
        LyDo="Công dân đề nghị dừng",
    ),
    # step 2 at X2 due Thu 17/7 17:00, still running at T1: 8 (Fri) + 2 (Mon) = 10 h past it
    dossier("G", X1, "2025-07-14 09:00", due="2025-07-31 17:00", LienThong=True),
    # no NgayHenTra: due derived from the 10-working-day limit (Mon 7/7 09:00 -> Mon 21/7 09:00) plus
    # the citizen's time Wed 9/7 09:00 -> Fri 11/7 09:00 (16 h) once completed: Wed 23/7 09:00 at T1;
    # at T2 the request is pending (waiting) and the due then is Mon 21/7 09:00
    dossier("K", X1, "2025-07-07 09:00", supplements=[supplement("2025-07-09 09:00", "2025-07-11 09:00")]),
    # two supplement requests by T1 (one by T2): late by supplements at T1 only, due far away
    dossier(
        "J",
        X1,
        "2025-07-01 09:00",
        due="2025-07-31 17:00",
        supplements=[
            supplement("2025-07-02 09:00", "2025-07-03 09:00"),
            supplement("2025-07-16 09:00", "2025-07-17 09:00"),
        ],
    ),
]

STEPS = [
    step("G", 1, X1, "2025-07-14 10:00", due="2025-07-14 17:00", started="2025-07-14 09:00"),
    {**step("G", 2, X2, None, due="2025-07-17 17:00", started="2025-07-14 10:00"), "NgayCapNhat": "20250714100000"},
    # E is refused at intake (never received, so not among the states): its handler is looked up
    # in the process log at T
    {**step("E", 1, X1, "2025-07-09 10:00", started="2025-07-09 09:30"), "NguoiXuLy": "Cán bộ tiếp nhận"},
]

SYNCS = [sync_at("A", X1, "2025-07-14 10:00"), sync_at("B", X1, "2025-07-12 10:00")]


@pytest.fixture(scope="module")
def built(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", [procedure("1.000001")])
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
        load_raw(conn, "one_stop", "qua_trinh_xu_ly", STEPS)
        load_raw(conn, "dvc_portal", "sync_status", SYNCS)
    run_dbt(
        module_db,
        dbt_work,
        "build",
        "--select",
        "+act_list_rows_named",
        "+act_refresh",
        variables={"actions_at": [T1, T2]},
    )
    return module_db


def query(db, sql, *params):
    with psycopg.connect(db.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def at(text):
    return datetime.fromisoformat(text)


def local(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=LOCAL)


def states(db, t):
    cols = (
        "dossier_code, unit_code, due_at, is_open, supplement_count, is_waiting_on_citizen, "
        "is_late_by_supplements, is_carried_over, is_closed_on_time, is_result_ready"
    )
    return {
        r[0]: r[1:]
        for r in query(db, f"SELECT {cols} FROM intermediate.int_action_dossier_states WHERE at_ts = %s", at(t))
    }


def test_states_at_two_moments(built):
    s1, s2 = states(built, T1), states(built, T2)
    assert sorted(s1) == ["A", "B", "C", "D", "F", "G", "J", "K"]
    assert sorted(s2) == ["B", "C", "D", "F", "J", "K"]  # A, G not yet received; E, E2 never counted
    # C: waiting at T2 with the due before the completion; at T1 back, due moved, overdue
    assert s2["C"] == (X2, local("2025-07-11 17:00"), True, 1, True, False, False, None, False)
    assert s1["C"] == (X2, local("2025-07-18 17:00"), True, 1, False, False, False, None, False)
    # D: the merged commune's dossier counts for X2; closed on time on 8/7, result ready
    assert s2["D"] == (X2, local("2025-07-09 17:00"), False, 0, False, False, True, True, True)
    # K: the derived due counts the citizen's time only once it is back
    assert s2["K"][1:6] == (local("2025-07-21 09:00"), True, 1, True, False)
    assert s1["K"][1:6] == (local("2025-07-23 09:00"), True, 1, False, False)
    # J: one request by T2, two by T1
    assert s2["J"][3:6] == (1, False, False)
    assert s1["J"][3:6] == (2, False, True)


def test_dated_things_as_of_t(built):
    cols = (
        "dossier_code, is_synced, has_apology_letter, current_step_number, current_step_unit_code, "
        "current_step_due_at, is_resolved_in_period, result_is_document, has_result_file, end_at, "
        "is_received_in_period"
    )
    got = {
        (r[0], r[1]): r[2:] for r in query(built, f"SELECT at_ts, {cols} FROM intermediate.int_action_dossier_states")
    }
    t1, t2 = at(T1), at(T2)
    # B synced on Sat 12/7: not at T2, yes at T1
    assert got[(t2, "B")][0] is False and got[(t1, "B")][0] is True
    # G's current step at T1: step 2, at X2, due Thu 17/7 17:00
    assert got[(t1, "G")][2:5] == (2, X2, local("2025-07-17 17:00"))
    # D: resolved in July (status 9), its result is a document, no file; F stopped: not resolved
    assert got[(t2, "D")][5:9] == (True, True, False, local("2025-07-08 09:00"))
    assert got[(t1, "F")][5] is False and got[(t1, "F")][8] == local("2025-07-04 09:00")
    assert got[(t1, "D")][9] is False and got[(t1, "A")][9] is True


def list_rows(db, t, unit_code):
    """(list, dossier, row unit, figure, apology); the points figures of L5 and L6 are H2's (test_actions_points)."""
    return sorted(
        query(
            db,
            "SELECT list_name, dossier_code, row_unit_code,"
            " CASE WHEN list_name NOT IN ('thieu_ket_qua_dien_tu', 'chua_dong_bo')"
            " THEN round(list_value, 2) END, has_apology_letter"
            " FROM actions.act_list_rows WHERE at_ts = %s AND unit_code = %s",
            at(t),
            unit_code,
        ),
        key=lambda r: (r[0], r[1]),
    )


def test_province_lists_at_two_moments(built):
    assert list_rows(built, T1, P) == [
        ("buoc_qua_han", "G", X2, Decimal("10.00"), None),  # step 2 at X2, due Thu 17/7 17:00
        ("chua_dong_bo", "C", X2, None, None),
        ("chua_dong_bo", "F", X1, None, None),
        ("chua_dong_bo", "G", X1, None, None),
        ("chua_dong_bo", "J", X1, None, None),
        ("chua_dong_bo", "K", X1, None, None),
        ("chua_tra_ket_qua", "D", X2, Decimal("72.00"), None),  # ready Tue 8/7 09:00
        ("qua_han", "B", X1, Decimal("26.00"), False),
        ("qua_han", "C", X2, Decimal("2.00"), False),  # due moved to Fri 18/7 17:00
        ("qua_han", "J", X1, Decimal("0.00"), False),  # late by two requests only
        ("sap_den_han", "A", X1, Decimal("4.00"), None),
        ("thieu_ket_qua_dien_tu", "D", X2, None, None),
        ("thieu_ly_do", "E", X1, None, None),
        ("thieu_ly_do", "E2", X1, None, None),  # a blank reason is no reason
        ("thieu_ly_do", "E3", X1, None, None),
    ]
    assert list_rows(built, T2, P) == [
        ("chua_dong_bo", "B", X1, None, None),  # synced only on Sat 12/7
        ("chua_dong_bo", "C", X2, None, None),
        ("chua_dong_bo", "F", X1, None, None),
        ("chua_dong_bo", "J", X1, None, None),
        ("chua_dong_bo", "K", X1, None, None),  # waiting, but not synced either
        ("chua_tra_ket_qua", "D", X2, Decimal("17.00"), None),  # 6 + 8 + 3 working hours
        ("thieu_ket_qua_dien_tu", "D", X2, None, None),
        ("thieu_ly_do", "E", X1, None, None),  # C waits on the citizen: on no list
        ("thieu_ly_do", "E3", X1, None, None),  # decided by NgayTuChoi, not the update
    ]


def test_rows_pool_to_the_units_holding_them(built):
    x1 = {(r[0], r[1]) for r in list_rows(built, T1, X1)}
    x2 = {(r[0], r[1]) for r in list_rows(built, T1, X2)}
    assert ("buoc_qua_han", "G") in x2 and ("buoc_qua_han", "G") not in x1  # the step's unit holds it
    assert ("chua_dong_bo", "G") in x1 and ("qua_han", "C") in x2 and ("qua_han", "C") not in x1
    assert query(built, "SELECT count(*) FROM actions.act_list_rows WHERE unit_code = %s", XO) == [(0,)]
    handling = query(
        built,
        "SELECT handling_unit_code, current_step_department FROM actions.act_list_rows"
        " WHERE at_ts = %s AND list_name = 'buoc_qua_han'",
        at(T1),
    )
    assert handling == [(X1, "Bộ phận một cửa")] * 2


def test_handler_names_only_in_the_named_table(built):
    named = query(
        built,
        "SELECT unit_code, handler_name FROM actions.act_list_rows_named"
        " WHERE at_ts = %s AND list_name = 'buoc_qua_han' ORDER BY unit_code",
        at(T1),
    )
    assert named == [(P, "Cán bộ A"), (X2, "Cán bộ A")]
    columns = {
        r[0]
        for r in query(
            built,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'actions' AND table_name = 'act_list_rows'",
        )
    }
    assert "handler_name" not in columns
    assert query(built, "SELECT count(*) FROM actions.act_list_rows") == query(
        built, "SELECT count(*) FROM actions.act_list_rows_named"
    )
    refused = query(
        built,
        "SELECT DISTINCT dossier_code, handler_name FROM actions.act_list_rows_named"
        " WHERE at_ts = %s AND list_name = 'thieu_ly_do' ORDER BY 1",
        at(T1),
    )
    assert refused == [("E", "Cán bộ tiếp nhận"), ("E2", None), ("E3", None)]


def test_refresh_row_per_moment(built):
    assert query(
        built,
        "SELECT at_ts, period_key, due_soon_hours, not_returned_hours, unsynced_hours"
        " FROM actions.act_refresh ORDER BY at_ts",
    ) == [(at(T2), "2025-07", 8, 16, 24), (at(T1), "2025-07", 8, 16, 24)]


def test_moments_from_the_environment_and_refused_without_offset(built, dbt_work, monkeypatch):
    """The pipeline passes T as env TTHC_ACTIONS_AT (several moments separated by commas); a time
    without its offset is refused, not read in the server's time zone."""
    monkeypatch.setenv("TTHC_ACTIONS_AT", f"{T2},{T1}")
    run_dbt(built, dbt_work, "run", "--select", "int_action_moments")
    assert query(
        built, "SELECT at_ts, at_date::text, period_start_ts FROM intermediate.int_action_moments ORDER BY at_ts"
    ) == [(at(T2), "2025-07-10", local("2025-07-01 00:00")), (at(T1), "2025-07-21", local("2025-07-01 00:00"))]
    refused = run_dbt(
        built,
        dbt_work,
        "run",
        "--select",
        "int_action_moments",
        check=False,
        variables={"actions_at": "2025-07-21 09:00"},
    )
    assert refused.returncode != 0 and "not an ISO 8601 time with its offset" in refused.stdout
