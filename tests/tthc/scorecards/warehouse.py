"""A small province in the marts' and the published lists' shape, made by hand in a scratch
database, so the reader's tests do not wait for a dbt build (a real build is tested in
test_data.py's slice test).

Tree: the province P; under it the department D (SO) and the communes C1, C2, C3 (XA), and GONE, a
commune merged away at the end of May 2025 (in the marts up to 2025-05 only). Months 2024-08 ..
2025-07 (C2 has no row in 2025-03), quarters 2025-Q2 and Q3, years 2024 and 2025.
mart_metric_monthly holds every metric of the seed for every unit and period; mart_score_monthly is
made from it by the same rules as the dbt model (group sums, competition rank among units of the
same parent and level, band on the total rounded to 2 decimals), so totals tie and ranks share.
The published lists are of T = 2025-07-21 09:00 (+07): act_points_at_stake for every unit,
three things and a projection for P and C1 (the list rows are empty: the daily workbooks have
nothing to write, the scorecards of the month to date still do).
"""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from extractors.raw.schema import ensure_raw_schema
from tthc.paths import DBT_PROJECT_DIR
from tthc.warehouse import Dsn
from tthc.warehouse.stages import bootstrap

VN = timezone(timedelta(hours=7))
AT = datetime(2025, 7, 21, 9, 0, tzinfo=VN)
P, D, C1, C2, C3, GONE = (
    "000.00.00.H99",
    "000.01.00.H99",
    "000.00.11.H99",
    "000.00.12.H99",
    "000.00.13.H99",
    "000.00.14.H99",
)
UNITS = {  # code: (name, level, parent, valid_to)
    P: ("UBND tỉnh Mẫu", "TINH", None, None),
    D: ("Sở Tư pháp", "SO", P, None),
    C1: ("UBND xã Long Hiệp", "XA", P, None),
    C2: ("UBND xã Kim Bình", "XA", P, None),
    C3: ("UBND xã Thanh An", "XA", P, None),
    GONE: ("UBND xã Thanh Sơn", "XA", P, date(2025, 5, 31)),
}
MONTHS = [
    f"{y}-{m:02d}"
    for y, m in [(2024, 8), (2024, 9), (2024, 10), (2024, 11), (2024, 12)] + [(2025, m) for m in range(1, 8)]
]
MISSING = {(C2, "2025-03")}
OFFICIAL = {(P, "month", "2025-07"): Decimal("86.97"), (C1, "month", "2025-07"): None}

DDL = """
create schema if not exists marts; create schema if not exists core; create schema if not exists actions;
create table core.dim_unit (unit_code text primary key, unit_name text, unit_level text, parent_unit_code text,
    successor_unit_code text, national_portal_code text, valid_from date, valid_to date);
create table marts.mart_metric_monthly (
    period_type text, period_key text, period_start date, period_end date, unit_code text, unit_name text,
    unit_level text, parent_unit_code text, group_code text, metric_code text, metric_name text,
    numerator numeric, denominator numeric, rate numeric, points numeric, max_points numeric, applies boolean);
create table marts.mart_portal_reconciliation (
    period_type text, period_key text, unit_code text, item_code text,
    computed_points numeric, portal_points numeric, difference numeric);
create table actions.act_refresh (at_ts timestamptz, period_key text, period_start_ts timestamptz,
    period_end_ts timestamptz, due_soon_hours numeric, not_returned_hours numeric, unsynced_hours numeric,
    built_at timestamptz);
create table actions.act_three_things (at_ts timestamptz, unit_code text, rank integer, metric_code text,
    list_name text, points_at_stake numeric, row_count integer);
create table actions.act_projection (at_ts timestamptz, unit_code text, dossiers_all integer,
    decided_on_time integer, decided_late integer, safe integer, undecided integer, rate_2_1_min numeric,
    rate_2_1_max numeric, points_2_1_min numeric, points_2_1_max numeric, points_5_3_min numeric,
    points_5_3_max numeric, total_points_now numeric, total_points_min numeric, total_points_max numeric);
create table actions.act_list_rows (at_ts timestamptz, unit_code text, list_name text, dossier_code text,
    row_unit_code text, handling_unit_code text, procedure_code text, field_code text, channel integer,
    status integer, received_at timestamptz, due_at timestamptz, list_value numeric, has_apology_letter boolean,
    points_gain numeric, current_step_number integer, current_step_unit_code text, current_step_department text);
create table actions.act_undecided_dossiers (at_ts timestamptz, unit_code text, dossier_code text,
    row_unit_code text, due_at timestamptz, due_rank integer);
create table actions.act_points_at_stake (at_ts timestamptz, unit_code text, metric_code text, numerator numeric,
    denominator numeric, applies boolean, max_points numeric, points numeric, lost_points numeric,
    gain_one_more numeric, dossiers_to_cap numeric);
"""

