"""A small province in the marts' shape, written by hand: tỉnh Hà Nam (H56), July 2025.

Tree on 2025-07-31: the province, Sở Tư pháp and xã Kim Bình. Also present, and never to be
published with H56: xã Thanh Sơn (merged into Kim Bình on 2025-07-01, so gone at the month's
end), tỉnh Ninh Bình (another province), a quarter row and June's rows.
The marts' columns are the contract the dbt engineer builds to (see the publish brief).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg

from expectations.runner import RESULTS_DDL
from extractors.raw.schema import ensure_raw_schema

PROVINCE, DEPT, COMMUNE = "000.00.00.H56", "000.01.00.H56", "000.00.11.H56"
GONE, OTHER = "000.00.12.H56", "000.00.00.H40"
PERIOD = "2025-07"

DDL = """
create schema if not exists intermediate;
create schema if not exists marts;
create table intermediate.int_unit_closure (
    ancestor_unit_code text, descendant_unit_code text, depth int, valid_from date, valid_to date);
create table marts.mart_metric_monthly (
    period_type text, period_key text, period_start date, period_end date, unit_code text, unit_name text,
    unit_level text, parent_unit_code text, group_code text, metric_code text, metric_name text,
    numerator numeric, denominator numeric, rate numeric, points numeric, max_points numeric, applies boolean);
create table marts.mart_score_monthly (
    period_type text, period_key text, period_start date, period_end date, unit_code text, unit_name text,
    unit_level text, parent_unit_code text, score_ckmb numeric, score_tdgq numeric, score_clgq numeric,
    score_tttt numeric, score_mdhl numeric, score_mdsh numeric, total_score numeric, max_score numeric,
    rank_in_level bigint, rating_band text);
create table marts.mart_report_ii06a (
    period_type text, period_key text, unit_code text, field_code text, field_name text,
    received_total bigint, received_online bigint, received_in_person_postal bigint, carried_over bigint,
    resolved_total bigint, resolved_early bigint, resolved_on_time bigint, resolved_late bigint,
    in_progress_total bigint, in_progress_within_deadline bigint, in_progress_overdue bigint);
create table marts.mart_late_dossiers (
    period_type text, period_key text, dossier_code text, unit_code text, procedure_code text,
    field_code text, channel int, received_at timestamptz, due_at timestamptz,
    end_of_processing_at timestamptz, overdue_working_hours numeric, has_apology_letter boolean, status int);
create table marts.mart_portal_reconciliation (
    period_type text, period_key text, unit_code text, item_code text,
    computed_points numeric, portal_points numeric, difference numeric);
