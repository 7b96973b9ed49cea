"""Today's lists (docs/acting-today.md, §11, L1-L7) on the crafted province of tests/dbt/actions_world.py,
one dbt build for every moment, every row of act_list_rows at T checked against figures worked
out by hand (working hours: windows 07:00-11:30 and 13:30-17:00; see the world's docstring for
the calendar around T = Tue 29/4/2025 15:00).
"""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction as F

import pytest

from tests.dbt.actions_world import (
    C1,
    C2,
    DOSSIERS,
    SO,
    T_EARLY,
    T_EVENING,
    T_HOLIDAY,
    T_LUNCH,
    T_SATURDAY,
    UNIT_NAMES,
    X1,
    P,
    T,
    actions_world,
    at,
    close,
    fetch,
)

pytestmark = pytest.mark.slow

L1, L2, L3, L4, L5, L6, L7 = (
    "sap_den_han",
    "qua_han",
    "buoc_qua_han",
    "chua_tra_ket_qua",
    "thieu_ket_qua_dien_tu",
    "chua_dong_bo",
    "thieu_ly_do",
)

# the viewing units that hold a row of each unit: itself and its ancestors
VIEWERS = {X1: [X1, P], C1: [C1, SO, P], C2: [C2, SO, P]}

# hand counts (see test_actions_points.py for each): 2.1's in-scope dossiers and the dossiers
# received in April up to T (1.4's denominator), per viewing unit
D21 = {X1: 45, C1: 7, C2: 5, SO: 12, P: 57}
D14 = {X1: 43, C1: 6, SO: 11, P: 54}

NO_STEP = (None, None, None)

