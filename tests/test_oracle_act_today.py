"""The oracle's section 11 (tests/oracle.py act_today) on facts worked out by hand, so the
second reading the dbt models are checked against is itself checked.

Province P with commune X1; commune XO merged into X1 on 1 July 2025. T = Wed 16 July 2025
10:00 (July 2025 has no holiday: working days Mon-Fri, 07:00-11:30 and 13:30-17:00).
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction

from tests import oracle
from tests.dbt.records import dossier, procedure, step, supplement, sync, unit

P, X1, XO = "000.00.00.H98", "000.01.00.H98", "000.03.00.H98"
DOC, NO_DOC = "1.000001", "1.000003"
T = datetime(2025, 7, 16, 10, 0, tzinfo=oracle.LOCAL)
LETTER = {"NgayHenTraMoi": "20250725170000", "LyDo": "Chờ ý kiến của cơ quan phối hợp"}

UNITS = [
    unit(P, "UBND tỉnh Mẫu", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(XO, "UBND xã Cũ", "XA", parent=P, valid_to="2025-06-30", successor=X1),
]
PROCEDURES = [procedure(DOC), procedure(NO_DOC, result_is_document=False)]
DOSSIERS = [
    # due in 3 working hours (10:00-11:30, 13:30-15:00)
    dossier("D1", X1, "2025-07-14 09:00", due="2025-07-16 15:00", procedure_code=DOC),
    # 4 h overdue, apology letter written at 09:00; its step at the province is 3 h past its deadline
    dossier(
        "D2",
        X1,
        "2025-07-10 09:00",
        due="2025-07-15 16:00",
        procedure_code=DOC,
        PhieuXinLoi=[{"NgayXinLoi": "20250716090000", **LETTER}],
    ),
    # 35 h overdue; the apology letter comes after T
    dossier(
        "D3",
        X1,
        "2025-07-02 09:00",
        due="2025-07-09 17:00",
        procedure_code=DOC,
        PhieuXinLoi=[{"NgayXinLoi": "20250717090000", **LETTER}],
    ),
    # XO's, carried over: one supplement requested 1/7, completed only after T (status 4 now);
    # at T it waits on the citizen, judged at the request (on time against the due then, 3/7)
    dossier(
        "D4",
        XO,
        "2025-06-20 09:00",
        due="2025-07-20 17:00",
        procedure_code=DOC,
        supplements=[
            supplement(
                "2025-07-01 09:00",
                received_back="2025-07-17 09:00",
                previous_due="2025-07-03 17:00",
                new_due="2025-07-20 17:00",
            )
        ],
    ),
    # result ready 8/7 09:00, not handed back (49 working hours at T), no electronic file
    dossier(
        "D5", X1, "2025-07-01 08:00", due="2025-07-10 17:00", ended="2025-07-08 09:00", status=9, procedure_code=DOC
    ),
    # received 20 h before T, not synced: not yet on the unsynced list
    dossier("D6", X1, "2025-07-15 14:00", due="2025-07-25 17:00", procedure_code=DOC),
    # closed late and returned; its TTHC's result is not a document
    dossier(
        "D7",
        X1,
        "2025-07-01 09:00",
        due="2025-07-03 17:00",
        ended="2025-07-07 09:00",
        returned="2025-07-07 10:00",
        status=10,
        procedure_code=NO_DOC,
    ),
    # due after the month: safe
    dossier("D8", X1, "2025-07-15 09:00", due="2025-08-05 17:00", procedure_code=DOC),
    # two supplement requests, both completed; due in 6 working hours: overdue by the supplements
    # rule (figure 0), not due soon; 2.1 today still counts it (open, due after T)
    dossier(
        "D9",
        X1,
        "2025-07-03 09:00",
        due="2025-07-16 16:00",
        procedure_code=DOC,
        supplements=[
            supplement("2025-07-04 09:00", "2025-07-07 09:00", "2025-07-10 17:00", "2025-07-14 17:00"),
            supplement("2025-07-08 09:00", "2025-07-09 09:00", "2025-07-14 17:00", "2025-07-16 16:00"),
        ],
    ),
    # refused at intake with no written reason
    dossier("R1", X1, "2025-07-04 09:00", status=3, procedure_code=DOC, NgayTuChoi="20250704100000", LyDo=" "),
]
SYNCS = [
    sync("D1", X1, "2025-07-14 10:00"),
    sync("D2", X1, "2025-07-17 09:00"),
    sync("D3", X1, "2025-07-02 10:00"),
    sync("D5", X1, "2025-07-01 09:00"),
    sync("D9", X1, "2025-07-03 10:00"),
    sync("D7", X1, "2025-07-01 10:00"),
    sync("D8", X1, "2025-07-15 10:00"),
]
STEPS = [
    step("D2", 1, X1, "2025-07-10 09:00", due="2025-07-11 17:00", started="2025-07-10 09:00"),
    step("D2", 2, P, "2025-07-17 09:00", due="2025-07-15 17:00", started="2025-07-14 08:00"),
    step("D2", 3, X1, "2025-07-18 09:00", due="2025-07-20 17:00", started="2025-07-17 09:00"),
]


def truth() -> oracle.Truth:
    return oracle.Truth(
        units=UNITS,
        procedures=PROCEDURES,
        offerings=[],
        dossiers=DOSSIERS,
        syncs=SYNCS,
        feedback=[],
        ratings=[],
        services=[],
        payments_as_of=lambda t: [],
        steps=STEPS,
    )


def test_the_lists_at_t_are_the_hand_counted_ones():
    got = {
        (r.unit, r.list_name, r.dossier, r.row_unit, r.figure, r.apology, r.gain)
        for r in oracle.act_today(truth(), T).rows
    }
    for_x1 = {
        ("sap_den_han", "D1", X1, Fraction(3), None, Fraction(20, 9)),  # 2.1 is 6/9: one late costs 20/9
        ("qua_han", "D2", X1, Fraction(4), True, None),
        ("qua_han", "D3", X1, Fraction(35), False, None),
        ("qua_han", "D9", X1, Fraction(0), False, None),
        ("chua_tra_ket_qua", "D5", X1, Fraction(49), None, None),
        # 4.1 is 0/1 (gain 6); 4.2 is 7/8 and D5 counts there (received in July, digitized)
        ("thieu_ket_qua_dien_tu", "D5", X1, 6 + Fraction(4, 8), None, 6 + Fraction(4, 8)),
        ("chua_dong_bo", "D2", X1, Fraction(6, 8), None, Fraction(6, 8)),  # 1.4 is 6/8
        ("thieu_ly_do", "R1", X1, None, None, None),
    }
    step_row = ("buoc_qua_han", "D2", P, Fraction(3), None, None)  # the step's unit's row: the province's
    assert got == {(X1, *r) for r in for_x1} | {(P, *r) for r in for_x1 | {step_row}}


def test_metrics_month_to_date_read_as_of_t():
    at = oracle.act_today(truth(), T)
    # 2.1: D1, D4 (judged at its request), D5, D6, D8, D9 of D1-D9; 1.4: synced by T, D2 only after
    expected = {"2.1": (6, 9), "1.4": (6, 8), "4.1": (0, 1), "4.2": (7, 8)}
    for unit_code in (P, X1):
        for metric, (num, den) in expected.items():
            m = at.metrics[(unit_code, metric)]
            assert (m.num, m.den) == (num, den), (unit_code, metric)
    m = at.metrics[(X1, "2.1")]
    assert (m.points, m.lost, m.gain, m.to_cap) == (Fraction(40, 3), Fraction(20, 3), Fraction(20, 9), 3)
    assert not at.metrics[(X1, "1.1")].applies and at.metrics[(X1, "1.1")].lost == 0
    assert set(at.projection) == {P, X1}  # XO is gone in July


def test_three_things_and_projection():
    at = oracle.act_today(truth(), T)
    things = [(t.rank, t.metric, t.list_name, t.points_at_stake, t.rows) for t in at.three_things[X1]]
    assert things == [
        (1, "4.1", "thieu_ket_qua_dien_tu", Fraction(6), 1),
        (2, "2.1", "sap_den_han", Fraction(20, 9), 1),
        (3, "1.4", "chua_dong_bo", Fraction(6, 8), 1),
    ]  # (4.2, L5) 4/8 is fourth
    p = at.projection[X1]
    # on time D4, D5; late D2, D3 (overdue), D7, D9 (two requests); safe D8; undecided D1 (due
    # today), D6 (25/7)
    assert (p.dossiers_all, p.decided_on_time, p.decided_late, p.safe, p.undecided) == (9, 2, 4, 1, 2)
    assert (p.rate_min, p.rate_max) == (Fraction(3, 9), Fraction(5, 9))
    assert (p.points_2_1_min, p.points_2_1_max) == (Fraction(60, 9), Fraction(100, 9))
    # 5.3 = min(6, 6 r / 0.9) with no complaints: r = 3/9 and 5/9
    assert (p.points_5_3_min, p.points_5_3_max) == (Fraction(20, 9), Fraction(100, 27))
    assert p.total_max - p.total_min == Fraction(100 - 60, 9) + Fraction(100, 27) - Fraction(20, 9)
    # today's 2.1 counts D9 in time (open, due after T): the projection's best end is below it
    assert p.total_now - p.total_max == Fraction(120 - 100, 9) + 6 * Fraction(6, 9) / Fraction(9, 10) - Fraction(
        100, 27
    )
    assert [(c, u, r) for c, u, _, r in at.undecided[X1]] == [("D1", X1, 1), ("D6", X1, 2)]


def test_a_completion_after_t_has_not_moved_the_due_time():
    record = oracle.dossier_at(DOSSIERS[3], T)
    assert record["NgayHenTra"] == "20250703170000"
    assert record["DanhSachHoSoBoSung"][0]["NgayTiepNhanBoSung"] is None
    later = oracle.dossier_at(DOSSIERS[3], datetime(2025, 7, 18, 9, 0, tzinfo=oracle.LOCAL))
    assert later["NgayHenTra"] == "20250720170000"


def test_gains_and_dossiers_to_the_cap():
    g, cap = oracle.gain_one_more, oracle.dossiers_to_cap
    assert (g("4.1", True, 3, 4), cap("4.1", True, 3, 4)) == (Fraction(3, 2), 1)
    assert g("4.1", True, 4, 4) == 0  # full: nothing to add
    assert (g("3.3", True, 4, 10), cap("3.3", True, 4, 10)) == (Fraction(6, 5), 1)  # 6 / (0.5 x 10)
    assert (g("3.3", True, 5, 10), cap("3.3", True, 5, 10)) == (0, 0)  # capped
    assert (g("3.3", True, 1, 3), cap("3.3", True, 1, 3)) == (Fraction(2), 1)  # the rest up to the cap
    assert (g("5.3", True, 8, 10), cap("5.3", True, 8, 10)) == (Fraction(2, 3), 1)
    assert (g("1.1", False, 0, 3), cap("1.1", False, 0, 3)) == (0, 0)  # does not apply
    assert (g("2.2", True, 40, 2), cap("2.2", True, 40, 2)) == (0, 0)


def test_the_simulated_province_keeps_the_identities():
    """On a simulated province: every list row's figure within its list's bounds, a row once per
    ancestor, the projection's parts adding up to 2.1's denominator, its ends around the rules."""
    from simulator import World, WorldConfig

    world = World(WorldConfig(seed=11, dossiers_per_year=1500, start=date(2025, 1, 1), end=date(2025, 12, 31)))
    truth_ = oracle.Truth.from_world(world, datetime(2025, 8, 25, 2, 0, tzinfo=oracle.LOCAL))
    at = oracle.act_today(truth_, T)
    units = oracle.units_from(truth_.units)
    lists = {r.list_name for r in at.rows}
    assert {
        "sap_den_han",
        "qua_han",
        "buoc_qua_han",
        "chua_tra_ket_qua",
        "thieu_ket_qua_dien_tu",
        "chua_dong_bo",
    } <= lists
    for r in at.rows:
        assert r.unit in oracle.ancestors_on(r.row_unit, T.date(), units)
        if r.list_name == "sap_den_han":
            assert 0 < r.figure <= 8
        elif r.list_name == "chua_tra_ket_qua":
            assert r.figure >= 16
        elif r.list_name in ("qua_han", "buoc_qua_han"):
            assert r.figure >= 0
    counts = oracle.metrics_at(truth_, T)
    for u, p in at.projection.items():
        assert p.decided_on_time + p.decided_late + p.safe + p.undecided == p.dossiers_all == counts[(u, "2.1")][1]
        assert p.total_min <= p.total_max and p.points_2_1_min <= p.points_2_1_max
        assert len(at.undecided[u]) == p.undecided
