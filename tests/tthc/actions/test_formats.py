"""The CSV, the projection JSON and the text view of a unit's actions, exactly as the contract
says (header, sort, 2 or 4 decimals half away from zero, empties), on a hand-made unit."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from decimal import Decimal

from extractors.timefmt import LOCAL
from tthc.actions import formats
from tthc.actions.readers import UnitActions

T = datetime(2025, 7, 21, 9, 0, tzinfo=LOCAL)


def row(list_name, dossier, unit="U2", value=None, gain=None, apology=None, **more):
    return {
        "list_name": list_name,
        "dossier_code": dossier,
        "row_unit_code": unit,
        "handling_unit_code": unit,
        "procedure_code": "P1",
        "field_code": "F",
        "channel": 1,
        "status": 4,
        "received_at": datetime(2025, 7, 1, 8, tzinfo=LOCAL),
        "due_at": datetime(2025, 7, 22, 8, tzinfo=LOCAL),
        "list_value": value,
        "has_apology_letter": apology,
        "points_gain": gain,
        "current_step_number": 2,
        "current_step_unit_code": unit,
        "current_step_department": "Phòng A",
    } | more


def unit() -> UnitActions:
    rows = [
        row("thieu_ly_do", "HS9"),
        row("qua_han", "HS3", value=Decimal("12.345"), apology=False),
        row("qua_han", "HS10", value=Decimal("0"), apology=True),
        row("sap_den_han", "HS1", value=Decimal("2.005")),
        row("chua_dong_bo", "HS4", value=Decimal("0.0333333"), gain=Decimal("0.0333333")),
        row("thieu_ket_qua_dien_tu", "HS5", value=None, gain=Decimal("0.125")),
        row("buoc_qua_han", "HS6", unit="U7", value=Decimal("3.994999")),
        row("chua_tra_ket_qua", "HS7", value=Decimal("16")),
    ]
    return UnitActions(
        unit_code="U1",
        unit_name="Sở Thử",
        at=T,
        schema="actions",
        counts={
            "sap_den_han": 1,
            "qua_han": 2,
            "buoc_qua_han": 1,
            "chua_tra_ket_qua": 1,
            "thieu_ket_qua_dien_tu": 1,
            "chua_dong_bo": 1,
            "thieu_ly_do": 1,
        },
        three_things=[
            {
                "rank": 1,
                "metric_code": "2.1",
                "list_name": "sap_den_han",
                "points_at_stake": Decimal("1.125"),
                "row_count": 1,
            },
            {
                "rank": 2,
                "metric_code": "4.1",
                "list_name": "thieu_ket_qua_dien_tu",
                "points_at_stake": Decimal("0.125"),
                "row_count": 1,
            },
        ],
        projection={
            "dossiers_all": 40,
            "decided_on_time": 30,
            "decided_late": 2,
            "safe": 3,
            "undecided": 5,
            "rate_2_1_min": Decimal("0.875"),
            "rate_2_1_max": Decimal("0.95"),
            "points_2_1_min": Decimal("17.5"),
            "points_2_1_max": Decimal("19"),
            "points_5_3_min": Decimal("1"),
            "points_5_3_max": Decimal("2"),
            "total_points_now": Decimal("80.5"),
            "total_points_min": Decimal("78.004999"),
            "total_points_max": Decimal("81.115"),
        },
        rows=rows,
    )


def test_csv_exactly_as_the_contract():
    text = formats.csv_text(unit())
    assert text.splitlines() == [
        "danh_sach,ma_ho_so,ma_don_vi,gia_tri,co_van_ban_xin_loi",
        "buoc_qua_han,HS6,U7,3.99,",
        "chua_dong_bo,HS4,U2,0.03,",
        "chua_tra_ket_qua,HS7,U2,16.00,",
        "qua_han,HS10,U2,0.00,1",
        "qua_han,HS3,U2,12.35,0",
        "sap_den_han,HS1,U2,2.01,",
        "thieu_ket_qua_dien_tu,HS5,U2,0.13,",
        "thieu_ly_do,HS9,U2,,",
    ]
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [(r["danh_sach"], r["ma_ho_so"]) for r in parsed] == sorted((r["danh_sach"], r["ma_ho_so"]) for r in parsed)


def test_projection_json_keys_and_rounding():
    text = formats.projection_json(unit())
    assert json.loads(text) == {
        "ty_le_2_1_thap_nhat": 0.875,
        "ty_le_2_1_cao_nhat": 0.95,
        "tong_diem_thap_nhat": 78.0,
        "tong_diem_cao_nhat": 81.12,
        "so_ho_so_chua_quyet_dinh": 5,
        "ba_viec": [
            {"ma_chi_so": "2.1", "danh_sach": "sap_den_han", "diem_co_the_tang": 1.13, "so_ho_so": 1},
            {"ma_chi_so": "4.1", "danh_sach": "thieu_ket_qua_dien_tu", "diem_co_the_tang": 0.13, "so_ho_so": 1},
        ],
    }
    # the digits the contract asks for, not float's shortest form
    assert '"ty_le_2_1_thap_nhat": 0.8750' in text and '"tong_diem_thap_nhat": 78.00' in text


def test_rounding_is_half_away_from_zero():
    assert formats.rounded(Decimal("0.005"), formats.CENTS) == Decimal("0.01")
    assert formats.rounded(Decimal("-0.005"), formats.CENTS) == Decimal("-0.01")
    assert formats.rounded(Decimal("0.00005"), formats.RATE) == Decimal("0.0001")
    assert str(formats.rounded(Decimal("-0.001"), formats.CENTS)) == "0.00"
    assert formats.rounded(None, formats.CENTS) is None


def test_a_unit_with_no_dossiers_has_empty_rates_and_no_things():
    empty = UnitActions("U9", None, T, "actions", dict.fromkeys(formats.LIST_NAMES, 0), [], None, [])
    assert formats.csv_text(empty) == "danh_sach,ma_ho_so,ma_don_vi,gia_tri,co_van_ban_xin_loi\n"
    assert json.loads(formats.projection_json(empty)) == {
        "ty_le_2_1_thap_nhat": None,
        "ty_le_2_1_cao_nhat": None,
        "tong_diem_thap_nhat": None,
        "tong_diem_cao_nhat": None,
        "so_ho_so_chua_quyet_dinh": 0,
        "ba_viec": [],
    }
    assert "không có việc nào" in formats.text_view(empty)


def test_text_view_for_people():
    text = formats.text_view(unit())
    assert (
        text.index("Ba việc cần làm ngay")
        < text.index("Số hồ sơ theo danh sách")
        < text.index("Dự báo")
        < text.index("HS1;")
    )
    assert "Đơn vị U1 (Sở Thử), số liệu lúc 21/07/2025 09:00" in text
    assert "1. 2.1 Giải quyết đúng hạn: Sắp đến hạn, 1 hồ sơ, giữ được 1,13 điểm" in text
    assert "Quá hạn (qua_han): 2" in text
    assert "thấp nhất 87,50 %, cao nhất 95,00 %" in text
    assert "HS3; đơn vị U2" in text and "chưa có văn bản xin lỗi" in text