# (list, dossier, row unit, figure, has apology letter, current step (number, unit, department))
# figures in working hours from T = Tue 29/4 15:00 (2 h left today; Mon 5/5 the next working day)
ROWS_AT_T = [
    (L1, "A1", X1, F(3, 2), None, NO_STEP),  # 15:00 -> 16:30
    (L1, "A2", X1, F(2), None, NO_STEP),  # due 18:00 counts as 17:00: 2 h
    (L1, "A3", X1, F(2), None, NO_STEP),  # due Wed 30/4 10:00, a holiday: 2 h + 0
    (L1, "A4", X1, F(4), None, NO_STEP),  # 2 + (30/4, 1/5, 2/5 off, 3-4/5 weekend) 0 + Mon 07:00-09:00 2
    (L1, "A5", X1, F(13, 2), None, NO_STEP),  # 2 + Mon 07:00-11:30 4.5 (due 12:00 at lunch = 11:30)
    (L1, "A6", X1, F(8), None, NO_STEP),  # 2 + 4.5 + 13:30-15:00 1.5 = 8 = H: on the list
    (L1, "A8", X1, F(2), None, NO_STEP),  # due Mon 5/5 06:00, before 07:00: as Tue 17:00, 2 h
    (L1, "S3", X1, F(1), None, NO_STEP),  # due moved by the completed request to 16:00: 1 h
    (L1, "E8", X1, F(1), None, NO_STEP),  # ended 15:30, after T: open at T, due 16:00: 1 h
    (L1, "K1", X1, F(2), None, NO_STEP),  # received Mon 18:00, 8 h from Tue 07:00 -> 17:00: 2 h
    (L1, "P4", C1, F(2), None, NO_STEP),  # due 17:00: 2 h
    (L1, "P6", C1, F(2), None, NO_STEP),  # due Wed 30/4 17:00 (holiday): 2 h
    (L1, "Q3", C2, F(1), None, NO_STEP),  # due 16:00: 1 h
    (L2, "A9", X1, F(0), False, NO_STEP),  # due = T: overdue (due <= T), 0 h
    (L2, "B1", X1, F(23), False, (1, X1, "Phòng Kinh tế")),  # Fri 16:00: 1 + Sat(make-up) 8 + Mon 8 + Tue 6
    (L2, "B2", X1, F(19, 2), True, NO_STEP),  # Mon 12:00 (= 13:30): 3.5 + Tue 6; letter Mon 14:00
    (L2, "B3", X1, F(6), False, NO_STEP),  # Mon 19:00 (= Tue 07:00): Tue 6; letter dated after T
    (L2, "B4", X1, F(6), False, NO_STEP),  # Tue 06:30 (= 07:00): 6
    (L2, "B5", X1, F(135), False, NO_STEP),  # Fri 4/4 16:00: 1 + 16 days x 8 (7/4 holiday, 26/4 worked) + 6
    (L2, "S4", X1, F(54), False, NO_STEP),  # due in force Mon 21/4 17:00: 22-26/4, 28/4 = 6 x 8 + Tue 6
    (L2, "S5", X1, F(0), False, NO_STEP),  # two requests, due ahead: late by the supplements rule, 0
    (L2, "S6", X1, F(0), False, NO_STEP),  # two requests (second pending), due ahead: 0
    (L2, "K2", X1, F(2), False, NO_STEP),  # derived due Tue 11:00: 11:00-11:30 0.5 + 13:30-15:00 1.5
    (L2, "K3", X1, F(3, 2), False, NO_STEP),  # derived due Tue 11:30: 13:30-15:00 1.5
    (L2, "P3", C1, F(6), True, NO_STEP),  # Mon 17:00 -> Tue 6; letter Mon 17:30
    (L2, "Q5", C2, F(0), False, NO_STEP),  # two requests, due 9/5: 0
    (L3, "B1", X1, F(30), None, (1, X1, "Phòng Kinh tế")),  # step due Thu 24/4 17:00: Fri 8 + Sat 8 + Mon 8 + Tue 6
    (L3, "D1", C1, F(22), None, (2, C1, "Phòng Đăng ký đất đai")),  # C1's step due Fri 25/4 17:00: 8 + 8 + 6
    (L3, "D2", X1, F(19, 2), None, (1, X1, "Bộ phận một cửa")),  # step 2 starts after T; step 1 due Mon 12:00: 3.5 + 6
    (L4, "E1", X1, F(16), None, NO_STEP),  # ready Sat 26/4 15:00: Sat 2 + Mon 8 + Tue 6 = 16 = R: on
    (L4, "E3", X1, F(27), None, NO_STEP),  # ready Fri 25/4 10:00, handed back after T: 5 + 8 + 8 + 6
    (L4, "E7", X1, F(171), None, NO_STEP),  # ready Mon 31/3 10:00: 5 + 20 days x 8 + 6
    (L5, "F1", X1, None, None, NO_STEP),
    (L5, "F3", X1, None, None, NO_STEP),
    (L5, "P0", C1, None, None, NO_STEP),
    (L5, "Q1", C2, None, None, NO_STEP),
    (L6, "G1", X1, None, None, NO_STEP),  # received 24 h 1 min before T
    (L6, "G3", X1, None, None, NO_STEP),  # synced after T
    (L6, "G4", X1, None, None, NO_STEP),  # sync ERROR
    (L6, "P4", C1, None, None, NO_STEP),
    (L6, "P5", C1, None, None, NO_STEP),
    (L7, "R1", X1, None, None, NO_STEP),  # refused at intake, no reason
    (L7, "R2", X1, None, None, NO_STEP),  # withdrawn, blank reason
    (L7, "R6", X1, None, None, NO_STEP),  # stopped, empty reason
]

