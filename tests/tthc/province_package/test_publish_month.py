"""publish_month on a hand-made province: every file byte for byte, the gate, missing marts, versions."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import psycopg
import pytest

from tests.contract.extract_check import ExtractCheck, check_extract
from tests.tthc.province_package.province import COMMUNE, PERIOD, PROVINCE, record_gate
from tthc.province_package import TABLES
from tthc.province_package.monthly import PublishBlocked, publish_month
from tthc.province_package.periods import Month
from tthc.province_package.rows import MissingMart

pytestmark = pytest.mark.slow

MONTH = Month.parse(PERIOD)
BEFORE_CLOSING = datetime.fromisoformat("2025-08-04T23:59:59+07:00")
CLOSED = datetime.fromisoformat("2025-08-05T00:00:00+07:00")
CSVS = [t.file_name for t in TABLES]

H = {  # the header row of each file, as the contract lists the columns
    "chi_so_766.csv": "ky_bao_cao,ma_don_vi,ten_don_vi,cap_don_vi,ma_don_vi_cha,nhom,ma_chi_so,ten_chi_so,"
    "tu_so,mau_so,ty_le,diem,diem_toi_da,ap_dung",
    "tong_hop_diem.csv": "ky_bao_cao,ma_don_vi,ten_don_vi,cap_don_vi,ma_don_vi_cha,diem_ckmb,diem_tdgq,diem_clgq,"
    "diem_tttt,diem_mdhl,diem_mdsh,tong_diem,diem_toi_da,xep_hang,xep_loai",
    "bieu_II_06a.csv": "ky_bao_cao,ma_don_vi,ma_linh_vuc,ten_linh_vuc,tiep_nhan_tong,tiep_nhan_truc_tuyen,"
    "tiep_nhan_truc_tiep_bcci,tiep_nhan_ky_truoc,da_giai_quyet_tong,truoc_han,dung_han,qua_han,"
    "dang_giai_quyet_tong,trong_han,dang_qua_han",
    "ho_so_qua_han.csv": "ky_bao_cao,ma_ho_so,ma_don_vi,ma_tthc,ma_linh_vuc,kenh,ngay_tiep_nhan,ngay_hen_tra,"
    "ngay_ket_thuc_xu_ly,so_gio_lam_viec_qua_han,co_phieu_xin_loi,trang_thai",
    "doi_soat_dvcqg.csv": "ky_bao_cao,ma_don_vi,ma_chi_so,diem_tinh_toan,diem_dvcqg,chenh_lech",
}

EXPECTED = {
    "chi_so_766.csv": [
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,CKMB,1.1,Công bố TTHC đúng hạn,4,5,0.8000,1.60,2.00,1",
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,TDGQ,2.1,Giải quyết hồ sơ đúng hạn,950,1000,0.9500,19.00,20.00,1",
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,TDGQ,2.2,Thời gian giải quyết (giờ làm việc),1234.57,300,,0.00,0.00,1",
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,CLGQ,3.3,Hồ sơ trực tuyến,400,1000,0.4000,4.80,12.00,1",
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,MDHL,5.3,Mức độ hài lòng,,1000,0.8100,5.40,6.00,1",
        "2025-07,000.00.11.H56,UBND xã Kim Bình,XA,000.00.00.H56,TDGQ,2.1,Giải quyết hồ sơ đúng hạn,25,28,0.8929,17.86,20.00,1",
        "2025-07,000.01.00.H56,Sở Tư pháp,SO,000.00.00.H56,CKMB,1.1,Công bố TTHC đúng hạn,0,0,,2.00,2.00,0",
        "2025-07,000.01.00.H56,Sở Tư pháp,SO,000.00.00.H56,TDGQ,2.1,Giải quyết hồ sơ đúng hạn,2,3,0.6667,13.33,20.00,1",
    ],
    "tong_hop_diem.csv": [
        # 86.1329 → 86.13; groups round to 86.11, so CLGQ (17.4949, the largest residual) is written 17.50
        "2025-07,000.00.00.H56,UBND tỉnh Hà Nam,TINH,,15.67,19.31,17.50,8.00,16.64,9.00,86.13,100.00,1,Tốt",
        # 55.0279 → 55.03; groups round to 55.00: CKMB and TDGQ, which lost most, go up
        "2025-07,000.00.11.H56,UBND xã Kim Bình,XA,000.00.00.H56,10.01,12.01,8.00,6.00,14.00,5.00,55.03,100.00,1,Trung bình",
        # 55.0315 → 55.03; groups round to 55.06: CKMB and TDGQ, rounded up most, go down
        "2025-07,000.01.00.H56,Sở Tư pháp,SO,000.00.00.H56,10.00,12.00,8.01,6.01,14.01,5.01,55.03,100.00,1,Trung bình",
    ],
    "bieu_II_06a.csv": [
        "2025-07,000.00.00.H56,CT,Chứng thực,28,5,20,3,22,10,9,3,6,4,2",
        "2025-07,000.00.00.H56,HT,Hộ tịch,110,40,60,10,85,50,30,5,25,20,5",
        "2025-07,000.00.11.H56,CT,Chứng thực,28,5,20,3,22,10,9,3,6,4,2",
        "2025-07,000.01.00.H56,HT,Hộ tịch,110,40,60,10,85,50,30,5,25,20,5",
    ],
    "ho_so_qua_han.csv": [
        "2025-07,H56.01-250702-0007,000.01.00.H56,1.001234,HT,2,2025-07-02T08:15:00+07:00,"
        "2025-07-09T17:00:00+07:00,2025-07-11T10:30:00+07:00,12.35,1,10",
        "2025-07,H56.11-250610-0031,000.00.11.H56,2.000815,CT,1,2025-06-10T08:00:00+07:00,"
        "2025-06-20T17:00:00+07:00,,30.50,0,4",
        "2025-07,H56.11-250715-0002,000.00.11.H56,2.000815,CT,3,2025-07-15T09:00:00+07:00,"
        "2025-07-22T17:00:00+07:00,2025-07-21T16:00:00+07:00,0.00,0,10",
    ],
    "doi_soat_dvcqg.csv": [
        "2025-07,000.00.00.H56,2.1,19.00,19.00,0.00",
        "2025-07,000.00.00.H56,3.3,2.35,2.34,0.00",
        "2025-07,000.00.00.H56,5.3,1.00,1.01,-0.01",
        "2025-07,000.00.00.H56,MDSH,9.00,,",
        "2025-07,000.00.00.H56,TONG,86.13,86.97,-0.84",
    ],
}


def csv_bytes(lines: list[str]) -> bytes:
    return b"\xef\xbb\xbf" + "".join(line + "\r\n" for line in lines).encode("utf-8")


def validate(package: Path) -> ExtractCheck:
    # the project's check, then the shared validator where present; the hand-made marts hold a few
    # metrics per unit, so "every metric for every unit" is left to tests/integration/test_slice.py
    return check_extract(package, CSVS, every_metric=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def execute(dsn, sql: str, *params) -> None:
    with psycopg.connect(dsn.conninfo()) as conn:
        conn.execute(sql, params or None)


def test_all_five_files_match_hand_values_and_pass_the_validator(warehouse, outbox):
    result = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert result.path == outbox / PROVINCE / PERIOD / "v1"
    check = validate(result.path)
    assert check.returncode == 0, check.stdout + check.stderr
    for name in CSVS:
        assert (result.path / name).read_bytes() == csv_bytes([H[name], *EXPECTED[name]]), name
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["trang_thai"] == "TAM_TINH"
    assert manifest["nguon_du_lieu"] == {
        "one_stop": "2025-08-01T00:30:00+07:00",
        "dvc_portal": "2025-08-01T01:00:00+07:00",
    }
    assert manifest["kiem_tra_chat_luong"] == {
        "ket_qua": "DAT",
        "so_kiem_tra": 5,
        "so_loi": 0,  # no loss counted
        "so_ban_ghi_cach_ly": None,
        "so_ban_ghi_thieu": None,
        "du_lieu_thieu": None,
        "canh_bao": [],
    }
    assert [(e["ten"], e["so_dong"]) for e in manifest["tep"]] == [
        *((name, len(EXPECTED[name])) for name in CSVS),
        ("bao_cao.xlsx", 23),
    ]


def test_a_subtree_unit_publishes_only_its_own_tree(warehouse, outbox):
    result = publish_month(warehouse, COMMUNE, MONTH, BEFORE_CLOSING, outbox)
    assert validate(result.path).returncode == 0
    for name in CSVS:
        rows = (result.path / name).read_bytes().decode("utf-8-sig").split("\r\n")[1:-1]
        assert rows == [r for r in EXPECTED[name] if f",{COMMUNE}," in r], name


def test_a_unit_without_the_portals_official_total_is_warned_in_the_manifest_and_workbook(warehouse, outbox):
    result = publish_month(warehouse, COMMUNE, MONTH, BEFORE_CLOSING, outbox)  # the portal scored only the province
    assert validate(result.path).returncode == 0
    warnings = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))["kiem_tra_chat_luong"][
        "canh_bao"
    ]
    assert warnings == [
        f"Chưa có điểm chính thức của Cổng DVCQG cho đơn vị {COMMUNE} kỳ {PERIOD}: cột diem_dvcqg "
        "của doi_soat_dvcqg.csv để trống, chưa đối soát được tổng điểm."
    ]
    info = dict(
        openpyxl.load_workbook(result.path / "bao_cao.xlsx")["Thông tin"].iter_rows(min_row=2, values_only=True)
    )
    assert info["Cảnh báo"] == warnings[0]


def test_status_turns_final_on_the_closing_day_and_changes_become_new_versions(warehouse, outbox):
    v1 = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    v1_files = snapshot(v1.path)
    again = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert (again.created, again.version, again.path) == (False, 1, v1.path)

    # a late update reaches the marts: a dossier's overdue hours are corrected
    execute(
        warehouse,
        "update marts.mart_late_dossiers set overdue_working_hours = 13 "
        "where dossier_code = 'H56.01-250702-0007' and period_key = %s",
        PERIOD,
    )
    v2 = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert (v2.created, v2.version, v2.replaced_version) == (True, 2, 1)
    assert snapshot(v1.path) == v1_files  # an issued version is never touched
    manifest = json.loads((v2.path / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["phien_ban"], manifest["thay_the_phien_ban"], manifest["trang_thai"]) == (2, 1, "TAM_TINH")
    assert b",13.00,1,10\r\n" in (v2.path / "ho_so_qua_han.csv").read_bytes()
    assert validate(v2.path).returncode == 0

    final = publish_month(warehouse, PROVINCE, MONTH, CLOSED, outbox)
    manifest = json.loads((final.path / "manifest.json").read_text(encoding="utf-8"))
    assert (final.version, manifest["trang_thai"], manifest["thay_the_phien_ban"]) == (3, "CHINH_THUC", 2)
    assert sorted(p.name for p in (outbox / PROVINCE / PERIOD).iterdir() if not p.name.startswith(".")) == [
        "v1",
        "v2",
        "v3",
    ]


def test_a_failed_last_gate_blocks_publishing_until_a_gate_passes(warehouse, outbox):
    with psycopg.connect(warehouse.conninfo()) as conn:
        record_gate(conn, "gate-2", datetime.fromisoformat("2025-08-01T03:00:00+07:00"), failures=2)
    with pytest.raises(PublishBlocked, match="gate-2.*failed 2 check"):
        publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert not (outbox / PROVINCE).exists()
    with psycopg.connect(warehouse.conninfo()) as conn:
        record_gate(conn, "gate-3", datetime.fromisoformat("2025-08-01T04:00:00+07:00"), failures=0)
    assert publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox).version == 1


def test_the_manifest_counts_the_checks_of_the_gate_run_the_published_marts_passed(warehouse, outbox):
    from tthc.pipeline.marts import record_publication

    with psycopg.connect(warehouse.conninfo()) as conn:
        record_publication("gate-1", MONTH.start)(conn)  # the marts passed gate-1's five checks
        record_gate(conn, "gate-3", datetime.fromisoformat("2025-08-01T04:00:00+07:00"), failures=0)
        conn.execute(
            "insert into meta.quality_results (run_id, suite, check_name, severity, success, checked_at) "
            "select 'gate-3', 'core', check_name, severity, success, checked_at "
            "from meta.quality_results where run_id = 'gate-3'"
        )
    manifest = json.loads(
        (publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox).path / "manifest.json").read_text(
            encoding="utf-8"
        )
    )
    assert manifest["kiem_tra_chat_luong"]["so_kiem_tra"] == 5  # not gate-3's ten: no marts were built on it
    with psycopg.connect(warehouse.conninfo()) as conn:
        record_publication("gate-3", MONTH.start)(conn)
    # (a package whose files did not change keeps its version: ask a new outbox)
    manifest = json.loads(
        (publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox / "again").path / "manifest.json").read_text(
            encoding="utf-8"
        )
    )
    assert manifest["kiem_tra_chat_luong"]["so_kiem_tra"] == 10


def test_a_missing_mart_is_named_and_nothing_is_written(warehouse, outbox):
    execute(warehouse, "drop table marts.mart_portal_reconciliation")
    execute(warehouse, "drop table marts.mart_late_dossiers")
    with pytest.raises(MissingMart, match="marts.mart_late_dossiers, marts.mart_portal_reconciliation do not exist"):
        publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert not (outbox / PROVINCE).exists()


def test_a_mart_without_rows_for_the_month_is_an_empty_file(warehouse, outbox):
    execute(warehouse, "delete from marts.mart_late_dossiers where period_key = %s", PERIOD)
    result = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert validate(result.path).returncode == 0
    assert (result.path / "ho_so_qua_han.csv").read_bytes() == csv_bytes([H["ho_so_qua_han.csv"]])
    manifest = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))
    assert {e["ten"]: e["so_dong"] for e in manifest["tep"]}["ho_so_qua_han.csv"] == 0


def test_a_unit_outside_the_tree_on_the_last_day_is_refused(warehouse, outbox):
    with pytest.raises(ValueError, match="000.00.12.H56 in 2025-07"):
        publish_month(warehouse, "000.00.12.H56", MONTH, BEFORE_CLOSING, outbox)  # merged away on 1 July
    assert not (outbox / "000.00.12.H56").exists()


def test_the_manifest_says_how_many_records_were_quarantined_or_missing(warehouse, outbox):
    """A dossier quarantined below the thresholds: the month is published, and the manifest says
    what the warehouse knew it lacked when the package was built (as the last gate counted it)."""
    from expectations.loss import record_status
    from tthc.warehouse.stages import as_stage

    with psycopg.connect(warehouse.conninfo()) as conn:
        conn.execute("""
            insert into meta.extract_runs (batch_id, source, entity, window_from, window_to, status, fetched,
                                           loaded, quarantined, source_total, started_at)
            values (7, 'one_stop', 'ho_so', '2025-07-31 01:00+07', '2025-08-01 01:00+07', 'success', 40, 39, 1, 40,
                    '2025-08-01 01:00+07');
            insert into raw.one_stop__ho_so (record_key, source_updated_at, payload, payload_hash, batch_id)
            select 'H56.01-250731-' || lpad(i::text, 4, '0'), timestamptz '2025-07-31 10:00+07', '{}', md5(i::text), 7
            from generate_series(1, 39) i;
            insert into raw.quarantine (source, entity, batch_id, record_key, reason, raw_text)
            values ('one_stop', 'ho_so', 7, 'H56.01-250731-0040', 'unknown code TrangThaiHoSo=42', '{}');
        """)
    # the gate keeps its count as the transformer does in production; the publisher reads it
    over = record_status(as_stage(warehouse, "transformer"), "gate-1")
    assert over == []
    result = publish_month(warehouse, PROVINCE, MONTH, BEFORE_CLOSING, outbox)
    assert validate(result.path).returncode == 0
    quality = json.loads((result.path / "manifest.json").read_text(encoding="utf-8"))["kiem_tra_chat_luong"]
    assert quality == {
        "ket_qua": "DAT",
        "so_kiem_tra": 5,
        "so_loi": 0,
        "so_ban_ghi_cach_ly": 1,
        "so_ban_ghi_thieu": 0,
        "du_lieu_thieu": [
            {
                "nguon": "one_stop",
                "doi_tuong": "ho_so",
                "so_ban_ghi_cach_ly": 1,
                "so_ban_ghi_thieu": 0,
                "vuot_nguong": False,
            }
        ],
        "canh_bao": [],
    }
    # and the workbook a province official opens says it too
    info = dict(
        openpyxl.load_workbook(result.path / "bao_cao.xlsx")["Thông tin"].iter_rows(min_row=2, values_only=True)
    )
    assert (info["Số bản ghi cách ly"], info["Số bản ghi thiếu"]) == (1, 0)