"""

# (ancestor, descendant, depth, valid_from, valid_to)
CLOSURE = [
    (PROVINCE, PROVINCE, 0, "2020-01-01", None),
    (DEPT, DEPT, 0, "2020-01-01", None),
    (COMMUNE, COMMUNE, 0, "2020-01-01", None),
    (GONE, GONE, 0, "2020-01-01", "2025-06-30"),
    (OTHER, OTHER, 0, "2020-01-01", None),
    (PROVINCE, DEPT, 1, "2020-01-01", None),
    (PROVINCE, COMMUNE, 1, "2020-01-01", None),
    (PROVINCE, GONE, 1, "2020-01-01", "2025-06-30"),
]

UNITS = {  # code: (name, level, parent)
    PROVINCE: ("UBND tỉnh Hà Nam", "TINH", None),
    DEPT: ("Sở Tư pháp", "SO", PROVINCE),
    COMMUNE: ("UBND xã Kim Bình", "XA", PROVINCE),
    GONE: ("UBND xã Thanh Sơn", "XA", PROVINCE),
    OTHER: ("UBND tỉnh Ninh Bình", "TINH", None),
}

# (unit, group, metric, name, numerator, denominator, rate, points, max, applies)
METRICS = [
    (PROVINCE, "CKMB", "1.1", "Công bố TTHC đúng hạn", 4, 5, "0.8", "1.6", 2, True),
    (PROVINCE, "TDGQ", "2.1", "Giải quyết hồ sơ đúng hạn", 950, 1000, "0.95", "19.0", 20, True),
    (PROVINCE, "TDGQ", "2.2", "Thời gian giải quyết (giờ làm việc)", "1234.565", 300, None, 0, 0, True),
    (PROVINCE, "CLGQ", "3.3", "Hồ sơ trực tuyến", 400, 1000, "0.4", "4.8", 12, True),
    (PROVINCE, "MDHL", "5.3", "Mức độ hài lòng", None, 1000, "0.81", "5.4", 6, True),
    (DEPT, "CKMB", "1.1", "Công bố TTHC đúng hạn", 0, 0, None, 2, 2, False),
    (DEPT, "TDGQ", "2.1", "Giải quyết hồ sơ đúng hạn", 2, 3, "0.666666666667", "13.33333333333", 20, True),
    (COMMUNE, "TDGQ", "2.1", "Giải quyết hồ sơ đúng hạn", 25, 28, "0.892857142857", "17.85714285714", 20, True),
    (GONE, "TDGQ", "2.1", "Giải quyết hồ sơ đúng hạn", 1, 1, "1", "20", 20, True),
    (OTHER, "TDGQ", "2.1", "Giải quyết hồ sơ đúng hạn", 1, 2, "0.5", "10", 20, True),
]

# unit: six unrounded group scores, max, rank, band. total_score = their exact sum.
SCORES = {
    # residuals +.001 .0044 .0049 .0042 .0041 .0043: groups miss the total by 0.02 → 3.3's group CLGQ +0.01
    PROVINCE: (("15.671", "19.3144", "17.4949", "8.0042", "16.6441", "9.0043"), 100, 1, "Tốt"),
    # all rounded up: the groups exceed the total by 0.03 → CKMB and TDGQ (rounded up most) −0.01
    DEPT: (("10.005", "12.0051", "8.0052", "6.0053", "14.0054", "5.0055"), 100, 1, "Trung bình"),
    # all rounded down: 0.03 short → CKMB and TDGQ (lost most) +0.01
    COMMUNE: (("10.0049", "12.0048", "8.0047", "6.0046", "14.0045", "5.0044"), 100, 1, "Trung bình"),
    OTHER: (("15", "19", "17", "8", "16", "9"), 100, 1, "Tốt"),
}

# unit, field, name, online, in person/postal, carried over, early, on time, late, within deadline, overdue
II06A = [
    (PROVINCE, "CT", "Chứng thực", 5, 20, 3, 10, 9, 3, 4, 2),
    (PROVINCE, "HT", "Hộ tịch", 40, 60, 10, 50, 30, 5, 20, 5),
    (DEPT, "HT", "Hộ tịch", 40, 60, 10, 50, 30, 5, 20, 5),
    (COMMUNE, "CT", "Chứng thực", 5, 20, 3, 10, 9, 3, 4, 2),
    (OTHER, "CT", "Chứng thực", 1, 1, 0, 1, 1, 0, 0, 0),
]

# dossier, unit, TTHC, field, channel, received, due, end, overdue hours, apology, status
LATE = [
    (
        "H56.01-250702-0007",
        DEPT,
        "1.001234",
        "HT",
        2,
        "2025-07-02 01:15:00+00",
        "2025-07-09 10:00:00+00",
        "2025-07-11 03:30:00+00",
        "12.345",
        True,
        10,
    ),
    (
        "H56.11-250610-0031",
        COMMUNE,
        "2.000815",
        "CT",
        1,
        "2025-06-10 08:00:00+07",
        "2025-06-20 17:00:00+07",
        None,
        "30.5",
        False,
        4,
    ),
    (
        "H56.11-250715-0002",
        COMMUNE,
        "2.000815",
        "CT",
        3,
        "2025-07-15 09:00:00+07",
        "2025-07-22 17:00:00+07",
        "2025-07-21 16:00:00+07",
        0,
        False,
        10,
    ),
    (
        "H40.00-250701-0001",
        OTHER,
        "1.001234",
        "HT",
        2,
        "2025-07-01 08:00:00+07",
        "2025-07-03 17:00:00+07",
        None,
        8,
        False,
        4,
    ),
]

# unit, item, computed, portal
RECONCILIATION = [
    (PROVINCE, "TONG", "86.1329", "86.97"),  # −0.8371 → −0.84
    (PROVINCE, "2.1", "19.0", "19.0"),
    (PROVINCE, "3.3", "2.345", "2.3449"),  # rounded apart 2.35/2.34, but 0.0001 apart → 0.00
    (PROVINCE, "5.3", "1.000", "1.005"),  # −0.005, half away from zero → −0.01
    (PROVINCE, "MDSH", "9.0043", None),  # the portal gave nothing
    (OTHER, "TONG", "84", "85"),
]


def create_marts(conninfo: str) -> None:
    """The five marts, the unit closure, the gate's results and the watermarks, filled for H56."""
    with psycopg.connect(conninfo) as conn:
        conn.execute(DDL)
        conn.execute(RESULTS_DDL)
        ensure_raw_schema(conn)
        with conn.cursor() as cur:
            cur.executemany("insert into intermediate.int_unit_closure values (%s, %s, %s, %s, %s)", CLOSURE)
            for period_type, period_key, start, end in (
                ("month", PERIOD, "2025-07-01", "2025-08-01"),
                ("month", "2025-06", "2025-06-01", "2025-07-01"),
                ("quarter", "2025-Q3", "2025-07-01", "2025-10-01"),
            ):
                cur.executemany(
                    "insert into marts.mart_metric_monthly values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [
                        (
                            period_type,
                            period_key,
                            start,
                            end,
                            unit,
                            *UNITS[unit],
                            group,
                            metric,
                            name,
                            num,
                            den,
                            rate,
                            points,
                            mx,
                            applies,
                        )
                        for unit, group, metric, name, num, den, rate, points, mx, applies in METRICS
                    ],
                )
                cur.executemany(
                    "insert into marts.mart_score_monthly values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [
                        (
                            period_type,
                            period_key,
                            start,
                            end,
                            unit,
                            *UNITS[unit],
                            *groups,
                            sum(Decimal(g) for g in groups),
                            mx,
                            rank,
                            band,
                        )
                        for unit, (groups, mx, rank, band) in SCORES.items()
                    ],
                )
                cur.executemany(
                    "insert into marts.mart_report_ii06a values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [
                        (
                            period_type,
                            period_key,
                            unit,
                            field,
                            name,
                            on + off + carried,
                            on,
                            off,
                            carried,
                            early + ok + late,
                            early,
                            ok,
                            late,
                            within + overdue,
                            within,
                            overdue,
                        )
                        for unit, field, name, on, off, carried, early, ok, late, within, overdue in II06A
                    ],
                )
                cur.executemany(
                    "insert into marts.mart_late_dossiers values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                    [(period_type, period_key, *row) for row in LATE],
                )
                cur.executemany(
                    "insert into marts.mart_portal_reconciliation values (%s,%s,%s,%s,%s,%s,%s)",
                    [
                        (
                            period_type,
                            period_key,
                            unit,
                            item,
                            computed,
                            portal,
                            None if portal is None else Decimal(computed) - Decimal(portal),
                        )
                        for unit, item, computed, portal in RECONCILIATION
                    ],
                )
            # June is different on purpose: a leak of the wrong month shows in the numbers.
            cur.execute("update marts.mart_metric_monthly set numerator = 1 where period_key <> %s", (PERIOD,))
            cur.executemany(
                "insert into meta.watermarks (source, entity, high_watermark) values (%s, %s, %s)",
                [
                    ("one_stop", "ho_so", "2025-08-01 01:00:00+07"),
                    ("one_stop", "don_vi", "2025-08-01 00:30:00+07"),
                    ("dvc_portal", "payments", "2025-08-01 01:00:00+07"),
                ],
            )
        record_gate(conn, "gate-1", datetime.fromisoformat("2025-08-01T02:00:00+07:00"), failures=0)


def record_gate(conn: psycopg.Connection, run_id: str, at: datetime, failures: int) -> None:
    """A gate run of four checks, `failures` of them failed at severity 'fail', plus one warning."""
    rows = [(run_id, "marts", f"check_{i}", "fail", i >= failures, at) for i in range(4)]
    rows.append((run_id, "marts", "warn_0", "warn", False, at))
    conn.cursor().executemany(
        "insert into meta.quality_results (run_id, suite, check_name, severity, success, checked_at) "
        "values (%s, %s, %s, %s, %s, %s)",
        rows,
    )