# mart_score_monthly as the dbt model makes it from mart_metric_monthly (without the five-group view).
SCORES = """
create table marts.mart_score_monthly as
with summed as (
    select period_type, period_key, period_start, period_end, unit_code, unit_name, unit_level, parent_unit_code,
        coalesce(sum(points) filter (where group_code = 'CKMB'), 0) as score_ckmb,
        coalesce(sum(points) filter (where group_code = 'TDGQ'), 0) as score_tdgq,
        coalesce(sum(points) filter (where group_code = 'CLGQ'), 0) as score_clgq,
        coalesce(sum(points) filter (where group_code = 'TTTT'), 0) as score_tttt,
        coalesce(sum(points) filter (where group_code = 'MDHL'), 0) as score_mdhl,
        coalesce(sum(points) filter (where group_code = 'MDSH'), 0) as score_mdsh,
        sum(points) as total_score, sum(max_points) as max_score
    from marts.mart_metric_monthly group by 1, 2, 3, 4, 5, 6, 7, 8)
select *, rank() over (partition by period_type, period_key, parent_unit_code, unit_level
                       order by total_score desc)::integer as rank_in_level,
       case when round(total_score, 2) >= 90 then 'Tốt' when round(total_score, 2) >= 80 then 'Khá'
            when round(total_score, 2) >= 50 then 'Trung bình' else 'Yếu' end as rating_band
from summed
"""


