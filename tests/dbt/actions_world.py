"""One small crafted province for the "act today" tests (docs/acting-today.md, §11), built once per test
worker and shared by tests/dbt/test_actions_lists.py, test_actions_points.py and
test_actions_projection.py. Every expected number in those files is worked out by hand from
the records below; the comments here say what each record is for.

Calendar (the holiday seed, April-May 2025): Mon 7/4 HOLIDAY, Sat 26/4 WORKDAY (a make-up
Saturday: 8 working hours), Wed 30/4 and Thu 1/5 HOLIDAY, Fri 2/5 DAY_OFF, Sat 3/5 and Sun 4/5
weekend. Working windows 07:00-11:30 and 13:30-17:00 (8 h a day).

The main moment is T = Tue 29/4/2025 15:00 (+07:00): the current period is April 2025
([1/4 00:00, 1/5 00:00)). From T, the working hours left today are 15:00-17:00 = 2 h; the next
working day after Tue 29/4 is Mon 5/5. Before T on Tuesday: 07:00-11:30 + 13:30-15:00 = 6 h.
The other moments (PROBE_MOMENTS) put T at lunch, before 07:00, after 17:00, on a holiday and
on the make-up Saturday; only a few named dossiers are checked there.

Units (all valid throughout):
    P  province (TINH)
    ├─ X1  commune: the list world (one dossier per list edge)
    ├─ SO  department, no dossiers of its own, pools C1 and C2
    │   ├─ C1  branch: a tiny projection world (P0-P6) and the step of X1's liên thông dossier D1
    │   └─ C2  branch: a tiny projection world (Q1-Q5)
    └─ X3  commune without dossiers

Defaults of every dossier here (`_dossier`), so that only the metrics a case is about move:
online (channel 2), a citizen authenticated with VNeID, one component digitized (DuocSoHoa)
and taken from the personal data store, HoSoCoThanhPhanSoHoa = 1 (4.4), a result file, a
SUCCESS sync one hour after receipt, no fee, no apology letter, no feedback. With no offered
TTHC, online services, fees or feedback, the metrics 1.1-1.3 (not applicable below the
province; nothing published in the period), 3.1, 3.2, 3.4-3.6, 4.3, 4.7, 5.1 and 5.2 score full
marks everywhere (denominator 0, §6a), and 2.2 is worth 0.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import psycopg
import pytest

from tests.conftest import scratch_database
from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import dossier, iso, load_raw, procedure, rating, step, supplement, sync, ts, unit

P, X1, SO, C1, C2, X3 = (
    "000.00.00.H95",
    "000.01.00.H95",
    "000.00.10.H95",
    "000.00.11.H95",
    "000.00.12.H95",
    "000.03.00.H95",
)
UNIT_NAMES = {P: "P", X1: "X1", SO: "SO", C1: "C1", C2: "C2", X3: "X3"}

T = "2025-04-29T15:00:00+07:00"
T_LUNCH = "2025-04-29T12:00:00+07:00"
T_EARLY = "2025-04-29T06:00:00+07:00"  # before 07:00
T_EVENING = "2025-04-28T18:00:00+07:00"  # Mon, after 17:00
T_HOLIDAY = "2025-04-30T10:00:00+07:00"  # Wed 30/4, a public holiday
T_SATURDAY = "2025-04-26T10:00:00+07:00"  # Sat 26/4, a make-up working Saturday
PROBE_MOMENTS = [T_LUNCH, T_EARLY, T_EVENING, T_HOLIDAY, T_SATURDAY]
MOMENTS = [T, *PROBE_MOMENTS]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


UNITS = [
    unit(P, "UBND tỉnh Hành", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(SO, "Sở Tài nguyên", "SO", parent=P),
    unit(C1, "Chi nhánh Một", "CHI_NHANH", parent=SO),
    unit(C2, "Chi nhánh Hai", "CHI_NHANH", parent=SO),
    unit(X3, "UBND xã Ba", "XA", parent=P),
]

DOC, NOT_DOC, ONE_DAY, FOUR_HOURS = "1.000001", "1.000002", "1.000008", "1.000004"
PROCEDURES = [
    procedure(DOC, limit=10),  # result is a document
    procedure(NOT_DOC, limit=10, result_is_document=False),  # result is not a document
    procedure(ONE_DAY, limit=1),  # 1 working day = 8 working hours
    procedure(FOUR_HOURS, limit=4, limit_unit="GIO"),  # 4 working hours
]

RESULT_FILE = [{"MaGiayToKetQua": "KQ1", "TenGiayTo": "Giấy chứng nhận", "DuongDanTepTinKetQua": "/files/kq.pdf"}]
NO_SYNC = object()


def _dossier(
    code,
    unit_code,
    received,
    due=None,
    *,
    result_file=True,
    reused=1,
    letters=(),
    synced_at: str | None | object = "default",
    sync_result="SUCCESS",
    **kw,
):
    """A dossier with this world's defaults (see the module docstring) and its sync record."""
    record = dossier(code, unit_code, received, due=due, **kw)
    record["HoSoCoThanhPhanSoHoa"] = reused
    record["TaiLieuNop"][0]["DuocLayTuKhoDMQG"] = 1
    record["DanhSachGiayToKetQua"] = list(RESULT_FILE) if result_file else []
    record["PhieuXinLoi"] = [
        {"NgayXinLoi": ts(day), "NgayHenTraMoi": ts("2025-05-09 17:00"), "LyDo": "Chậm do xác minh"} for day in letters
    ]
    if synced_at == "default":
        synced_at = (datetime.strptime(received, "%Y-%m-%d %H:%M") + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    sync_record = None
    if synced_at is not NO_SYNC:
        sync_record = sync(code, unit_code, received, result=sync_result)
        sync_record["syncedAt"] = sync_record["updatedAt"] = iso(synced_at)
    return record, sync_record


def _steps(code, *specs):
    """Process-log rows: (number, unit, started, deadline, department)."""
    rows = []
    for number, unit_code, started, deadline, department in specs:
        row = step(code, number, unit_code, processed=started, due=deadline, started=started)
        row["PhongBanXuLy"] = department
        rows.append(row)
    return rows


# --- X1: the list world. Comments: lists at T (figure), then 2.1 now / projection class. ----
X1_CASES = [
    # L1 due soon: working hours from T to the due time, H = 8
    _dossier("A1", X1, "2025-04-21 09:00", "2025-04-29 16:30"),  # L1 1.50 (15:00->16:30); undecided
    _dossier("A2", X1, "2025-04-21 09:00", "2025-04-29 18:00"),  # L1 2.00 (after 17:00 = 17:00); undecided
    _dossier("A3", X1, "2025-04-21 09:00", "2025-04-30 10:00"),  # L1 2.00 (Wed 30/4 holiday adds 0); undecided
    _dossier("A4", X1, "2025-04-22 09:00", "2025-05-05 09:00"),  # L1 4.00 = 2 + (30/4, 1/5, 2/5, weekend) 0 + 2; safe
    _dossier("A5", X1, "2025-04-22 09:00", "2025-05-05 12:00"),  # L1 6.50 = 2 + 4.5 (lunch = 11:30); safe
    _dossier("A6", X1, "2025-04-22 09:00", "2025-05-05 15:00"),  # L1 8.00 = 2 + 4.5 + 1.5: H exactly, on; safe
    _dossier("A7", X1, "2025-04-22 09:00", "2025-05-05 15:01"),  # 8 + 1/60 > H: on no list; safe
    _dossier("A8", X1, "2025-04-22 09:00", "2025-05-05 06:00"),  # L1 2.00 (before 07:00 = Fri's end); safe
    _dossier(
        "A9", X1, "2025-04-22 09:00", "2025-04-29 15:00"
    ),  # due = T: L2 0.00, not L1; in time now (§6a: due >= end); decided late
    # L2 overdue: working hours from the due time to T
    _dossier(
        "B1", X1, "2025-04-14 09:00", "2025-04-25 16:00"
    ),  # L2 23.00 = Fri 1 + Sat(make-up) 8 + Mon 8 + Tue 6; no letter
    _dossier(
        "B2", X1, "2025-04-14 09:00", "2025-04-28 12:00", letters=["2025-04-28 14:00"]
    ),  # L2 9.50 = Mon 13:30-17:00 3.5 + Tue 6; letter before T
    _dossier(
        "B3", X1, "2025-04-14 09:00", "2025-04-28 19:00", letters=["2025-04-29 16:00"]
    ),  # L2 6.00 (after 17:00); letter dated after T: none at T
    _dossier("B4", X1, "2025-04-14 09:00", "2025-04-29 06:30"),  # L2 6.00 (before 07:00)
    _dossier("B5", X1, "2025-04-01 08:00", "2025-04-04 16:00"),  # L2 135.00 = Fri 1 + 16 days x 8 (Mon 7/4 holiday
    #   skipped, Sat 26/4 counted) + Tue 6
    # supplements (§5, §11)
    _dossier(
        "S1",
        X1,
        "2025-04-21 09:00",
        "2025-04-29 16:00",
        status=5,
        supplements=[supplement("2025-04-28 09:00", previous_due="2025-04-29 16:00")],
    ),
    #   waiting on the citizen (one request pending): on no list although due in 1 h and its
    #   step overdue; judged at the request (28/4 09:00 <= due): decided on time
    _dossier(
        "S2",
        X1,
        "2025-04-14 09:00",
        "2025-04-25 17:00",
        status=5,
        supplements=[supplement("2025-04-28 10:00", previous_due="2025-04-25 17:00")],
    ),
    #   waiting, requested after its due: on no list; judged at the request: late
    _dossier(
        "S3",
        X1,
        "2025-04-14 09:00",
        "2025-04-29 16:00",
        supplements=[supplement("2025-04-17 09:00", "2025-04-21 09:00", "2025-04-25 17:00", "2025-04-29 16:00")],
    ),
    #   one request completed before T: the due moved to 29/4 16:00: L1 1.00; undecided
    _dossier(
        "S4",
        X1,
        "2025-04-08 09:00",
        "2025-05-16 17:00",
        supplements=[
            supplement("2025-04-09 09:00", "2025-04-10 09:00", "2025-04-18 17:00", "2025-04-21 17:00"),
            supplement("2025-04-23 09:00", "2025-05-05 09:00", "2025-04-21 17:00", "2025-05-16 17:00"),
        ],
    ),
    #   two requests by T, the second completed after T: the due in force at T is that
    #   request's NgayHenTraTruoc, Mon 21/4 17:00: L2 54.00 = 6 days x 8 (22-26/4, 28/4) + Tue 6
    #   (not the 0 of "late only by the supplements rule"); late now; decided late
    _dossier(
        "S5",
        X1,
        "2025-04-14 09:00",
        "2025-05-05 09:00",
        supplements=[
            supplement("2025-04-15 09:00", "2025-04-16 09:00", "2025-04-25 17:00", "2025-04-28 17:00"),
            supplement("2025-04-18 09:00", "2025-04-21 09:00", "2025-04-28 17:00", "2025-05-05 09:00"),
        ],
    ),
    #   two requests, due after T (4 h left): L2 0.00 by the supplements rule, not L1;
    #   open with due >= T: on time now (§6a); decided late
    _dossier(
        "S6",
        X1,
        "2025-04-14 09:00",
        "2025-05-05 12:00",
        status=5,
        supplements=[
            supplement("2025-04-15 09:00", "2025-04-16 09:00", "2025-04-25 17:00", "2025-05-05 12:00"),
            supplement("2025-04-29 09:00", previous_due="2025-05-05 12:00"),
        ],
    ),
    #   two requests, the second pending: not waiting on the citizen (that needs exactly one):
    #   L2 0.00; on time now; decided late
    _dossier(
        "S7",
        X1,
        "2025-04-14 09:00",
        "2025-05-16 17:00",
        supplements=[supplement("2025-04-28 10:00", "2025-05-05 09:00", "2025-04-25 17:00", "2025-05-16 17:00")],
    ),
    #   one request completed after T (status 4 now): at T it was pending, so waiting on the
    #   citizen: on no list; judged at the request (28/4 10:00) against the due in force then
    #   (NgayHenTraTruoc Fri 25/4 17:00): late now; decided late
    # L3 step overdue (steps below)
    _dossier("D1", X1, "2025-04-21 09:00", "2025-05-09 17:00", LienThong=True),
    #   current step 2 held by C1 since 23/4, deadline Fri 25/4 17:00: L3 in C1's (SO's, P's)
    #   list, not X1's: 22.00 = Sat 8 + Mon 8 + Tue 6; safe
    _dossier("D2", X1, "2025-04-21 09:00", "2025-05-09 17:00", LienThong=True),
    #   step 2 (C2) starts after T: the current step is 1 (X1, deadline Mon 28/4 12:00):
    #   L3 in X1's list 9.50 = 3.5 + 6; safe
    _dossier("D3", X1, "2025-04-21 09:00", "2025-05-09 17:00"),  # step deadline = T: not overdue (<); safe
    # L4 result not handed back (R = 16) and closed dossiers
    _dossier("E1", X1, "2025-04-14 09:00", "2025-04-28 17:00", ended="2025-04-26 15:00", status=9),
    #   ready on the make-up Saturday 15:00: L4 16.00 = Sat 2 + Mon 8 + Tue 6: R exactly, on; decided on time
    _dossier("E2", X1, "2025-04-14 09:00", "2025-04-28 17:00", ended="2025-04-26 15:01", status=9),
    #   15.98 h < R: not on L4; decided on time
    _dossier(
        "E3",
        X1,
        "2025-04-14 09:00",
        "2025-04-28 17:00",
        ended="2025-04-25 10:00",
        returned="2025-04-29 16:00",
        status=10,
    ),
    #   handed back after T: ready at T: L4 27.00 = Fri 1.5 + 3.5 + Sat 8 + Mon 8 + Tue 6; on time
    _dossier(
        "E4",
        X1,
        "2025-04-14 09:00",
        "2025-04-28 17:00",
        ended="2025-04-25 10:00",
        returned="2025-04-28 09:00",
        status=10,
    ),  # handed back before T: not L4; on time
    _dossier(
        "E5",
        X1,
        "2025-04-14 09:00",
        "2025-05-05 17:00",
        ended="2025-04-24 10:00",
        status=7,
        result_file=False,
        LyDo="Công dân rút hồ sơ",
    ),  # withdrawn: never L4 or L5; on time
    _dossier(
        "E6",
        X1,
        "2025-04-14 09:00",
        "2025-05-05 17:00",
        ended="2025-04-24 10:00",
        status=8,
        result_file=False,
        LyDo="Hồ sơ giả mạo",
    ),  # stopped: never L4/L5; its overdue step: closed, not L3
    _dossier("E7", X1, "2025-03-24 09:00", "2025-04-04 17:00", ended="2025-03-31 10:00", status=9, result_file=False),
    #   ready since March, never handed back: L4 171.00 = Mon 31/3 5 + 20 days x 8 + Tue 6;
    #   resolved in March: not L5, not in April's 2.1
    _dossier("E8", X1, "2025-04-21 09:00", "2025-04-29 16:00", ended="2025-04-29 15:30", status=9, result_file=False),
    #   ended after T: open at T: L1 1.00, not L4 or L5; undecided
    # L5 resolved without a result file
    _dossier(
        "F1",
        X1,
        "2025-04-14 09:00",
        "2025-04-25 17:00",
        ended="2025-04-24 10:00",
        returned="2025-04-25 09:00",
        status=10,
        result_file=False,
    ),  # L5 (4.1 and 4.2); on time
    _dossier(
        "F2",
        X1,
        "2025-04-14 09:00",
        "2025-04-25 17:00",
        ended="2025-04-24 10:00",
        returned="2025-04-25 09:00",
        status=10,
        result_file=False,
        procedure_code=NOT_DOC,
    ),  # result not a document: not L5
    _dossier(
        "F3",
        X1,
        "2025-03-24 09:00",
        "2025-04-04 17:00",
        ended="2025-04-03 10:00",
        returned="2025-04-04 09:00",
        status=10,
        result_file=False,
    ),
    #   received in March (carried over), resolved in April: L5 for 4.1 only; on time
    # L6 not synced (S = 24 calendar hours); all due Fri 9/5 17:00 (42 working hours away): safe
    _dossier("G1", X1, "2025-04-28 14:59", "2025-05-09 17:00", synced_at=NO_SYNC),  # 24 h 1 min before T: L6
    _dossier("G2", X1, "2025-04-28 15:00", "2025-05-09 17:00", synced_at=NO_SYNC),  # exactly 24 h: not L6
    _dossier("G3", X1, "2025-04-24 09:00", "2025-05-09 17:00", synced_at="2025-04-29 16:00"),  # synced after T: L6
    _dossier(
        "G4", X1, "2025-04-24 09:00", "2025-05-09 17:00", synced_at="2025-04-24 10:00", sync_result="ERROR"
    ),  # sync failed: L6
    _dossier(
        "G5", X1, "2025-03-31 09:00", "2025-05-09 17:00", synced_at=NO_SYNC
    ),  # received in March: not L6; carried over
    _dossier("G6", X1, "2025-04-29 16:00", "2025-05-09 17:00", synced_at=NO_SYNC),  # received after T: nowhere at T
    # L7 closed without a written reason
    _dossier(
        "R1", X1, "2025-04-21 09:00", status=3, NgayTuChoi=ts("2025-04-21 10:00"), synced_at=NO_SYNC
    ),  # refused at intake, no reason: L7
    _dossier(
        "R2", X1, "2025-04-21 09:00", "2025-05-09 17:00", ended="2025-04-23 10:00", status=7, LyDo="   "
    ),  # withdrawn, blank reason: L7; on time
    _dossier(
        "R3", X1, "2025-04-21 09:00", "2025-05-09 17:00", ended="2025-04-23 10:00", status=8, LyDo="Thiếu giấy tờ"
    ),  # stopped with a reason: not L7; on time
    _dossier("R4", X1, "2025-03-24 09:00", "2025-04-04 17:00", ended="2025-03-28 10:00", status=7),
    #   withdrawn in March: not L7 (April's list)
    _dossier(
        "R5", X1, "2025-04-29 15:30", status=3, NgayTuChoi=ts("2025-04-29 16:00"), synced_at=NO_SYNC
    ),  # refused after T: not at T
    _dossier(
        "R6", X1, "2025-04-21 09:00", "2025-05-09 17:00", ended="2025-04-23 10:00", status=8, LyDo=""
    ),  # stopped, empty reason: L7; on time
    # no NgayHenTra: the due time derived from the TTHC's limit (§4, §5)
    _dossier("K1", X1, "2025-04-28 18:00", procedure_code=ONE_DAY),
    #   received after 17:00: starts Tue 07:00, 8 h -> due Tue 29/4 17:00: L1 2.00; undecided
    _dossier("K2", X1, "2025-04-29 06:00", procedure_code=FOUR_HOURS),
    #   received before 07:00: 07:00 + 4 h -> due Tue 11:00: L2 2.00 = 0.5 + 1.5; late
    _dossier("K3", X1, "2025-04-28 12:00", procedure_code=ONE_DAY),
    #   received at lunch: starts 13:30: Mon 3.5 + Tue 4.5 -> due Tue 11:30 (a window's end
    #   stays there): L2 1.50 (13:30->15:00); late
]

X1_STEPS = [
    *_steps("B1", (1, X1, "2025-04-14 09:00", "2025-04-24 17:00", "Phòng Kinh tế")),
    #   L3 30.00 = Fri 8 + Sat 8 + Mon 8 + Tue 6 (and B1 is on L2 too)
    *_steps("S1", (1, X1, "2025-04-21 09:00", "2025-04-25 17:00", "Phòng Kinh tế")),
    *_steps(
        "D1",
        (1, X1, "2025-04-21 09:00", "2025-04-22 17:00", "Bộ phận một cửa"),
        (2, C1, "2025-04-23 08:00", "2025-04-25 17:00", "Phòng Đăng ký đất đai"),
    ),
    *_steps(
        "D2",
        (1, X1, "2025-04-21 09:00", "2025-04-28 12:00", "Bộ phận một cửa"),
        (2, C2, "2025-04-29 16:00", "2025-05-06 17:00", "Phòng Đo đạc"),
    ),
    *_steps("D3", (1, X1, "2025-04-21 09:00", "2025-04-29 15:00", "Bộ phận một cửa")),
    *_steps("E6", (1, X1, "2025-04-14 09:00", "2025-04-22 17:00", "Bộ phận một cửa")),
]

# --- C1: seven dossiers; 2 online (P0 in March does not count for 3.3), none reused (4.4) ----
C1_CASES = [
    _dossier(
        "P0",
        C1,
        "2025-03-24 09:00",
        "2025-04-04 17:00",
        ended="2025-04-02 10:00",
        returned="2025-04-03 09:00",
        status=10,
        result_file=False,
        channel=1,
        reused=0,
    ),
    #   carried over, resolved 2/4 without a result file: L5 (4.1 only: received in March); on time
    _dossier(
        "P1",
        C1,
        "2025-04-14 09:00",
        "2025-04-25 17:00",
        ended="2025-04-24 10:00",
        returned="2025-04-24 15:00",
        status=10,
        channel=1,
        reused=0,
    ),  # on time; rated level 3 (complaint)
    _dossier(
        "P2",
        C1,
        "2025-04-14 09:00",
        "2025-04-22 17:00",
        ended="2025-04-24 10:00",
        returned="2025-04-24 15:00",
        status=10,
        channel=1,
        reused=0,
    ),  # closed late
    _dossier(
        "P3", C1, "2025-04-14 09:00", "2025-04-28 17:00", channel=1, reused=0, letters=["2025-04-28 17:30"]
    ),  # L2 6.00 (Tue 07:00-15:00), letter: late
    _dossier("P4", C1, "2025-04-21 09:00", "2025-04-29 17:00", reused=0, synced_at=NO_SYNC),  # L1 2.00, L6; undecided
    _dossier(
        "P5", C1, "2025-04-21 09:00", "2025-05-06 17:00", reused=0, synced_at=NO_SYNC
    ),  # 18 h left: not L1; L6; safe
    _dossier("P6", C1, "2025-04-21 09:00", "2025-04-30 17:00", channel=1, reused=0),
    #   due on the 30/4 holiday, before the period end: L1 2.00; undecided
]

# --- C2: five dossiers; 2 online (Q1, Q2), 4 reused (all but Q5) ------------------------------
C2_CASES = [
    _dossier(
        "Q1",
        C2,
        "2025-04-14 09:00",
        "2025-04-25 17:00",
        ended="2025-04-23 10:00",
        returned="2025-04-23 14:00",
        status=10,
        result_file=False,
    ),
    #   closed on time without a result file: L5 for 4.1 and 4.2 (received in April, digitized)
    _dossier("Q2", C2, "2025-04-21 09:00", "2025-05-05 17:00"),  # 10 h left: safe
    _dossier("Q3", C2, "2025-04-21 09:00", "2025-04-29 16:00", channel=1),  # L1 1.00; undecided
    _dossier(
        "Q4",
        C2,
        "2025-04-14 09:00",
        "2025-04-28 17:00",
        status=5,
        channel=1,
        supplements=[supplement("2025-04-25 10:00", previous_due="2025-04-28 17:00")],
    ),
    #   waiting on the citizen, asked before the due: on no list; decided on time
    _dossier(
        "Q5",
        C2,
        "2025-04-14 09:00",
        "2025-05-09 17:00",
        channel=1,
        reused=0,
        supplements=[
            supplement("2025-04-15 09:00", "2025-04-16 09:00", "2025-05-08 17:00", "2025-05-09 17:00"),
            supplement("2025-04-17 09:00", "2025-04-18 09:00", "2025-05-09 17:00", "2025-05-09 17:00"),
        ],
    ),
    #   two requests: L2 0.00; on time now (open, due >= T); decided late
]

RATINGS = [rating("RT1", "P1", C1, 3, "2025-04-25 10:00")]  # 5.3's complaint share in C1

ALL_CASES = X1_CASES + C1_CASES + C2_CASES
DOSSIERS = [d for d, _ in ALL_CASES]
SYNCS = [s for _, s in ALL_CASES if s is not None]
STEPS = X1_STEPS


def build(dsn, work: Path) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
        load_raw(conn, "one_stop", "qua_trinh_xu_ly", STEPS)
        load_raw(conn, "dvc_portal", "sync_status", SYNCS)
        load_raw(conn, "dvc_portal", "ratings", RATINGS)
    # models only: the data and unit tests of these models run in their owners' modules; here the
    # numbers are checked, and the build stays one short run
    run_dbt(
        dsn,
        work,
        "build",
        "--select",
        "+tag:actions",
        "--exclude-resource-type",
        "test",
        "unit_test",
        as_of="2025-04-29",
        variables={"actions_at": MOMENTS},
    )


@pytest.fixture(scope="session")
def actions_world(pg_cluster):
    """The world built once per worker: loaded raw records, one dbt build for every moment."""
    work = Path(tempfile.mkdtemp(prefix="tthc-dbt-actions-"))
    try:
        with scratch_database(pg_cluster, raw_schema=True) as dsn:
            build(dsn, work)
            yield dsn
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch(dsn, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(dsn.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def close(got, expected, tol=Fraction(1, 10**9)) -> bool:
    """Equal up to numeric division's last digits (the models keep figures unrounded)."""
    if got is None or expected is None:
        return got is None and expected is None
    return abs(Fraction(Decimal(got)) - Fraction(expected)) <= tol
