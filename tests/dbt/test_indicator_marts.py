"""Every 766 metric, the scores, report form II.06a, the late list, the reconciliation with the
portal and the operational lists, end to end: hand-made raw records -> one real dbt build ->
mart numbers checked against counts worked out on paper (§6a, §8, §9: docs/metrics.md,
docs/spec/report-ii06a.md, docs/spec/index-766.md).

Province P with communes X1 and X2; commune XO merged into X2 on 1 July 2025. as_of_date
2025-07-20. July 2025 has no holiday, so its working days are Mon-Fri (8 h each).
TTHC: T1 (field DD, fee, document result, citizens), T2 (field CT, document result, citizens),
T3 (field DD, no document result, businesses only).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import psycopg
import pytest

from extractors.portal_scores import ensure_table
from tests import oracle
from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import (
    dossier,
    feedback,
    load_raw,
    offering,
    online_service,
    payment,
    procedure,
    rating,
    step,
    supplement,
    sync,
    unit,
)

pytestmark = pytest.mark.slow

P, X1, X2, XO = "000.00.00.H98", "000.01.00.H98", "000.02.00.H98", "000.03.00.H98"
T1, T2, T3 = "1.000001", "1.000002", "1.000003"

UNITS = [
    unit(P, "UBND tỉnh Mẫu", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(X2, "UBND xã Hai", "XA", parent=P),
    unit(XO, "UBND xã Cũ", "XA", parent=P, valid_to="2025-06-30", successor=X2),
]


def _procedure(code, field, has_fee, document, applicants, announced, effective, public, full):
    record = procedure(code, has_fee=has_fee, result_is_document=document, field=field)
    record.update(
        {
            "DoiTuongThucHien": applicants,
            "NgayCongBo": announced,
            "NgayHieuLucVanBan": effective,
            "NgayCongKhai": public,
            "CongKhaiDayDu": full,
            "TenLinhVuc": "Chứng thực" if field == "CT" else "Đất đai",
        }
    )
    return record


PROCEDURES = [
    # announced Tue 1/7, in force Thu 10/7: 7 working days before (1.1 +); public Tue 8/7: 4 after (1.2 +)
    _procedure(T1, "DD", True, True, ["CONG_DAN"], "20250701", "20250710", "20250708", True),
    # announced Mon 7/7, in force Fri 11/7: 4 working days (1.1 -); public Tue 15/7: 5 after (1.2 -)
    _procedure(T2, "CT", False, True, ["CONG_DAN"], "20250707", "20250711", "20250715", False),
    _procedure(T3, "DD", False, False, ["DOANH_NGHIEP"], "20240101", "20240115", "20240105", True),
]

OFFERINGS = [
    offering(X1, T1, "TOAN_TRINH"),
    offering(X1, T2, "KHONG"),
    offering(X1, T3, "MOT_PHAN"),
    offering(X2, T1, "MOT_PHAN"),
    offering(X2, T2, "TOAN_TRINH"),
    offering(XO, T1, "TOAN_TRINH", valid_to="2025-06-30"),
]

ONLINE_SERVICES = [
    online_service(X1, T1, payment_integrated=True),
    online_service(X1, T3, published=False),
    online_service(X2, T1, payment_integrated=False),
    online_service(X2, T2, payment_integrated=False),
]

FEE = [{"MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí", "LoaiPhiLePhi": 2, "HinhThucThu": "TRUC_TUYEN", "Gia": 50000}]
RESULT = [{"MaGiayToKetQua": "KQ1", "TenGiayTo": "Giấy chứng nhận", "DuongDanTepTinKetQua": "/files/kq.pdf"}]


def component(digitized=1, reused=0, data_store=0):
    return [
        {
            "MaThanhPhanHoSo": "TP1",
            "TenTepDinhKem": "don.pdf",
            "DuongDanTaiTepTin": "/files/a.pdf",
            "DuocSoHoa": digitized,
            "DuocTaiSuDung": reused,
            "DuocLayTuKhoDMQG": data_store,
        }
    ]


DOSSIERS = [
    # X1
    dossier(
        "A1",
        X1,
        "2025-07-01 09:00",
        due="2025-07-10 17:00",
        ended="2025-07-08 10:00",
        returned="2025-07-09 09:00",
        status=10,
        procedure_code=T1,
        channel=2,
        DanhSachLePhi=FEE,
        DanhSachGiayToKetQua=RESULT,
        TaiLieuNop=component(1, 0, 1),
    ),
    dossier(
        "A2",
        X1,
        "2025-07-02 09:00",
        due="2025-07-04 17:00",
        ended="2025-07-07 09:00",
        status=9,
        procedure_code=T2,
        channel=1,
        MaLinhVuc="CT",
        TaiKhoanDuocXacThucVoiVNeID=0,
        HoSoCoThanhPhanSoHoa=1,
        LienThong=True,
        DanhSachGiayToKetQua=RESULT,
        TaiLieuNop=component(0),
    ),
    dossier(
        "A3",
        X1,
        "2025-07-03 09:00",
        due="2025-07-30 17:00",
        status=4,
        procedure_code=T3,
        channel=2,
        LoaiDoiTuong=2,
        TaiKhoanDuocXacThucVoiVNeID=0,
    ),
    dossier(
        "A4",
        X1,
        "2025-06-10 09:00",
        due="2025-06-20 17:00",
        ended="2025-06-18 09:00",
        returned="2025-07-02 09:00",
        status=10,
        procedure_code=T1,
        channel=1,
        DanhSachLePhi=FEE,
    ),
    dossier(
        "R1",
        X1,
        "2025-07-04 09:00",
        status=3,
        procedure_code=T1,
        channel=1,
        NgayTuChoi="20250704100000",
        LyDo="Thiếu giấy tờ theo quy định",
    ),
    # X2
    dossier(
        "B1",
        X2,
        "2025-07-07 09:00",
        due="2025-07-15 17:00",
        ended="2025-07-14 09:00",
        status=9,
        procedure_code=T1,
        channel=2,
        DanhSachLePhi=FEE,
        TaiLieuNop=component(1, 1, 0),
    ),
    dossier(
        "B2",
        X2,
        "2025-07-08 09:00",
        due="2025-07-10 17:00",
        status=5,
        procedure_code=T2,
        channel=3,
        MaLinhVuc="CT",
        TaiLieuNop=component(0),
        supplements=[supplement("2025-07-09 10:00")],
    ),
    dossier(
        "W1",
        X2,
        "2025-07-10 09:00",
        due="2025-07-20 17:00",
        ended="2025-07-11 09:00",
        status=7,
        procedure_code=T2,
        channel=1,
        MaLinhVuc="CT",
        TaiKhoanDuocXacThucVoiVNeID=0,
        TaiLieuNop=component(0),
    ),
    # XO (merged into X2 from July)
    dossier(
        "C1",
        XO,
        "2025-06-25 09:00",
        due="2025-07-03 17:00",
        status=4,
        procedure_code=T1,
        channel=1,
        TaiKhoanDuocXacThucVoiVNeID=0,
    ),
]

PAYMENTS = [
    payment("TX1", "A1", X1, T1, "SUCCESS", paid="2025-07-01 10:00"),
    payment("TX2", "B1", X2, T1, "FAILED", paid=None),
]
SYNCS = [
    sync("A1", X1, "2025-07-01 09:00"),
    sync("A2", X1, "2025-07-02 09:00", "ERROR"),
    sync("A3", X1, "2025-07-03 09:00"),
    sync("B1", X2, "2025-07-07 09:00"),
]
FEEDBACK = [
    feedback("F1", X1, "2025-07-05 10:00", "2025-07-15 17:00", "2025-07-10 10:00", "HANDLED", likes=3, dislikes=1),
    feedback("F2", X1, "2025-06-20 10:00", "2025-07-05 17:00", None, "PROCESSING"),
    feedback(
        "F3",
        X2,
        "2025-07-16 10:00",
        "2025-07-30 17:00",
        "2025-07-18 10:00",
        "HANDLED",
        likes=1,
        dislikes=5,
        dossier_code="B1",
    ),
    feedback("F4", XO, "2025-07-02 10:00", "2025-07-10 17:00", "2025-07-12 10:00", "HANDLED"),
]
RATINGS = [rating("G1", "A1", X1, 1, "2025-07-09 10:00"), rating("G2", "A2", X1, 3, "2025-07-08 10:00")]
STEPS = [
    step("A2", 1, X1, "2025-07-02 10:00", due="2025-07-02 17:00", started="2025-07-02 09:00"),
    step("A2", 2, X2, "2025-07-07 09:00", due="2025-07-04 17:00"),
]

PORTAL_SCORES = {
    "request": {"timeType": "month", "year": 2025, "month": 7, "rootDepartmentCode": P},
    "data": {
        "overview": {
            "departmentCode": P,
            "totalScore": 50.0,
            "totalMaxScore": 100,
            "groupScores": {"CKMB": 9.0, "TDGQ": 12.0},
        },
        "children": [
            {
                "departmentCode": X1,
                "departmentName": "UBND xã Một",
                "totalScore": 40.0,
                "totalMaxScore": 100,
                "groupScores": {"TDGQ": 6.0},
                "metrics": [
                    {"code": "2.1", "numerator": 1, "denominator": 3, "ratio": 0.33, "score": 6.0, "maxScore": 20}
                ],
            }
        ],
    },
}

# (unit, metric): (numerator, denominator) for July 2025, worked out from the records above
JULY = {
    # 1.1-1.3: the catalogue, province only
    (P, "1.1"): (1, 2),
    (P, "1.2"): (1, 2),
    (P, "1.3"): (2, 3),
    (X1, "1.1"): (0, 0),
    (X1, "1.2"): (0, 0),
    (X1, "1.3"): (0, 0),
    (X2, "1.1"): (0, 0),
    (X2, "1.2"): (0, 0),
    (X2, "1.3"): (0, 0),
    # 1.4 synced: X1 A1, A3 of A1-A3; X2 B1 of B1, B2, W1
    (X1, "1.4"): (2, 3),
    (X2, "1.4"): (1, 3),
    (P, "1.4"): (3, 6),
    # 2.1: X1 A1 + (A2 late, A3 open past due); X2 B1, B2 (pending supplement), W1 + (C1 from XO, overdue)
    (X1, "2.1"): (1, 3),
    (X2, "2.1"): (3, 4),
    (P, "2.1"): (4, 7),
    # 2.2 working hours receipt -> end: A1 41 h, A2 24 h; B1 40 h
    (X1, "2.2"): (65, 2),
    (X2, "2.2"): (40, 1),
    (P, "2.2"): (105, 3),
    # 3.1 offered TTHC that are published online services: X1 T1 of T1-T3; X2 T1, T2
    (X1, "3.1"): (1, 3),
    (X2, "3.1"): (2, 2),
    (P, "3.1"): (3, 5),
    # 3.2 online services with an online dossier: X1 T1 (A1); X2 T1 (B1), not T2 (B2 postal)
    (X1, "3.2"): (1, 1),
    (X2, "3.2"): (1, 2),
    (P, "3.2"): (2, 3),
    # 3.3 received online
    (X1, "3.3"): (2, 3),
    (X2, "3.3"): (1, 3),
    (P, "3.3"): (3, 6),
    # 3.4 fee dossiers paid online: A1 paid; B1 failed
    (X1, "3.4"): (1, 1),
    (X2, "3.4"): (0, 1),
    (P, "3.4"): (1, 2),
    # 3.5 / 3.6 offered fee TTHC (T1) with a July payment / payment-integrated service
    (X1, "3.5"): (1, 1),
    (X2, "3.5"): (0, 1),
    (P, "3.5"): (1, 2),
    (X1, "3.6"): (1, 1),
    (X2, "3.6"): (0, 1),
    (P, "3.6"): (1, 2),
    # 4.1 resolved with a document result: A1, A2 with files; B1 without
    (X1, "4.1"): (2, 2),
    (X2, "4.1"): (0, 1),
    (P, "4.1"): (2, 3),
    # 4.2 digitized (and a file when resolved with a document result): A1, A3; B1 lacks the file
    (X1, "4.2"): (2, 3),
    (X2, "4.2"): (0, 3),
    (P, "4.2"): (2, 6),
    # 4.3 field CT resolved: A2 with a file; X2 has none (B2 open, W1 withdrawn)
    (X1, "4.3"): (1, 1),
    (X2, "4.3"): (0, 0),
    (P, "4.3"): (1, 1),
    # 4.4 reused data: A2 (HoSoCoThanhPhanSoHoa), B1 (DuocTaiSuDung)
    (X1, "4.4"): (1, 3),
    (X2, "4.4"): (1, 3),
    (P, "4.4"): (2, 6),
    # 4.5 from the personal data store: A1
    (X1, "4.5"): (1, 3),
    (X2, "4.5"): (0, 3),
    (P, "4.5"): (1, 6),
    # 4.6 citizen dossiers with VNeID: X1 A1 of A1, A2 (A3 a business); X2 B1, B2 of B1, B2, W1
    (X1, "4.6"): (1, 2),
    (X2, "4.6"): (2, 3),
    (P, "4.6"): (3, 5),
    # 4.7 offered citizen TTHC (T1, T2) with such a dossier: X1 T1; X2 T1, T2
    (X1, "4.7"): (1, 2),
    (X2, "4.7"): (2, 2),
    (P, "4.7"): (3, 4),
    # 5.1: X1 F1 on time, F2 open past due; X2 F3 on time, F4 (from XO) handled late
    (X1, "5.1"): (1, 2),
    (X2, "5.1"): (1, 2),
    (P, "5.1"): (2, 4),
    # 5.2: X1 F1; X2 F3 disliked, F4 late
    (X1, "5.2"): (1, 1),
    (X2, "5.2"): (0, 2),
    (P, "5.2"): (1, 3),
    # 5.3 sum of 1 - late - complaint: X1 A1 1, A2 -1 (late + rating 3), A3 0 -> 0;
    #     X2 B1 0 (feedback F3), B2 1, W1 1, C1 0 -> 2
    (X1, "5.3"): (0, 3),
    (X2, "5.3"): (2, 4),
    (P, "5.3"): (2, 7),
}

# the seed's default rules, written out independently of the seed: the oracle's (tests/oracle.py)
RULES = oracle.RULES
GROUPS = {
    "1": "ckmb",
    "2": "tdgq",
    "3.1": "clgq",
    "3.2": "clgq",
    "3.3": "clgq",
    "3.4": "tttt",
    "3.5": "tttt",
    "3.6": "tttt",
    "4": "mdsh",
    "5": "mdhl",
}


def expected_points(unit_code, metric):
    num, den = JULY[(unit_code, metric)]
    top, kind, k = RULES[metric]
    if metric in ("1.1", "1.2", "1.3") and unit_code != P:
        return Fraction(top)  # not the province's duty: full marks
    if den == 0:
        return Fraction(0) if metric == "5.3" else Fraction(top)
    if metric == "2.2":
        return Fraction(0)
    rate = Fraction(num, den)
    return min(Fraction(top), k * rate if kind == "L" else top * rate / k)


def build(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        ensure_table(conn)
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "thu_tuc_don_vi", OFFERINGS)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
        load_raw(conn, "one_stop", "qua_trinh_xu_ly", STEPS)
        load_raw(conn, "dvc_portal", "online_services", ONLINE_SERVICES)
        load_raw(conn, "dvc_portal", "payments", PAYMENTS)
        load_raw(conn, "dvc_portal", "sync_status", SYNCS)
        load_raw(conn, "dvc_portal", "feedback", FEEDBACK)
        load_raw(conn, "dvc_portal", "ratings", RATINGS)
        import hashlib
        import json

        text = json.dumps(PORTAL_SCORES, sort_keys=True)
        conn.execute(
            "INSERT INTO raw.dvc_portal__service_results (record_key, source_updated_at, payload,"
            " payload_hash, batch_id) VALUES (%s, now(), %s::jsonb, %s, 1)",
            (f"{P}|month|2025|7", text, hashlib.sha256(text.encode()).hexdigest()),
        )
    run_dbt(module_db, dbt_work, "build", as_of="2025-07-20")


def query(module_db, sql, *params):
    with psycopg.connect(module_db.conninfo()) as conn:
        return conn.execute(sql, params).fetchall()


def check_every_metric_of_july(module_db):
    rows = query(
        module_db,
        "SELECT unit_code, metric_code, numerator, denominator, rate, points, applies"
        " FROM marts.mart_metric_monthly WHERE period_type = 'month' AND period_key = '2025-07'",
    )
    got = {(r[0], r[1]): r for r in rows}
    assert set(got) == set(JULY)  # P, X1, X2 x 22 metrics; XO is gone in July
    for key, (num, den) in JULY.items():
        _, metric, g_num, g_den, rate, points, applies = got[key]
        assert (g_num, g_den) == (num, den), key
        assert abs(Fraction(points) - expected_points(*key)) < Fraction(1, 10**12), (key, points)
        level_applies = not (metric in ("1.1", "1.2", "1.3") and key[0] != P)
        assert applies is (level_applies and den > 0), key
        if den and metric != "2.2":
            assert abs(Fraction(rate) - Fraction(num, den)) < Fraction(1, 10**12), key
        else:
            assert rate is None, key


def check_scores_of_july(module_db):
    rows = query(
        module_db,
        "SELECT unit_code, score_ckmb, score_tdgq, score_clgq, score_tttt, score_mdhl,"
        " score_mdsh, total_score, max_score, rank_in_level, rating_band, score5_dvctt"
        " FROM marts.mart_score_monthly WHERE period_type = 'month' AND period_key = '2025-07'",
    )
    got = {r[0]: r for r in rows}
    totals = {}
    for unit_code in (P, X1, X2):
        groups = dict.fromkeys(["ckmb", "tdgq", "clgq", "tttt", "mdhl", "mdsh"], Fraction(0))
        for u, metric in JULY:
            if u == unit_code:
                group = GROUPS.get(metric) or GROUPS[metric.split(".")[0]]
                groups[group] += expected_points(u, metric)
        row = got[unit_code]
        for i, name in enumerate(["ckmb", "tdgq", "clgq", "tttt", "mdhl", "mdsh"], start=1):
            assert abs(Fraction(row[i]) - groups[name]) < Fraction(1, 10**10), (unit_code, name)
        totals[unit_code] = sum(groups.values())
        assert abs(Fraction(row[7]) - totals[unit_code]) < Fraction(1, 10**10)
        assert row[8] == 100
        assert abs(Fraction(row[11]) - groups["clgq"] - groups["tttt"]) < Fraction(1, 10**10)
    # P hand total: 9.33 + 11.43 + 10.17 + 5.25 + 6.90 + 11.53
    assert round(float(totals[P]), 2) == 54.62 and got[P][10] == "Trung bình" and got[P][9] == 1
    better, worse = sorted((X1, X2), key=lambda u: -totals[u])
    assert (got[better][9], got[worse][9]) == (1, 2)


def check_merger_and_both_period_systems(module_db):
    def metric(period_type, key, unit_code, code):
        rows = query(
            module_db,
            "SELECT numerator, denominator FROM marts.mart_metric_monthly WHERE period_type = %s"
            " AND period_key = %s AND unit_code = %s AND metric_code = %s",
            period_type,
            key,
            unit_code,
            code,
        )
        return tuple(int(v) for v in rows[0]) if rows else None

    # June: XO still exists; C1 open at the end of June, not yet due
    assert metric("month", "2025-06", XO, "2.1") == (1, 1)
    assert metric("month", "2025-06", X1, "2.1") == (1, 1)  # A4
    assert metric("month", "2025-07", XO, "2.1") is None
    # Decree 09 month 2025-07 = 15/6-14/7: X1 received A1-A3; X2 C1 (from XO), B1, B2, W1
    assert metric("report_month", "2025-07", X1, "3.3") == (2, 3)
    assert metric("report_month", "2025-07", X2, "3.3") == (1, 4)
    assert metric("quarter", "2025-Q3", X1, "3.3") == (2, 3)
    assert metric("year", "2025", X1, "3.3") == (2, 4)  # A4 in June too
    periods = query(module_db, "SELECT DISTINCT period_type, period_key FROM marts.mart_metric_monthly")
    assert set(periods) == {
        ("month", "2025-06"),
        ("month", "2025-07"),
        ("quarter", "2025-Q2"),
        ("quarter", "2025-Q3"),
        ("year", "2025"),
        ("report_month", "2025-06"),
        ("report_month", "2025-07"),
        ("report_month", "2025-08"),
    }


def ii06a(module_db, period_type, period_key):
    rows = query(
        module_db,
        "SELECT unit_code, field_code, received_total, received_online, received_in_person_postal,"
        " carried_over, resolved_total, resolved_early, resolved_on_time, resolved_late,"
        " in_progress_total, in_progress_within_deadline, in_progress_overdue"
        " FROM marts.mart_report_ii06a WHERE period_type = %s AND period_key = %s",
        period_type,
        period_key,
    )
    return {(r[0], r[1]): tuple(r[2:]) for r in rows}


def check_report_ii06a(module_db):
    got = ii06a(module_db, "month", "2025-07")
    assert got == {
        # (3)  (4) (5) (6)  (7) (8) (9) (10)  (11) (12) (13)
        (X1, "DD"): (2, 2, 0, 0, 1, 1, 0, 0, 1, 0, 1),  # A1 early; A3 open past its date
        (X1, "CT"): (1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0),  # A2 late
        (X2, "DD"): (2, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1),  # B1 early; C1 carried over from XO, overdue
        (X2, "CT"): (2, 0, 2, 0, 1, 0, 1, 0, 1, 1, 0),  # W1 withdrawn = on time; B2 status 5 within
        (P, "DD"): (4, 3, 0, 1, 2, 2, 0, 0, 2, 0, 2),
        (P, "CT"): (3, 0, 3, 0, 2, 0, 1, 1, 1, 1, 0),
    }
    # reporting month 2025-07 = 15 June - 14 July, last day 14/7: A4 (received 10/6, ended 18/6)
    # carried over and early; C1 received in it (25/6); A3 (due 30/7) still within its deadline
    got = ii06a(module_db, "report_month", "2025-07")
    assert got == {
        # (3)  (4) (5) (6)  (7) (8) (9) (10)  (11) (12) (13)
        (X1, "DD"): (3, 2, 0, 1, 2, 2, 0, 0, 1, 1, 0),  # A1, A4 early; A3 open within
        (X1, "CT"): (1, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0),  # A2 late
        (X2, "DD"): (2, 1, 1, 0, 1, 1, 0, 0, 1, 0, 1),  # B1 early (ended 14/7); C1 overdue
        (X2, "CT"): (2, 0, 2, 0, 1, 0, 1, 0, 1, 1, 0),  # W1 withdrawn = on time; B2 status 5 within
        (P, "DD"): (5, 3, 1, 1, 3, 3, 0, 0, 2, 1, 1),
        (P, "CT"): (3, 0, 3, 0, 2, 0, 1, 1, 1, 1, 0),
    }
    names = query(module_db, "SELECT DISTINCT field_code, field_name FROM marts.mart_report_ii06a")
    assert dict(names) == {"DD": "Đất đai", "CT": "Chứng thực"}


def check_late_dossiers(module_db):
    rows = query(
        module_db,
        "SELECT dossier_code, unit_code, channel, end_of_processing_at IS NULL,"
        " overdue_working_hours, has_apology_letter, status FROM marts.mart_late_dossiers"
        " WHERE period_type = 'month' AND period_key = '2025-07'",
    )
    assert sorted(rows) == [
        ("A2", X1, 1, False, Decimal("2"), False, 9),  # Fri 4/7 17:00 -> Mon 7/7 09:00
        ("A3", X1, 2, True, Decimal("8"), False, 4),  # Wed 30/7 17:00 -> 1/8 00:00
        ("C1", X2, 1, True, Decimal("160"), False, 4),  # Thu 3/7 17:00 -> 1/8: 20 working days
    ]


def check_portal_reconciliation(module_db):
    rows = query(
        module_db,
        "SELECT unit_code, item_code, computed_points, portal_points, difference"
        " FROM marts.mart_portal_reconciliation WHERE period_type = 'month' AND period_key = '2025-07'",
    )
    got = {(r[0], r[1]): r[2:] for r in rows}
    total_p = got[(P, "TONG")]
    assert total_p[1] == 50 and abs(total_p[2] - (total_p[0] - 50)) < Decimal("1e-12")
    assert abs(got[(X1, "2.1")][0] - Decimal(20) / 3) < Decimal("1e-12") and got[(X1, "2.1")][1] == 6
    assert got[(X1, "1.4")][1] is None and got[(X1, "1.4")][2] is None
    assert len([k for k in got if k[0] == X2]) == 22 + 7


def check_operational_lists(module_db):
    july = " WHERE period_type = 'month' AND period_key = '2025-07'"
    refused = query(
        module_db,
        "SELECT dossier_code, unit_code, outcome, reason, is_reason_missing"
        " FROM marts.mart_dossiers_refused_returned_stopped" + july + " ORDER BY 1",
    )
    assert refused == [("R1", X1, "TU_CHOI", "Thiếu giấy tờ theo quy định", False), ("W1", X2, "RUT_HO_SO", None, True)]
    paused = query(
        module_db, "SELECT dossier_code, pause_reason, paused_working_hours FROM marts.mart_dossiers_paused" + july
    )
    assert paused == [("B2", "YEU_CAU_BO_SUNG", Decimal("61.00"))]  # Wed 9/7 10:00 -> end of 20/7 (as_of)
    waiting = query(module_db, "SELECT dossier_code, working_days_waiting FROM marts.mart_results_not_returned" + july)
    assert waiting == [("A2", Decimal("9.75"))]  # B1: 4.75 days, under the 5-day default
    delays = query(
        module_db,
        "SELECT dossier_code, step_number, step_unit_code, step_overdue_working_hours"
        " FROM marts.mart_inter_agency_delays" + july,
    )
    assert delays == [("A2", 2, X2, Decimal("2.0000"))]
    # June: A4's result, ready on 18/6, waited 8.75 working days by the end (handed back on 2/7);
    # nothing refused, paused or delayed
    june = " WHERE period_type = 'month' AND period_key = '2025-06'"
    assert query(module_db, "SELECT dossier_code FROM marts.mart_results_not_returned" + june) == [("A4",)]
    for mart in ("mart_dossiers_refused_returned_stopped", "mart_dossiers_paused", "mart_inter_agency_delays"):
        assert query(module_db, f"SELECT dossier_code FROM marts.{mart}" + june) == [], mart


def check_no_personal_data_in_marts(module_db):
    names = query(
        module_db, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'marts'"
    )
    assert not [
        n
        for n in names
        if any(w in n[1] for w in ("applicant", "name_of", "phone", "email", "address", "content", "handler"))
    ]
    text = " ".join(str(r) for r in query(module_db, "SELECT row_to_json(m)::text FROM marts.mart_late_dossiers m"))
    assert "Nguyễn" not in text and "038090001234" not in text


def test_indicator_marts_on_a_hand_computed_province(module_db, dbt_work):
    """One dbt build, then every check (a single test, so xdist never builds it twice)."""
    build(module_db, dbt_work)
    check_every_metric_of_july(module_db)
    check_scores_of_july(module_db)
    check_merger_and_both_period_systems(module_db)
    check_report_ii06a(module_db)
    check_late_dossiers(module_db)
    check_portal_reconciliation(module_db)
    check_operational_lists(module_db)
    check_no_personal_data_in_marts(module_db)