def rules() -> list[dict]:
    """The seed's metrics, one row per code (its default variant), in code order."""
    seen = {}
    with open(DBT_PROJECT_DIR / "seeds" / "metric_scoring_rules.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            seen.setdefault(row["metric_code"], row)
    return list(seen.values())


def periods() -> list[tuple[str, str, date, date]]:
    out = []
    for key in MONTHS:
        y, m = map(int, key.split("-"))
        out.append(("month", key, date(y, m, 1), date(y + (m == 12), m % 12 + 1, 1)))
    out += [
        ("quarter", "2025-Q2", date(2025, 4, 1), date(2025, 7, 1)),
        ("quarter", "2025-Q3", date(2025, 7, 1), date(2025, 10, 1)),
        ("year", "2024", date(2024, 1, 1), date(2025, 1, 1)),
        ("year", "2025", date(2025, 1, 1), date(2026, 1, 1)),
    ]
    return out


def counts(unit: str, key: str, code: str) -> tuple[Decimal, Decimal]:
    """(numerator, denominator) of a metric: varies by unit, period and metric; C1 and C2 tie in
    2025-07; the communes' 4.1 as the Minh Long directive's appendix had them."""
    if code == "4.1" and (unit == C1 or (unit == C2 and key == "2025-07")):
        return Decimal(5456), Decimal(10000)
    if code == "4.1" and unit == C3:
        return Decimal(2237), Decimal(10000)
    shift = 0 if unit in (C1, C2) and key == "2025-07" else sum(map(ord, unit + key)) % 7
    denominator = Decimal(20)
    return denominator - Decimal((shift + int(code.replace(".", ""))) % 9), denominator


def metric_rows() -> list[tuple]:
    rows = []
    for kind, key, start, end in periods():
        last = end - timedelta(days=1)
        for unit, (name, level, parent, valid_to) in UNITS.items():
            if (unit, key) in MISSING or (valid_to is not None and valid_to < last):
                continue
            for r in rules():
                code, mx = r["metric_code"], Decimal(r["max_points"])
                num, den = counts(unit, key, code)
                rate = None if code == "2.2" else num / den
                points = Decimal(0) if code == "2.2" else mx * rate
                rows.append(
                    (
                        kind,
                        key,
                        start,
                        end,
                        unit,
                        name,
                        level,
                        parent,
                        r["group_code"],
                        code,
                        r["metric_name"],
                        num,
                        den,
                        rate,
                        points,
                        mx,
                        True,
                    )
                )
    return rows


def points_rows() -> list[tuple]:
    """act_points_at_stake at T: every unit valid on T's day, every metric; C2 ahead of C1."""
    rows = []
    for unit in (P, D, C1, C2, C3):
        for r in rules():
            code, mx = r["metric_code"], Decimal(r["max_points"])
            den = Decimal(10)
            num = den - Decimal((len(code) + (unit == C1) * 2 + (unit == C3)) % 4)
            applies = code not in ("1.1", "1.2", "1.3") or unit == P
            points = mx if not applies else (Decimal(0) if code == "2.2" else mx * num / den)
            rows.append((AT, unit, code, num, den, applies, mx, points, mx - points, 0, 0))
    return rows


def create_warehouse(admin: Dsn, *, lists: bool = True) -> None:
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        ensure_raw_schema(conn)  # meta.watermarks
        conn.execute(DDL)
        cur = conn.cursor()
        cur.executemany(
            "insert into core.dim_unit values (%s, %s, %s, %s, null, null, '2020-01-01', %s)",
            [(u, n, lv, p, vt) for u, (n, lv, p, vt) in UNITS.items()],
        )
        cur.executemany(
            "insert into marts.mart_metric_monthly values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            metric_rows(),
        )
        conn.execute(SCORES)
        conn.execute(
            "insert into marts.mart_portal_reconciliation select period_type, period_key, unit_code, 'TONG', "
            "total_score, null, null from marts.mart_score_monthly"
        )
        for (unit, kind, key), portal in OFFICIAL.items():
            conn.execute(
                "update marts.mart_portal_reconciliation set portal_points = %s where unit_code = %s and "
                "period_type = %s and period_key = %s",
                (portal, unit, kind, key),
            )
        cur.executemany(
            "insert into meta.watermarks (source, entity, high_watermark) values (%s, %s, %s)",
            [
                ("one_stop", "ho_so", "2025-08-01 01:00:00+07"),
                ("one_stop", "don_vi", "2025-08-01 00:30:00+07"),
                ("dvc_portal", "payments", "2025-08-01 02:00:00+07"),
            ],
        )
        if lists:
            conn.execute(
                "insert into actions.act_refresh values (%s, '2025-07', %s, %s, 8, 16, 24, now())",
                (AT, datetime(2025, 7, 1, tzinfo=VN), datetime(2025, 8, 1, tzinfo=VN)),
            )
            for unit in (P, C1):
                cur.executemany(
                    "insert into actions.act_three_things values (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (AT, unit, 1, "2.1", "sap_den_han", Decimal("0.0824"), 2),
                        (AT, unit, 2, "4.1", "thieu_ket_qua_dien_tu", Decimal("0.0523"), 1),
                        (AT, unit, 3, "1.4", "chua_dong_bo", Decimal("0.03065"), 1),
                    ],
                )
                conn.execute(
                    "insert into actions.act_projection values (%s, %s, 40, 30, 3, 4, 3, 0.925, 0.99999, "
                    "18.5, 19.99998, 5.1234, 5.8765, 71.005, 70.125, 72.994)",
                    (AT, unit),
                )
            cur.executemany(
                "insert into actions.act_points_at_stake values (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)", points_rows()
            )
    bootstrap(admin)  # roles and grants: the publisher reads marts, core.dim_unit, actions
