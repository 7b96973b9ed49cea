"""Published act-today tables with the contract's columns (notes: actions-contract.md), made by
hand in a scratch database, so the workbook and message tests do not wait for a dbt build.

Two units: the province P (two lists' worth of rows, its three things, a projection) and the
commune C under it; a handler's name sits in act_list_rows_named only, to prove it never leaves.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg

from tthc.actions import message_log
from tthc.actions.names import ROW_COLUMNS as LIST_ROW_COLUMNS
from tthc.warehouse import Dsn
from tthc.warehouse.roles import PUBLISHER
from tthc.warehouse.stages import as_stage, bootstrap

VN = timezone(timedelta(hours=7))
AT = datetime(2025, 7, 21, 9, 0, tzinfo=VN)
DAY = date(2025, 7, 21)
PROVINCE, COMMUNE = "000.00.00.H12", "000.01.00.H12"
HANDLER = "Nguyễn Văn Cán Bộ"  # only in act_list_rows_named

DDL = """
create schema if not exists actions;
create schema if not exists core;
create table core.dim_unit (unit_code text primary key, unit_name text, unit_level text, parent_unit_code text,
    successor_unit_code text, national_portal_code text, valid_from date, valid_to date);
create table actions.act_refresh (at_ts timestamptz, period_key text, period_start_ts timestamptz,
    period_end_ts timestamptz, due_soon_hours numeric, not_returned_hours numeric, unsynced_hours numeric,
    built_at timestamptz);
create table actions.act_list_rows (at_ts timestamptz, unit_code text, list_name text, dossier_code text,
    row_unit_code text, handling_unit_code text, procedure_code text, field_code text, channel integer,
    status integer, received_at timestamptz, due_at timestamptz, list_value numeric, has_apology_letter boolean,
    points_gain numeric, current_step_number integer, current_step_unit_code text, current_step_department text);
create table actions.act_list_rows_named as select *, null::text as handler_name from actions.act_list_rows;
create table actions.act_three_things (at_ts timestamptz, unit_code text, rank integer, metric_code text,
    list_name text, points_at_stake numeric, row_count integer);
create table actions.act_projection (at_ts timestamptz, unit_code text, dossiers_all integer,
    decided_on_time integer, decided_late integer, safe integer, undecided integer, rate_2_1_min numeric,
    rate_2_1_max numeric, points_2_1_min numeric, points_2_1_max numeric, points_5_3_min numeric,
    points_5_3_max numeric, total_points_now numeric, total_points_min numeric, total_points_max numeric);
create table actions.act_undecided_dossiers (at_ts timestamptz, unit_code text, dossier_code text,
    row_unit_code text, due_at timestamptz, due_rank integer);
