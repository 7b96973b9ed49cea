"""Packages: contract validity, manifest, versioning, atomic writes, reproducible bytes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.tthc.province_package.sample import (
    NOW,
    PERIOD,
    PROVINCE,
    all_tables,
    chi_so_rows,
    qua_han_rows,
    validate,
    write,
)
from tthc.province_package import PackageError

ALL_FILES = [*all_tables(), "bao_cao.xlsx"]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_full_package_passes_the_contract_validator(outbox):
    result = write(outbox)
    assert result.path == outbox / PROVINCE / PERIOD / "v1"
    assert (result.version, result.created, result.replaced_version) == (1, True, None)
    checked = validate(result.path, ALL_FILES)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK" in checked.stdout


def test_first_slice_package_with_only_chi_so_passes_the_validator(outbox):
    result = write(outbox, tables={"chi_so_766.csv": chi_so_rows()})
    assert sorted(p.name for p in result.path.iterdir()) == ["bao_cao.xlsx", "chi_so_766.csv", "manifest.json"]
    checked = validate(result.path, ["chi_so_766.csv", "bao_cao.xlsx"])
    assert checked.returncode == 0, checked.stdout


def test_validator_catches_a_tampered_package(outbox):
    # Proves the validator check above can fail: one changed byte breaks the sha256.
    result = write(outbox, tables={"chi_so_766.csv": chi_so_rows()})
    path = result.path / "chi_so_766.csv"
    path.write_bytes(path.read_bytes().replace(b"1.1", b"1.9", 1))
    checked = validate(result.path, ["chi_so_766.csv"])
    assert checked.returncode == 1 and "sha256 differs" in checked.stdout


def test_manifest_lists_every_file_with_rows_and_sha256(outbox):
    tables = all_tables()
    result = write(outbox, tables=tables)
    raw = (result.path / "manifest.json").read_bytes()
    manifest = json.loads(raw)
    assert list(manifest) == [
        "schema_version",
        "ma_don_vi",
        "ky_bao_cao",
        "phien_ban",
        "trang_thai",
        "thay_the_phien_ban",
        "ly_do",
        "tao_luc",
        "pipeline_version",
        "nguon_du_lieu",
        "kiem_tra_chat_luong",
        "tep",
    ]
    assert manifest["thay_the_phien_ban"] is None and manifest["ly_do"] is None
    assert manifest["tao_luc"] == "2024-06-03T02:14:09+07:00"
    assert manifest["nguon_du_lieu"] == {
        "one_stop": "2024-06-03T01:00:00+07:00",
        "dvc_portal": "2024-06-03T01:00:00+07:00",
    }
    # the loss counts are always there, null when the caller gave none (not counted)
    assert manifest["kiem_tra_chat_luong"] == {
        "ket_qua": "DAT",
        "so_kiem_tra": 58,
        "so_loi": 0,
        "so_ban_ghi_cach_ly": None,
        "so_ban_ghi_thieu": None,
        "du_lieu_thieu": None,
        "canh_bao": [],
    }
    assert [e["ten"] for e in manifest["tep"]] == ALL_FILES
    for entry in manifest["tep"]:
        data = (result.path / entry["ten"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        if entry["ten"].endswith(".csv"):
            assert entry["so_dong"] == len(tables[entry["ten"]]) == data.count(b"\r\n") - 1
    assert manifest["tep"][-1]["so_dong"] == sum(len(rows) for rows in tables.values())


def test_same_content_writes_nothing_and_changed_content_becomes_v2(outbox):
    first = write(outbox)
    v1 = snapshot(first.path)
    again = write(outbox, now=NOW + timedelta(days=1))  # later run, same data: nothing new to issue
    assert (again.path, again.version, again.created) == (first.path, 1, False)
    assert not (first.path.parent / "v2").exists()

    tables = all_tables()
    tables["ho_so_qua_han.csv"][0]["co_phieu_xin_loi"] = False  # an apology letter turned out missing
    second = write(outbox, tables=tables, now=NOW + timedelta(days=2))
    assert (second.version, second.created, second.replaced_version) == (2, True, 1)
    raw = (second.path / "manifest.json").read_bytes()
    assert "cập nhật dữ liệu muộn".encode() in raw  # UTF-8 text, not \u escapes
    manifest = json.loads(raw)
    assert manifest["phien_ban"] == 2 and manifest["thay_the_phien_ban"] == 1
    assert manifest["ly_do"] == "cập nhật dữ liệu muộn"
    assert snapshot(first.path) == v1  # the issued version is untouched, byte for byte
    assert validate(second.path, ALL_FILES).returncode == 0

    assert write(outbox, tables=tables, now=NOW + timedelta(days=3)).created is False
    closed = write(
        outbox, tables=tables, status="CHINH_THUC", now=NOW + timedelta(days=4), reason="chốt số liệu tháng 5"
    )
    assert (closed.version, closed.replaced_version) == (3, 2)
    manifest = json.loads((closed.path / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["trang_thai"], manifest["ly_do"]) == ("CHINH_THUC", "chốt số liệu tháng 5")


def test_dropping_or_adding_a_file_is_a_content_change(outbox):
    write(outbox)
    fewer = all_tables()
    del fewer["doi_soat_dvcqg.csv"]
    assert write(outbox, tables=fewer).version == 2
    assert write(outbox).version == 3


def test_reruns_give_identical_bytes_including_the_workbook(outbox, make_dir):
    other = make_dir()
    a, b = write(outbox), write(other)
    assert snapshot(a.path) == snapshot(b.path)
    # Nothing from the wall clock: zip entries and document times carry `now` (02:14:09 +07:00).
    with zipfile.ZipFile(a.path / "bao_cao.xlsx") as book:
        assert {entry.date_time for entry in book.infolist()} == {(2024, 6, 3, 2, 14, 8)}  # 2-second zip clock
        core = book.read("docProps/core.xml").decode()
    assert core.count("2024-06-02T19:14:09Z") == 2  # created and modified, in UTC
    later = write(make_dir(), now=NOW + timedelta(hours=1))
    assert (later.path / "bao_cao.xlsx").read_bytes() != (a.path / "bao_cao.xlsx").read_bytes()
    assert (later.path / "chi_so_766.csv").read_bytes() == (a.path / "chi_so_766.csv").read_bytes()


def test_workbook_has_the_contract_sheets_headings_numbers_and_frozen_headers(outbox):
    result = write(outbox)
    wb = openpyxl.load_workbook(result.path / "bao_cao.xlsx")
    assert wb.sheetnames == [
        "Thông tin",
        "Chỉ số 766",
        "Tổng hợp điểm",
        "Biểu II.06a",
        "Hồ sơ quá hạn",
        "Đối soát DVCQG",
    ]
    assert all(ws.freeze_panes == "A2" for ws in wb)
    info = {row[0]: row[1] for row in wb["Thông tin"].iter_rows(min_row=2, values_only=True)}
    assert info["Mã đơn vị"] == PROVINCE and info["Kỳ báo cáo"] == PERIOD and info["Phiên bản"] == 1
    assert info["Trạng thái"] == "Tạm tính (TAM_TINH)"
    assert info["Thời điểm tạo"] == "2024-06-03T02:14:09+07:00"
    assert info["Số bản ghi cách ly"] == info["Số bản ghi thiếu"] == "chưa đếm"  # no loss count given
    sheet = wb["Chỉ số 766"]
    headings = [c.value for c in sheet[1]]
    assert headings[:3] == ["Kỳ báo cáo", "Mã đơn vị", "Tên đơn vị"] and "Tỷ lệ" in headings
    assert sheet.max_row == 1 + len(chi_so_rows())
    first = dict(zip(headings, sheet[2]))
    assert first["Tên đơn vị"].value == "Ủy ban nhân dân tỉnh Hà Nam"
    assert isinstance(first["Tử số"].value, int) and isinstance(first["Tỷ lệ"].value, float)
    assert first["Tỷ lệ"].number_format == "0.0000" and first["Điểm"].number_format == "0.00"
    late = wb["Hồ sơ quá hạn"]
    assert late.max_row == 1 + len(qua_han_rows())
    assert late["G2"].is_date and late["G2"].value.isoformat() == "2024-05-02T08:15:30"


def test_a_failure_mid_write_leaves_no_package_folder(outbox):
    """A real I/O failure half-way through the package folder: a file-size limit (RLIMIT_FSIZE)
    lets the small CSVs be written and makes the large late-dossier CSV fail with EFBIG.

    The package's bytes are rendered before the limit is set (openpyxl's own temporary files
    would otherwise hit it first), then written exactly as write_package writes them.
    """
    script = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from tests.tthc.province_package.sample import all_tables, qua_han_rows, write
        from tthc.province_package.atomic import write_folder_atomically
        tables = all_tables()
        tables["ho_so_qua_han.csv"] = qua_han_rows(count=4000)
        scratch = write(Path({str(outbox)!r}) / "scratch", tables=tables).path
        names = [*tables, "bao_cao.xlsx", "manifest.json"]
        files = {{name: (scratch / name).read_bytes() for name in names}}
        assert len(files["chi_so_766.csv"]) < 100_000 < 300_000 < len(files["ho_so_qua_han.csv"])
        target = Path({str(outbox)!r}) / "000.00.00.H56" / "2024-05" / "v1"
        target.parent.mkdir(parents=True)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
        write_folder_atomically(target, files)
    """)
    root = Path(__file__).resolve().parents[3]
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0, run.stderr
    assert "File too large" in run.stderr and "write_folder_atomically" in run.stderr, run.stderr
    period_dir = outbox / PROVINCE / PERIOD
    assert list(period_dir.iterdir()) == []  # no v1, no temporary folder
    result = write(outbox)  # the next run issues v1 normally
    assert result.version == 1 and validate(result.path, ALL_FILES).returncode == 0