# the points a row's fix moves, in the VIEWING unit's metric (§11):
# L1: 2.1 loses 20/d if the dossier turns late (linear, 20 points, d in-scope dossiers);
# L6: 1.4 gains 6/d (d received in April); L5: 4.1 gains 6/d (d resolved in April with a
# document result: X1 6, C1 3, C2 1, SO 4, P 10) plus 4.2's 4/d (d received in April) when the
# dossier counts in 4.2 (received in April, digitized: F1 and Q1; F3 and P0 came in March)
L5_GAINS = {
    ("F1", X1): F(6, 6) + F(4, 43),
    ("F1", P): F(6, 10) + F(4, 54),
    ("F3", X1): F(6, 6),
    ("F3", P): F(6, 10),
    ("P0", C1): F(6, 3),
    ("P0", SO): F(6, 4),
    ("P0", P): F(6, 10),
    ("Q1", C2): F(6, 1) + F(4, 5),
    ("Q1", SO): F(6, 4) + F(4, 11),
    ("Q1", P): F(6, 10) + F(4, 54),
}


def gain(list_name, dossier, viewer):
    if list_name == L1:
        return F(20, D21[viewer])
    if list_name == L6:
        return F(6, D14[viewer])
    if list_name == L5:
        return L5_GAINS[(dossier, viewer)]
    return None


# the due time in force at T: NgayHenTra, except S4 (a completion after T: the request's
# NgayHenTraTruoc), the derived dues of K1-K3 (§4/§5) and R1 (refused: none)
SOURCE = {d["MaHoSo"].strip(): d for d in DOSSIERS}
DUE_OVERRIDES = {
    "S4": "2025-04-21 17:00",
    "K1": "2025-04-29 17:00",
    "K2": "2025-04-29 11:00",
    "K3": "2025-04-29 11:30",
    "R1": None,
}


def local(text):
    return None if text is None else at(datetime.strptime(text, "%Y-%m-%d %H:%M").strftime("%Y-%m-%dT%H:%M:00+07:00"))


