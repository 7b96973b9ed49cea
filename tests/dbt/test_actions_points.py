"""Points at stake and the three things to do now (docs/acting-today.md, §11) on the crafted province of
tests/dbt/actions_world.py at T = Tue 29/4/2025 15:00: every metric's counts, points, lost
points, gain of one more numerator dossier and dossiers to the cap, worked out by hand.

Counting at T (April 2025 up to T; the world's docstring lists which dossier is what):
- received in April up to T (1.4, 3.3, 4.2, 4.4-4.6): X1 43 (its 50 records less R1/R5
  refused, E7/F3/G5/R4 from March, G6 after T); C1 6 (P1-P6); C2 5; SO 11; P 54.
- 2.1's scope: received in April up to T, or carried over open at 1/4: X1 43 + F3 + G5 = 45;
  C1 6 + P0 = 7; C2 5; SO 12; P 57. On time now (closed on time, waiting and asked in time, or
  open with the due time in force at or after T): X1 35 = 13 closed/waiting on time (S1, E1-E6,
  F1-F3, R2, R3, R6) + 22 open not yet due (A1-A9, S3, S5, S6, D1-D3, E8, G1-G5, K1; A9's due = T
  is in time, §6a's "NgayHenTra >= end" with the end at T, though L2 lists it and the projection
  decides it late); late: B1-B5, S2, S4, S7, K2, K3. C1 5 (P0, P1, P4, P5, P6); C2 5 (all: Q4
  asked before its due, Q5 open with two requests is in time now, §6a); SO 10; P 45.
- 5.3's numerator = on time - complained (P1's level-3 rating): X1 35, C1 4, C2 5, SO 9, P 44.
- resolved (9, 10) in April up to T with a document result (4.1): X1 6 (E1-E4, F1, F3), 4 with
  a file (E1-E4); C1 3 (P0, P1, P2), 2 with a file; C2 1 (Q1), none; SO 4, 2; P 10, 6.
- 4.2 (received in April, digitized, a file if resolved with a document result): X1 42 (all but
  F1), C1 6, C2 4 (not Q1), SO 10, P 52.
- 1.4 (a SUCCESS sync dated by T): X1 39 (not G1, G2, G3 synced after T, G4 in error), C1 4
  (not P4, P5), C2 5, SO 9, P 48.
- 3.3 online: X1 43 (all), C1 2 (P4, P5), C2 2 (Q1, Q2), SO 4, P 47.
- 4.4 reused: X1 43, C1 0, C2 4 (not Q5), SO 4, P 47. 4.5, 4.6: every received dossier.
Every other metric has nothing to count (denominator 0) and scores its max (§6a), 2.2 is worth 0.
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

pytestmark = pytest.mark.slow

MAX = {
    "1.1": 6,
    "1.2": 4,
    "1.3": 2,
    "1.4": 6,
    "2.1": 20,
    "2.2": 0,
    "3.1": 2,
    "3.2": 4,
    "3.3": 6,
    "3.4": 6,
    "3.5": 2,
    "3.6": 2,
    "4.1": 6,
    "4.2": 4,
    "4.3": 2,
    "4.4": 2,
    "4.5": 4,
    "4.6": 2,
    "4.7": 2,
    "5.1": 6,
    "5.2": 6,
    "5.3": 6,
}

# (numerator, denominator, points, gain of one more, dossiers to the cap) of the metrics that
# move; linear w·n/d gains w/d and needs d - n; capped min(w, w·r/c) (3.3: c 0.5, 4.4: c 0.8,
# 5.3: c 0.9) gains w/(c·d) while (n+1)/d <= c, the rest up to w when one more crosses c,
# 0 at or past the cap, and needs ceil(c·d) - n.
METRICS = {
    X1: {
        "1.4": (39, 43, F(6 * 39, 43), F(6, 43), 4),
        "2.1": (35, 45, F(20 * 35, 45), F(20, 45), 10),
        "3.3": (43, 43, F(6), F(0), 0),  # rate 1 > 0.5: past the cap
        "4.1": (4, 6, F(4), F(1), 2),
        "4.2": (42, 43, F(4 * 42, 43), F(4, 43), 1),
        "4.4": (43, 43, F(2), F(0), 0),  # past the cap
        "4.5": (43, 43, F(4), F(0), 0),
        "4.6": (43, 43, F(2), F(0), 0),
        "5.3": (35, 45, F(6 * 35, 45) / F(9, 10), F(6, 45) / F(9, 10), 6),  # 36/45 <= 0.9; ceil(40.5) - 35
    },
    C1: {
        "1.4": (4, 6, F(4), F(1), 2),
        "2.1": (5, 7, F(100, 7), F(20, 7), 2),
        "3.3": (2, 6, F(4), F(2), 1),  # below: 3/6 <= 0.5, 6/(0.5·6) = 2; ceil(3) - 2
        "4.1": (2, 3, F(4), F(2), 1),
        "4.2": (6, 6, F(4), F(0), 0),
        "4.4": (0, 6, F(0), F(2) / (F(4, 5) * 6), 5),  # below: 2/(0.8·6) = 5/12; ceil(4.8) - 0
        "4.5": (6, 6, F(4), F(0), 0),
        "4.6": (6, 6, F(2), F(0), 0),
        "5.3": (4, 7, F(6 * 4, 7) / F(9, 10), F(6, 7) / F(9, 10), 3),  # 80/21; gain 20/21; ceil(6.3) - 4
    },
    C2: {
        "1.4": (5, 5, F(6), F(0), 0),
        "2.1": (5, 5, F(20), F(0), 0),
        "3.3": (2, 5, F(24, 5), F(6) - F(24, 5), 1),  # crossing: 2/5 < 0.5 < 3/5: the rest, 1.2
        "4.1": (0, 1, F(0), F(6), 1),
        "4.2": (4, 5, F(16, 5), F(4, 5), 1),
        "4.4": (4, 5, F(2), F(0), 0),  # exactly at the cap: 4/5 = 0.8
        "4.5": (5, 5, F(4), F(0), 0),
        "4.6": (5, 5, F(2), F(0), 0),
        "5.3": (5, 5, F(6), F(0), 0),  # rate 1 >= 0.9
    },
    SO: {
        "1.4": (9, 11, F(54, 11), F(6, 11), 2),
        "2.1": (10, 12, F(50, 3), F(5, 3), 2),
        "3.3": (4, 11, F(48, 11), F(12, 11), 2),  # 5/11 <= 0.5: 6/(0.5·11); ceil(5.5) - 4
        "4.1": (2, 4, F(3), F(3, 2), 2),
        "4.2": (10, 11, F(40, 11), F(4, 11), 1),
        "4.4": (4, 11, F(10, 11), F(5, 22), 5),  # 2/(0.8·11); ceil(8.8) - 4
        "4.5": (11, 11, F(4), F(0), 0),
        "4.6": (11, 11, F(2), F(0), 0),
        "5.3": (9, 12, F(5), F(5, 9), 2),  # 6·0.75/0.9 = 5; 6/(0.9·12); ceil(10.8) - 9
    },
    P: {
        "1.4": (48, 54, F(16, 3), F(1, 9), 6),
        "2.1": (45, 57, F(900, 57), F(20, 57), 12),
        "3.3": (47, 54, F(6), F(0), 0),
        "4.1": (6, 10, F(18, 5), F(3, 5), 4),
        "4.2": (52, 54, F(104, 27), F(2, 27), 2),
        "4.4": (47, 54, F(2), F(0), 0),
        "4.5": (54, 54, F(4), F(0), 0),
        "4.6": (54, 54, F(2), F(0), 0),
        "5.3": (44, 57, F(6 * 44, 57) / F(9, 10), F(6, 57) / F(9, 10), 8),  # 880/171; ceil(51.3) - 44
    },
    X3: {},  # no dossiers: every metric full marks (denominator 0), 5.3 zero (§6a)
}


def expected_points(unit, metric):
    if metric in METRICS[unit]:
        return METRICS[unit][metric][2]
    if metric == "5.3" and unit == X3:
        return F(0)
    return F(MAX[metric])


def lost(unit):
    """Each metric's max less its points now."""
    return {m: F(MAX[m]) - expected_points(unit, m) for m in MAX}