def test_a_failed_new_version_leaves_the_issued_one_alone(outbox):
    first = write(outbox)
    v1 = snapshot(first.path)
    tables = all_tables()
    tables["ho_so_qua_han.csv"][-1]["ngay_hen_tra"] = tables["ho_so_qua_han.csv"][-1]["ngay_hen_tra"].replace(
        tzinfo=None
    )
    with pytest.raises(PackageError, match="ho_so_qua_han.csv row 12 column ngay_hen_tra"):
        write(outbox, tables=tables, now=NOW + timedelta(days=1))
    assert sorted(p.name for p in first.path.parent.iterdir()) == [".lock", "v1"]
    assert snapshot(first.path) == v1


def test_a_hand_made_version_folder_without_manifest_stops_the_writer(outbox):
    (outbox / PROVINCE / PERIOD / "v1").mkdir(parents=True)
    with pytest.raises(PackageError, match="without manifest.json"):
        write(outbox)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("status", "TAM THOI", "status"),
        ("period", "2024-13", "YYYY-MM"),
        ("sources", {"one_stop": NOW}, "sources"),
        ("quality", {"ket_qua": "OK", "so_kiem_tra": 1, "so_loi": 0}, "ket_qua"),
        ("quality", {"ket_qua": "DAT", "so_kiem_tra": -1, "so_loi": 0}, "so_kiem_tra"),
        ("quality", {"ket_qua": "DAT", "so_kiem_tra": 1, "so_loi": 0, "so_ban_ghi_cach_ly": -1}, "so_ban_ghi_cach_ly"),
        (
            "quality",
            {"ket_qua": "DAT", "so_kiem_tra": 1, "so_loi": 0, "du_lieu_thieu": [{"nguon": "one_stop"}]},
            "du_lieu_thieu",
        ),
        ("quality", {"ket_qua": "DAT", "so_kiem_tra": 1, "so_loi": 0, "mat_du_lieu": 1}, "optionally"),
        ("quality", {"ket_qua": "DAT", "so_kiem_tra": 1, "so_loi": 0, "canh_bao": "thiếu điểm"}, "canh_bao"),
        ("quality", {"ket_qua": "DAT", "so_kiem_tra": 1, "so_loi": 0, "canh_bao": [" "]}, "canh_bao"),
        ("tables", {}, "no tables"),
    ],
)
def test_bad_package_arguments_are_refused(outbox, field, value, message):
    with pytest.raises(PackageError, match=message):
        write(outbox, **{field: value})
    assert not list(outbox.rglob("v1"))


def test_points_are_rounded_half_away_from_zero_in_the_file(outbox):
    tables = {
        "doi_soat_dvcqg.csv": [
            dict(
                ky_bao_cao=PERIOD,
                ma_don_vi=PROVINCE,
                ma_chi_so="2.1",
                diem_tinh_toan=Decimal("18.345"),
                diem_dvcqg=Decimal("18.35"),
                chenh_lech=Decimal("-0.005"),
            ),
            dict(
                ky_bao_cao=PERIOD,
                ma_don_vi=PROVINCE,
                ma_chi_so="TONG",
                diem_tinh_toan=2.345,
                diem_dvcqg=None,
                chenh_lech=None,
            ),
        ]
    }
    raw = (write(outbox, tables=tables).path / "doi_soat_dvcqg.csv").read_bytes()
    assert raw.split(b"\r\n")[1:3] == [
        b"2024-05,000.00.00.H56,2.1,18.35,18.35,-0.01",
        b"2024-05,000.00.00.H56,TONG,2.35,,",
    ]
