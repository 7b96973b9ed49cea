"""Metric 2.1 end to end: hand-made raw records -> real dbt build -> mart numbers checked
against counts worked out on paper (docs/metrics.md, §6a).

The tiny province P has communes X1 and X2, commune XO merged into X2 on 1 July 2025, and a
department S1 with a branch CN1. Periods: June and July 2025 (as_of_date 2025-07-20).
Each dossier's comment says how it counts: June / July, + on time, - late, . not in scope.
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from tests.dbt.dbt_runner import run_dbt
from tests.dbt.records import dossier, load_raw, procedure, supplement, unit

pytestmark = pytest.mark.slow

P, X1, X2, XO, S1, CN1 = (
    "000.00.00.H99",
    "000.01.00.H99",
    "000.02.00.H99",
    "000.03.00.H99",
    "000.00.10.H99",
    "000.00.11.H99",
)

UNITS = [
    unit(P, "UBND tỉnh Thử", "TINH"),
    unit(X1, "UBND xã Một", "XA", parent=P),
    unit(X2, "UBND xã Hai", "XA", parent=P),
    unit(XO, "UBND xã Cũ", "XA", parent=P, valid_to="2025-06-30", successor=X2),
    unit(S1, "Sở Tài nguyên", "SO", parent=P),
    unit(CN1, "Chi nhánh VPĐK", "CHI_NHANH", parent=S1),
]

PROCEDURES = [procedure("1.000001", limit=2, limit_unit="NGAY_LAM_VIEC")]

DOSSIERS = [
    # X1
    dossier(
        "D01",
        X1,
        "2025-06-02 09:00",
        due="2025-06-10 17:00",
        ended="2025-06-09 10:00",
        returned="2025-06-11 08:00",
        status=10,
    ),  # Jun +   Jul .
    dossier("D02", X1, "2025-06-03 09:00", due="2025-06-12 17:00", ended="2025-06-13 09:00", status=9),  # Jun -   Jul .
    dossier(
        "D03",
        X1,
        "2025-06-20 09:00",
        due="2025-07-15 17:00",
        ended="2025-07-10 10:00",
        returned="2025-07-11 10:00",
        status=10,
    ),  # Jun + (open, not due) Jul +
    dossier("D04", X1, "2025-06-25 09:00", due="2025-06-30 17:00", status=4),  # Jun - (open, overdue) Jul -
    dossier(
        "D05", X1, "2025-06-05 09:00", due="2025-06-20 17:00", status=3, NgayTuChoi="20250605100000"
    ),  # refused: never counts
    dossier(
        "D06", X1, "2025-06-06 09:00", due="2025-06-20 17:00", ended="2025-06-07 09:00", status=9, deleted=True
    ),  # deleted: never counts
    dossier("D07", X1, "2025-06-07 09:00", status=1),  # not received: never counts
    # X2
    dossier(
        "D08", X2, "2025-06-10 09:00", due="2025-06-20 17:00", status=5, supplements=[supplement("2025-06-15 10:00")]
    ),  # one pending supplement: ends 15/6, Jun +
    dossier(
        "D09",
        X2,
        "2025-06-10 09:00",
        due="2025-06-25 17:00",
        ended="2025-06-20 09:00",
        returned="2025-06-20 10:00",
        status=10,
        supplements=[
            supplement("2025-06-12 09:00", "2025-06-13 09:00"),
            supplement("2025-06-16 09:00", "2025-06-17 09:00"),
        ],
    ),  # two supplements: Jun -
    dossier(
        "D10", X2, "2025-07-02 09:00", due="2025-07-10 17:00", ended="2025-07-05 09:00", status=7
    ),  # withdrawn in time: Jul +
    # no NgayHenTra: limit 2 working days = 16 h from Thu 3/7 15:00 -> due Mon 7/7 15:00
    dossier("D11", X2, "2025-07-03 15:00", ended="2025-07-07 10:00", status=9),  # Jul + (13 h used)
    dossier("D12", X2, "2025-07-03 15:00", ended="2025-07-08 10:00", status=9),  # Jul - (21 h used)
    # XO, merged into X2 from July
    dossier("D13", XO, "2025-06-16 09:00", due="2025-06-26 17:00", ended="2025-06-24 09:00", status=9),  # Jun + (XO)
    dossier("D14", XO, "2025-06-27 09:00", due="2025-07-08 17:00", status=4),  # Jun + (XO, open) Jul - (X2)
    # S1 / CN1
    dossier("D15", CN1, "2025-07-01 08:00", due="2025-07-03 17:00", ended="2025-07-02 09:00", status=9),  # Jul + (CN1)
    dossier(
        "D16", S1, "2025-06-30 16:00", due="2025-07-02 17:00", returned="2025-07-03 08:00", status=10
    ),  # Jun + (open, not due) Jul - (ended by NgayTra)
]

# An older version of D01 (still open, loaded first): staging must keep the newer one.
OLD_D01 = dossier("D01", X1, "2025-06-02 09:00", due="2025-06-10 17:00", status=4, updated="2025-06-02 09:05")

EXPECTED = {  # (period, unit): (numerator, denominator), worked out from the comments above
    ("2025-06", P): (6, 9),
    ("2025-06", X1): (2, 4),
    ("2025-06", X2): (1, 2),
    ("2025-06", XO): (2, 2),
    ("2025-06", S1): (1, 1),
    ("2025-06", CN1): (0, 0),
    ("2025-07", P): (4, 8),
    ("2025-07", X1): (1, 2),
    ("2025-07", X2): (2, 4),
    ("2025-07", S1): (1, 2),
    ("2025-07", CN1): (1, 1),
}


def build_mart(module_db, dbt_work):
    with psycopg.connect(module_db.conninfo()) as conn:
        load_raw(conn, "one_stop", "ho_so", [OLD_D01])
        load_raw(conn, "one_stop", "don_vi", UNITS)
        load_raw(conn, "one_stop", "thu_tuc", PROCEDURES)
        load_raw(conn, "one_stop", "ho_so", DOSSIERS)
    run_dbt(module_db, dbt_work, "build", as_of="2025-07-20")
    with psycopg.connect(module_db.conninfo()) as conn:
        rows = conn.execute(
            "SELECT period_key, unit_code, numerator, denominator, rate, points, max_points, applies,"
            " period_start, period_end, unit_level, parent_unit_code, group_code, metric_name"
            " FROM marts.mart_metric_monthly WHERE metric_code = '2.1' AND period_type = 'month'"
        ).fetchall()
    return {(r[0], r[1]): r for r in rows}


def check_one_row_per_unit_valid_at_each_period_end(mart):
    assert set(mart) == set(EXPECTED)  # XO (gone on 1 July) has a June row only


def check_pooled_counts_match_the_hand_computation(mart):
    got = {key: (int(row[2]), int(row[3])) for key, row in mart.items()}
    assert got == EXPECTED


def check_rate_and_points_follow_the_counts(mart):
    for key, (num, den) in EXPECTED.items():
        row = mart[key]
        assert row[6] == 20
        if den == 0:
            assert row[4] is None and row[5] == 20 and row[7] is False
        else:
            rate = Decimal(num) / Decimal(den)
            assert abs(row[4] - rate) < Decimal("1e-12")
            assert abs(row[5] - 20 * rate) < Decimal("1e-10")
            assert row[7] is True


def check_period_bounds_and_unit_attributes(mart):
    june = mart[("2025-06", X1)]
    assert (str(june[8]), str(june[9])) == ("2025-06-01", "2025-07-01")
    assert (june[10], june[11], june[12]) == ("XA", P, "TDGQ")
    assert mart[("2025-07", P)][11] is None
    assert mart[("2025-06", CN1)][11] == S1
    assert "đúng hạn" in june[13]


def check_personal_data_stays_in_restricted(module_db):
    with psycopg.connect(module_db.conninfo()) as conn:
        leaks = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE table_schema IN ('staging', 'intermediate', 'core', 'marts')"
            " AND column_name ~ '(applicant_(name|id_number|phone|email|address)|feedback_content)'"
        ).fetchall()
        restricted = conn.execute(
            "SELECT applicant_name, applicant_id_number FROM restricted.stg_one_stop__dossier_applicants"
            " WHERE dossier_code = 'D01'"
        ).fetchone()
        keys = conn.execute("SELECT DISTINCT applicant_key FROM core.fct_dossier").fetchall()
    assert leaks == []
    assert restricted == ("Nguyễn Văn A", "038090001234")
    assert len(keys) == 1 and len(keys[0][0]) == 64 and "038090001234" not in keys[0][0]


def check_docs_generate_describes_every_mart_column(module_db, dbt_work):
    import json

    run_dbt(module_db, dbt_work, "docs", "generate", as_of="2025-07-20")
    manifest = json.loads((dbt_work / "target" / "manifest.json").read_text())
    catalog = json.loads((dbt_work / "target" / "catalog.json").read_text())
    marts = [n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["schema"] == "marts"]
    assert marts
    for node in marts:
        built = catalog["nodes"][node["unique_id"]]["columns"]
        assert node["description"]
        for column in built:
            assert node["columns"].get(column, {}).get("description"), f"{node['name']}.{column}"


def test_metric_2_1_on_a_hand_computed_province(module_db, dbt_work):
    """One dbt build, then every check on its result (a single test, so that xdist never
    builds the same database twice on two workers)."""
    mart = build_mart(module_db, dbt_work)
    check_one_row_per_unit_valid_at_each_period_end(mart)
    check_pooled_counts_match_the_hand_computation(mart)
    check_rate_and_points_follow_the_counts(mart)
    check_period_bounds_and_unit_attributes(mart)
    check_personal_data_stays_in_restricted(module_db)
    check_docs_generate_describes_every_mart_column(module_db, dbt_work)