def total_now(unit):
    return F(100) - sum(lost(unit).values())


def published(db):
    rows = fetch(
        db,
        """
        select unit_code, metric_code, numerator, denominator, applies, max_points, points, lost_points,
               gain_one_more, dossiers_to_cap
        from actions.act_points_at_stake where at_ts = %s""",
        (at(T),),
    )
    return {(r[0], r[1]): r[2:] for r in rows}


def test_one_row_per_unit_and_metric(actions_world):
    got = published(actions_world)
    assert set(got) == {(u, m) for u in (P, X1, SO, C1, C2, X3) for m in MAX}


@pytest.mark.parametrize("unit", [X1, C1, C2, SO, P], ids=lambda u: UNIT_NAMES[u])
def test_metrics_that_move(actions_world, unit):
    got = published(actions_world)
    problems = []
    for metric, (n, d, points, gain, to_cap) in METRICS[unit].items():
        row = got[(unit, metric)]
        have = dict(zip(["numerator", "denominator", "applies", "max", "points", "lost", "gain", "to_cap"], row))
        want = {
            "numerator": n,
            "denominator": d,
            "applies": True,
            "max": MAX[metric],
            "points": points,
            "lost": MAX[metric] - points,
            "gain": gain,
            "to_cap": to_cap,
        }
        for key, value in want.items():
            ok = close(have[key], value) if key in ("points", "lost", "gain") else have[key] == value
            if not ok:
                problems.append(f"{UNIT_NAMES[unit]} {metric} {key}: expected {value}, got {have[key]}")
    assert problems == []