"""

ROW_COLUMNS = ("at_ts", "unit_code", "list_name", *LIST_ROW_COLUMNS)


def row(
    unit: str,
    list_name: str,
    code: str,
    *,
    value=None,
    apology=None,
    gain=None,
    status=4,
    row_unit: str = COMMUNE,
    received: datetime | None = None,
    due: datetime | None = None,
) -> dict:
    return {
        "at_ts": AT,
        "unit_code": unit,
        "list_name": list_name,
        "dossier_code": code,
        "row_unit_code": row_unit,
        "handling_unit_code": COMMUNE,
        "procedure_code": "1.001234",
        "field_code": "G09-TP01",
        "channel": 2,
        "status": status,
        "received_at": received or datetime(2025, 7, 14, 8, 30, tzinfo=VN),
        "due_at": due or datetime(2025, 7, 21, 15, 45, 30, tzinfo=VN),
        "list_value": value,
        "has_apology_letter": apology,
        "points_gain": gain,
        "current_step_number": 2,
        "current_step_unit_code": row_unit,
        "current_step_department": "Phòng Tư pháp",
    }


def _rows_of(unit: str) -> list[dict]:
    return [
        row(unit, "sap_den_han", f"{COMMUNE}-250714-0002", value=Decimal("6.125"), gain=Decimal("0.0412")),
        row(unit, "sap_den_han", f"{COMMUNE}-250714-0001", value=Decimal("1.5"), gain=Decimal("0.0412")),
        row(
            unit,
            "qua_han",
            f"{COMMUNE}-250701-0003",
            value=Decimal("12.333333"),
            apology=False,
            due=datetime(2025, 7, 18, 10, 0, tzinfo=VN),
        ),
        row(unit, "qua_han", f"{COMMUNE}-250701-0004", value=Decimal("0"), apology=True),
        row(unit, "buoc_qua_han", f"{COMMUNE}-250710-0001", value=Decimal("3.005"), row_unit=COMMUNE),
        row(unit, "chua_tra_ket_qua", f"{COMMUNE}-250702-0001", value=Decimal("17.25"), status=9),
        row(
            unit,
            "thieu_ket_qua_dien_tu",
            f"{COMMUNE}-250703-0001",
            value=Decimal("0.0523"),
            gain=Decimal("0.0523"),
            status=10,
        ),
        row(unit, "chua_dong_bo", f"{COMMUNE}-250715-0001", value=Decimal("0.0307"), gain=Decimal("0.0307")),
        row(unit, "thieu_ly_do", f"{COMMUNE}-250705-0001", status=8),
    ]


def three_things(unit: str) -> list[tuple]:
    return [
        (AT, unit, 1, "2.1", "sap_den_han", Decimal("0.0824"), 2),
        (AT, unit, 2, "4.1", "thieu_ket_qua_dien_tu", Decimal("0.0523"), 1),
        (AT, unit, 3, "1.4", "chua_dong_bo", Decimal("0.03065"), 1),
    ]


PROJECTION = {
    "dossiers_all": 40,
    "decided_on_time": 30,
    "decided_late": 3,
    "safe": 4,
    "undecided": 3,
    "rate_2_1_min": Decimal("0.925"),
    "rate_2_1_max": Decimal("0.99999"),
    "points_2_1_min": Decimal("18.5"),
    "points_2_1_max": Decimal("19.99998"),
    "points_5_3_min": Decimal("5.1234"),
    "points_5_3_max": Decimal("5.8765"),
    "total_points_now": Decimal("71.005"),
    "total_points_min": Decimal("70.125"),
    "total_points_max": Decimal("72.994"),
}


def create_published(admin: Dsn, *, units=(PROVINCE, COMMUNE), extra_units=()) -> None:
    """The published tables and dim_unit as the superuser, then the roles' bootstrap (which gives
    the publisher its reads, as the actions swap does)."""
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(DDL)
        conn.execute(
            "insert into core.dim_unit values (%s, 'Tỉnh Mẫu', 'province', null, null, null, '2020-01-01', null),"
            " (%s, 'Xã Mẫu', 'commune', %s, null, null, '2025-07-01', null)",
            (PROVINCE, COMMUNE, PROVINCE),
        )
        for code in extra_units:
            conn.execute(
                "insert into core.dim_unit values (%s, 'Xã Khác', 'commune', %s, null, null, '2025-07-01', null)",
                (code, PROVINCE),
            )
        conn.execute(
            "insert into actions.act_refresh values (%s, '2025-07', %s, %s, 8, 16, 24, now())",
            (AT, datetime(2025, 7, 1, tzinfo=VN), datetime(2025, 8, 1, tzinfo=VN)),
        )
        placeholders = ", ".join(["%s"] * len(ROW_COLUMNS))
        for unit in units:
            for r in _rows_of(unit):
                values = [r[c] for c in ROW_COLUMNS]
                conn.execute(f"insert into actions.act_list_rows values ({placeholders})", values)
                conn.execute(f"insert into actions.act_list_rows_named values ({placeholders}, %s)", [*values, HANDLER])
            conn.cursor().executemany(
                "insert into actions.act_three_things values (%s, %s, %s, %s, %s, %s, %s)", three_things(unit)
            )
            conn.execute(
                "insert into actions.act_projection values (%s, %s, " + ", ".join(["%s"] * len(PROJECTION)) + ")",
                [AT, unit, *PROJECTION.values()],
            )
            conn.cursor().executemany(
                "insert into actions.act_undecided_dossiers values (%s, %s, %s, %s, %s, %s)",
                [
                    (AT, unit, f"{COMMUNE}-250714-000{i}", COMMUNE, datetime(2025, 7, 22 + i, 10, 0, tzinfo=VN), i)
                    for i in (1, 2, 3)
                ],
            )
    bootstrap(admin)  # grants the publisher its reads: core.dim_unit, and actions through grant_actions
    with psycopg.connect(as_stage(admin, "transformer").conninfo(), autocommit=True) as conn:
        message_log.ensure_table(conn, writer=PUBLISHER)  # as a publish of the lists makes it
