"""The month-end projection of 2.1, 5.3 and the total (docs/acting-today.md, §11) on the crafted province of
tests/dbt/actions_world.py at T = Tue 29/4/2025 15:00; the period ends Thu 1/5 00:00.

Each dossier known at T (2.1's scope: received in April up to T, or carried over open at 1/4):
- decided (first): closed by T, on time or late (§5); waiting on the citizen, judged at the
  request; overdue now (due in force <= T); more than one supplement request (late);
- safe: open, due >= 1/5 00:00; undecided: open, T < due < 1/5 00:00.

    X1 (45): on time 13  S1 (asked 28/4 09:00, due 29/4 16:00), E1-E6, F1-F3, R2, R3, R6
             late 13     A9 (due = T), B1-B5, S2 (asked after its due), S4 (due in force 21/4),
                         S5, S6 (two requests), S7 (asked 28/4 10:00 after its due in force at T,
                         25/4 17:00), K2, K3
             safe 13     A4-A8 (due 5/5), D1-D3, G1-G5 (due 9/5)
             undecided 6 A1, A2, A3 (due 30/4, a holiday, still before 1/5), S3, E8, K1
    C1 (7):  on time 2 (P0, P1), late 2 (P2 closed late, P3 overdue), safe 1 (P5), undecided 2 (P4, P6)
    C2 (5):  on time 2 (Q1, Q4 waiting and asked in time), late 1 (Q5 two requests), safe 1 (Q2),
             undecided 1 (Q3)
    SO = C1 + C2 (12): 4, 3, 2, 3;  P = X1 + SO (57): 17, 16, 15, 9;  X3: nothing.

2.1 at least = (on time + safe) / all, at most = (on time + safe + undecided) / all; points 20·r.
5.3's rate = 1 - late share - complaint share (P1's level-3 rating: 1 in C1, SO, P), its late
share = 1 - 2.1's rate at each end; points min(6, 6·r/0.9); 0 without dossiers. The total's
ends = today's total with 2.1 and 5.3 replaced by their ends (today's metrics:
test_actions_points.py).
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from tests.dbt.actions_world import (
    C1,
    C2,
    SO,
    UNIT_NAMES,
    X1,
    X3,
    P,
    T,
    actions_world,
    at,
    close,
    fetch,
)
from tests.dbt.test_actions_points import expected_points, total_now

pytestmark = pytest.mark.slow

# (all, decided on time, decided late, safe, undecided, complaints)
CLASSES = {
    X1: (45, 13, 13, 13, 6, 0),
    C1: (7, 2, 2, 1, 2, 1),
    C2: (5, 2, 1, 1, 1, 0),
    SO: (12, 4, 3, 2, 3, 1),
    P: (57, 17, 16, 15, 9, 1),
    X3: (0, 0, 0, 0, 0, 0),
}

# the ends worked out from CLASSES (rate, 2.1 points, 5.3 points at the low and the high end)
ENDS = {
    X1: (F(26, 45), F(32, 45), F(104, 9), F(128, 9), F(104, 27), F(128, 27)),
    #    (13+13)/45, (13+13+6)/45; 20·26/45, 20·32/45; 6·(26/45)/0.9, 6·(32/45)/0.9
    C1: (F(3, 7), F(5, 7), F(60, 7), F(100, 7), F(40, 21), F(80, 21)),
    #    (2+1)/7, (2+1+2)/7; 5.3: 6·(3/7 - 1/7)/0.9, 6·(5/7 - 1/7)/0.9
    C2: (F(3, 5), F(4, 5), F(12), F(16), F(4), F(16, 3)),
    #    6·0.6/0.9 = 4, 6·0.8/0.9
    SO: (F(6, 12), F(9, 12), F(10), F(15), F(25, 9), F(40, 9)),
    #    5.3: 6·(6/12 - 1/12)/0.9, 6·(9/12 - 1/12)/0.9
    P: (F(32, 57), F(41, 57), F(640, 57), F(820, 57), F(620, 171), F(800, 171)),
    #   5.3: 6·(31/57)/0.9, 6·(40/57)/0.9
    X3: (None, None, F(20), F(20), F(0), F(0)),
    #    no dossiers: 2.1 full marks (denominator 0), 5.3 zero, at both ends
}


def test_the_ends_follow_the_classes():
    """ENDS is CLASSES put through §11's formulas (a check on the hand arithmetic above)."""
    for unit, (n, on_time, _late, safe, undecided, complaints) in CLASSES.items():
        if n == 0:
            continue
        low, high = F(on_time + safe, n), F(on_time + safe + undecided, n)

        def p53(rate):
            return min(F(6), 6 * max(F(0), rate - F(complaints, n)) / F(9, 10))

        assert ENDS[unit] == (low, high, 20 * low, 20 * high, p53(low), p53(high)), UNIT_NAMES[unit]