@pytest.mark.parametrize("unit", [X1, C1, C2, SO, P, X3], ids=lambda u: UNIT_NAMES[u])
def test_other_metrics_full_marks_nothing_to_gain(actions_world, unit):
    """Nothing counted: full marks (2.2: 0 of 0); X3 (no dossiers): every metric so, but 5.3 is
    0 (§6a's empty rule) and, with no dossier to add, gains nothing."""
    got = published(actions_world)
    for metric in MAX:
        if metric in METRICS[unit]:
            continue
        _n, d, applies, max_points, points, lost_points, gain, to_cap = got[(unit, metric)]
        want = expected_points(unit, metric)
        assert (close(points, want), close(lost_points, MAX[metric] - want), close(gain, 0), to_cap) == (
            True,
            True,
            True,
            0,
        ), (UNIT_NAMES[unit], metric, got[(unit, metric)])
        if unit == X3:
            assert (d, applies) == (0, False), (metric, got[(unit, metric)])


def test_total_of_the_empty_unit(actions_world):
    """X3: 100 less 5.3's 6 = 94."""
    assert total_now(X3) == 94
    got = fetch(
        actions_world,
        "select sum(points) from actions.act_points_at_stake where at_ts = %s and unit_code = %s",
        (at(T), X3),
    )
    assert close(got[0][0], 94)