def source_time(raw):
    """A one-stop local time 'yyyyMMddHHmmss' as an instant."""
    return at(datetime.strptime(raw, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%S+07:00"))


def due_at_t(code):
    if code in DUE_OVERRIDES:
        return local(DUE_OVERRIDES[code])
    return source_time(SOURCE[code]["NgayHenTra"])


def expected_rows():
    rows = {}
    for list_name, code, row_unit, figure, letter, step in ROWS_AT_T:
        for viewer in VIEWERS[row_unit]:
            g = gain(list_name, code, viewer)
            value = g if list_name in (L5, L6) else figure
            handling = SOURCE[code]["MaDinhDanhDonVi"]  # the dossier's unit, also for L3
            rows[(viewer, list_name, code)] = {
                "row_unit_code": row_unit,
                "handling_unit_code": handling,
                "status": SOURCE[code]["TrangThaiHoSo"],
                "due_at": due_at_t(code),
                "received_at": source_time(SOURCE[code]["NgayTiepNhan"]),
                "procedure_code": SOURCE[code]["MaTTHC"],
                "field_code": "DD",
                "channel": SOURCE[code]["KenhThucHien"],
                "list_value": value,
                "has_apology_letter": letter,
                "points_gain": g,
                "current_step": step,
            }
    return rows


def published_rows(db, moment):
    got = fetch(
        db,
        """
        select unit_code, list_name, dossier_code, row_unit_code, handling_unit_code, status, due_at,
               list_value, has_apology_letter, points_gain,
               current_step_number, current_step_unit_code, current_step_department,
               received_at, procedure_code, field_code, channel
        from actions.act_list_rows where at_ts = %s""",
        (at(moment),),
    )
    return {
        (r[0], r[1], r[2]): {
            "row_unit_code": r[3],
            "handling_unit_code": r[4],
            "status": r[5],
            "due_at": r[6],
            "list_value": r[7],
            "has_apology_letter": r[8],
            "points_gain": r[9],
            "current_step": (r[10], r[11], r[12]),
            "received_at": r[13],
            "procedure_code": r[14],
            "field_code": r[15],
            "channel": r[16],
        }
        for r in got
    }


def name(key):
    return (UNIT_NAMES[key[0]], *key[1:])


def differences(got, expected):
    problems = [f"missing {name(k)}" for k in sorted(expected.keys() - got.keys())]
    problems += [f"unexpected {name(k)}: {got[k]}" for k in sorted(got.keys() - expected.keys())]
    for key in sorted(expected.keys() & got.keys()):
        for column, want in expected[key].items():
            have = got[key][column]
            same = close(have, want) if column in ("list_value", "points_gain") else have == want
            if not same:
                problems.append(f"{name(key)} {column}: expected {want}, got {have}")
    return problems


def test_every_row_of_every_list_at_t(actions_world):
    """The whole of act_list_rows at T, per viewing unit: membership, figures, letters, gains,
    steps, due times in force; X3 (no dossiers) has no row."""
    assert differences(published_rows(actions_world, T), expected_rows()) == []


def test_rows_pool_to_every_ancestor_and_steps_belong_to_the_step_unit(actions_world):
    """A row appears once per ancestor; L3's row of X1's dossier D1 is C1's (the step's unit),
    not X1's; D2's step 2 at C2 started after T, so C2 holds nothing of it."""
    counts = dict(
        fetch(
            actions_world,
            """
        select unit_code, count(*) from actions.act_list_rows where at_ts = %s group by 1""",
            (at(T),),
        )
    )
    # X1: L1 10 + L2 11 + L3 2 + L4 3 + L5 2 + L6 3 + L7 3 = 34; C1: 2 + 1 + 1 + 1 + 2 = 7;
    # C2: 1 + 1 + 1 = 3; SO = C1 + C2 = 10; P = X1 + SO = 44; X3: none
    assert counts == {X1: 34, C1: 7, C2: 3, SO: 10, P: 44}
    d1 = fetch(
        actions_world,
        """
        select unit_code, row_unit_code, handling_unit_code from actions.act_list_rows
        where at_ts = %s and dossier_code = 'D1' order by unit_code""",
        (at(T),),
    )
    assert sorted(d1) == sorted([(C1, C1, X1), (SO, C1, X1), (P, C1, X1)])


def test_handler_names_only_in_the_named_table(actions_world):
    """act_list_rows has no handler column; act_list_rows_named names the current step's handler."""
    columns = {
        r[0]
        for r in fetch(
            actions_world,
            """
        select column_name from information_schema.columns
        where table_schema = 'actions' and table_name = 'act_list_rows'""",
        )
    }
    assert not columns & {"handler_name", "nguoi_xu_ly", "applicant_name"}
    named = fetch(
        actions_world,
        """
        select list_name, dossier_code, handler_name from actions.act_list_rows_named
        where at_ts = %s and unit_code = %s and handler_name is not null order by 1, 2""",
        (at(T), X1),
    )
    assert named == sorted([(L2, "B1", "Cán bộ A"), (L3, "B1", "Cán bộ A"), (L3, "D2", "Cán bộ A")])


# Other moments: the figures of a few dossiers where T itself sits on a working-time edge.
# {moment: (viewing unit, dossiers looked at, {(list, dossier): figure})}
PROBES = {
    T_LUNCH: (
        X1,
        ["A1", "A6", "A9", "B4", "K2"],
        {  # Tue 12:00 counts as 11:30
            (L1, "A1"): F(3),  # 13:30 -> 16:30
            (L1, "A9"): F(3, 2),  # 13:30 -> 15:00
            (L2, "B4"): F(9, 2),  # due 06:30 (= 07:00) -> 11:30
            (L2, "K2"): F(1, 2),  # due 11:00 -> 11:30
            # A6: 13:30-17:00 3.5 + Mon 5/5 6 = 9.5 > H: on no list
        },
    ),
    T_EARLY: (
        X1,
        ["A1", "A9", "B2", "B4", "K1"],
        {  # Tue 06:00 counts as 07:00
            (L1, "A1"): F(15, 2),  # 07:00-11:30 4.5 + 13:30-16:30 3
            (L1, "A9"): F(6),  # 4.5 + 13:30-15:00 1.5
            (L1, "B4"): F(0),  # due 06:30 > T, no working time between: 0 h left
            (L1, "K1"): F(8),  # derived due 17:00: 8 = H
            (L2, "B2"): F(7, 2),  # due Mon 12:00 -> Mon 13:30-17:00
        },
    ),
    T_EVENING: (
        X1,
        ["A1", "B2", "B3", "K3"],
        {  # Mon 18:00 counts as 17:00
            (L1, "A1"): F(15, 2),  # Tue 07:00-11:30 4.5 + 13:30-16:30 3
            (L1, "B3"): F(0),  # due Mon 19:00 > T: 0 h left
            (L1, "K3"): F(9, 2),  # derived due Tue 11:30: 07:00-11:30
            (L2, "B2"): F(7, 2),  # Mon 12:00 -> 17:00: 3.5
        },
    ),
    T_HOLIDAY: (
        X1,
        ["A1", "A3", "A4", "A6", "A7"],
        {  # Wed 30/4 10:00, a holiday: counts as Tue 17:00
            (L1, "A4"): F(2),  # -> Mon 5/5 09:00
            (L1, "A6"): F(6),  # -> Mon 5/5 15:00: 4.5 + 1.5
            (L1, "A7"): F(6) + F(1, 60),  # -> Mon 5/5 15:01
            (L2, "A1"): F(1, 2),  # due Tue 16:30 -> 17:00
            (L2, "A3"): F(0),  # due Wed 10:00 = T
        },
    ),
    T_SATURDAY: (
        X1,
        ["B1", "B2", "E1"],
        {  # Sat 26/4 10:00, a make-up working Saturday
            (L2, "B1"): F(4),  # Fri 16:00 -> 17:00 1 + Sat 07:00-10:00 3
            (L3, "B1"): F(11),  # its step, due Thu 24/4 17:00: Fri 8 + Sat 3
            # B2 (due Mon 28/4 12:00): Sat 1.5 + 3.5 + Mon 4.5 = 9.5 > H; E1 (ended Sat 15:00, due
            # Mon 17:00): open at T, 13 h left: on no list
        },
    ),
}


@pytest.mark.parametrize("moment", list(PROBES), ids=["lunch", "before_07", "after_17", "holiday", "make_up_saturday"])
def test_figures_when_t_is_on_a_working_time_edge(actions_world, moment):
    unit, dossiers, expected = PROBES[moment]
    got = {
        (r[0], r[1]): r[2]
        for r in fetch(
            actions_world,
            """
        select list_name, dossier_code, list_value from actions.act_list_rows
        where at_ts = %s and unit_code = %s and dossier_code = any(%s)
          and list_name in ('sap_den_han', 'qua_han', 'buoc_qua_han')""",
            (at(moment), unit, dossiers),
        )
    }
    assert got.keys() == expected.keys()
    assert all(close(got[k], v) for k, v in expected.items()), got


def test_a_step_overdue_on_the_make_up_saturday(actions_world):
    """D1's step at C1, due Fri 25/4 17:00, at Sat 26/4 10:00: Sat 07:00-10:00 = 3 h (0 if the
    make-up Saturday were skipped)."""
    got = fetch(
        actions_world,
        """
        select unit_code, list_value from actions.act_list_rows
        where at_ts = %s and list_name = 'buoc_qua_han' and dossier_code = 'D1'""",
        (at(T_SATURDAY),),
    )
    assert sorted(u for u, _ in got) == sorted([C1, SO, P])
    assert all(close(v, F(3)) for _, v in got)


def test_refresh_row_per_moment(actions_world):
    got = fetch(
        actions_world,
        """
        select at_ts, period_key, period_start_ts, period_end_ts, due_soon_hours, not_returned_hours,
               unsynced_hours from actions.act_refresh where at_ts = %s""",
        (at(T),),
    )
    assert got == [(at(T), "2025-04", at("2025-04-01T00:00:00+07:00"), at("2025-05-01T00:00:00+07:00"), 8, 16, 24)]