@pytest.mark.parametrize("unit", [X1, C1, C2, SO, P, X3], ids=lambda u: UNIT_NAMES[u])
def test_projection(actions_world, unit):
    row = fetch(
        actions_world,
        """
        select dossiers_all, decided_on_time, decided_late, safe, undecided, rate_2_1_min, rate_2_1_max,
               points_2_1_min, points_2_1_max, points_5_3_min, points_5_3_max,
               total_points_now, total_points_min, total_points_max
        from actions.act_projection where at_ts = %s and unit_code = %s""",
        (at(T), unit),
    )
    assert len(row) == 1
    got = row[0]
    assert tuple(got[:5]) == CLASSES[unit][:5]
    now = total_now(unit)
    today_2_1_5_3 = expected_points(unit, "2.1") + expected_points(unit, "5.3")
    rate_min, rate_max, p21_min, p21_max, p53_min, p53_max = ENDS[unit]
    expected = (
        rate_min,
        rate_max,
        p21_min,
        p21_max,
        p53_min,
        p53_max,
        now,
        now - today_2_1_5_3 + p21_min + p53_min,
        now - today_2_1_5_3 + p21_max + p53_max,
    )
    problems = [
        (column, float(want) if want is not None else None, have)
        for column, want, have in zip(
            [
                "rate_2_1_min",
                "rate_2_1_max",
                "points_2_1_min",
                "points_2_1_max",
                "points_5_3_min",
                "points_5_3_max",
                "total_points_now",
                "total_points_min",
                "total_points_max",
            ],
            expected,
            got[5:],
        )
        if not close(have, want)
    ]
    assert problems == [], UNIT_NAMES[unit]


def test_totals_by_hand():
    """The totals the projection test reads, spelled out for two units."""
    # C2: 100 less 3.3's 1.2, 4.1's 6 and 4.2's 0.8 = 92; ends: 92 - 20 - 6 + (12 + 4) = 82 and
    # 92 - 26 + 16 + 16/3 = 87 1/3
    assert total_now(C2) == 92
    # C1: lost 2.1 40/7, 1.4 2, 3.3 2, 4.1 2, 4.4 2, 5.3 6 - 80/21 = 46/21: 100 - 334/21
    assert total_now(C1) == F(2100 - 334, 21)


# the undecided dossiers, soonest due first (ties by dossier code), per viewing unit
UNDECIDED = {
    X1: [
        ("E8", X1, "16:00"),
        ("S3", X1, "16:00"),
        ("A1", X1, "16:30"),
        ("K1", X1, "17:00"),
        ("A2", X1, "18:00"),
        ("A3", X1, "2025-04-30 10:00"),
    ],
    C1: [("P4", C1, "17:00"), ("P6", C1, "2025-04-30 17:00")],
    C2: [("Q3", C2, "16:00")],
    SO: [("Q3", C2, "16:00"), ("P4", C1, "17:00"), ("P6", C1, "2025-04-30 17:00")],
    P: [
        ("E8", X1, "16:00"),
        ("Q3", C2, "16:00"),
        ("S3", X1, "16:00"),
        ("A1", X1, "16:30"),
        ("K1", X1, "17:00"),
        ("P4", C1, "17:00"),
        ("A2", X1, "18:00"),
        ("A3", X1, "2025-04-30 10:00"),
        ("P6", C1, "2025-04-30 17:00"),
    ],
    X3: [],
}


def _due(text):
    full = text if len(text) > 5 else f"2025-04-29 {text}"
    return at(full.replace(" ", "T") + ":00+07:00")


@pytest.mark.parametrize("unit", [X1, C1, C2, SO, P, X3], ids=lambda u: UNIT_NAMES[u])
def test_undecided_dossiers_soonest_due_first(actions_world, unit):
    got = fetch(
        actions_world,
        """
        select due_rank, dossier_code, row_unit_code, due_at from actions.act_undecided_dossiers
        where at_ts = %s and unit_code = %s order by due_rank""",
        (at(T), unit),
    )
    assert got == [(i + 1, code, row_unit, _due(due)) for i, (code, row_unit, due) in enumerate(UNDECIDED[unit])]
    assert len(got) == CLASSES[unit][4]