# The three things (§11): pairs (2.1, L1), (4.1, L5), (4.2, L5), (1.4, L6); points at stake:
# (2.1, L1) the loss if every L1 row turned late = rows x 20/d (linear); the others the gain if
# every row were fixed = rows x w/d, linear so no cap binds. (4.2, L5) counts only L5 rows
# received in April and digitized (F1, Q1). Most points first, ties: lower metric id first.
THREE_THINGS = {
    X1: [
        ("2.1", "sap_den_han", F(10 * 20, 45), 10),  # 40/9
        ("4.1", "thieu_ket_qua_dien_tu", F(2 * 6, 6), 2),  # 2
        ("1.4", "chua_dong_bo", F(3 * 6, 43), 3),
    ],  # 18/43; (4.2, L5) 4/43 is fourth
    C1: [
        ("2.1", "sap_den_han", F(2 * 20, 7), 2),  # 40/7
        ("1.4", "chua_dong_bo", F(2 * 6, 6), 2),  # 2 ... ties with
        ("4.1", "thieu_ket_qua_dien_tu", F(1 * 6, 3), 1),
    ],  # 2: 1.4 first; (4.2, L5): no row (P0 from March)
    C2: [
        ("4.1", "thieu_ket_qua_dien_tu", F(6, 1), 1),  # 6
        ("2.1", "sap_den_han", F(20, 5), 1),  # 4
        ("4.2", "thieu_ket_qua_dien_tu", F(4, 5), 1),
    ],  # 0.8; no L6 row
    SO: [
        ("2.1", "sap_den_han", F(3 * 20, 12), 3),  # 5
        ("4.1", "thieu_ket_qua_dien_tu", F(2 * 6, 4), 2),  # 3
        ("1.4", "chua_dong_bo", F(2 * 6, 11), 2),
    ],  # 12/11; (4.2, L5) 4/11 fourth
    P: [
        ("2.1", "sap_den_han", F(13 * 20, 57), 13),  # 260/57
        ("4.1", "thieu_ket_qua_dien_tu", F(4 * 6, 10), 4),  # 2.4
        ("1.4", "chua_dong_bo", F(5 * 6, 54), 5),
    ],  # 5/9; (4.2, L5) 2 x 4/54 fourth
    X3: [],
}


@pytest.mark.parametrize("unit", [X1, C1, C2, SO, P, X3], ids=lambda u: UNIT_NAMES[u])
def test_three_things(actions_world, unit):
    got = fetch(
        actions_world,
        """
        select rank, metric_code, list_name, points_at_stake, row_count from actions.act_three_things
        where at_ts = %s and unit_code = %s order by rank""",
        (at(T), unit),
    )
    expected = THREE_THINGS[unit]
    assert [(r[0], r[1], r[2], r[4]) for r in got] == [(i + 1, m, lst, n) for i, (m, lst, _, n) in enumerate(expected)]
    assert all(close(r[3], e[2]) for r, e in zip(got, expected)), got


def test_unit_summary_counts(actions_world):
    """act_unit_summary: one count per list (L2 also without a letter), the points now and lost."""
    got = {
        r[0]: r[1:]
        for r in fetch(
            actions_world,
            """
        select unit_code, n_sap_den_han, n_qua_han, n_qua_han_chua_xin_loi, n_buoc_qua_han, n_chua_tra_ket_qua,
               n_thieu_ket_qua_dien_tu, n_chua_dong_bo, n_thieu_ly_do, total_points_now, lost_points_total
        from actions.act_unit_summary where at_ts = %s""",
            (at(T),),
        )
    }
    counts = {  # from the rows of test_actions_lists.py; letters: B2 (X1) and P3 (C1)
        X1: (10, 11, 10, 2, 3, 2, 3, 3),
        C1: (2, 1, 0, 1, 0, 1, 2, 0),
        C2: (1, 1, 1, 0, 0, 1, 0, 0),
        SO: (3, 2, 1, 1, 0, 2, 2, 0),
        P: (13, 13, 11, 3, 3, 4, 5, 3),
        X3: (0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert {u: tuple(v[:8]) for u, v in got.items()} == counts
    for unit, row in got.items():
        assert close(row[8], total_now(unit)), (UNIT_NAMES[unit], row[8], float(total_now(unit)))
        assert close(row[9], 100 - total_now(unit)), (UNIT_NAMES[unit], row[9])
