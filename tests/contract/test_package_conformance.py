"""The project's province-extract conformance check: a good package passes, and each kind of
defect is found and named by its kind (one defect per package, the manifest kept consistent, so
the named kind is the only one).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.contract.package_conformance import KINDS, check_package, main
from tests.tthc.province_package.sample import all_tables, chi_so_rows, write

ALL_FILES = [*all_tables(), "bao_cao.xlsx"]


@pytest.fixture
def package(tmp_path) -> Path:
    return write(tmp_path / "outbox").path


def kinds(package: Path, require=ALL_FILES) -> set[str]:
    return {p.kind for p in check_package(package, require)}


def relist(package: Path, name: str, rows: int | None = None) -> None:
    """Make the manifest agree with the file again, so only the defect under test remains."""
    path = package / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["tep"]:
        if entry["ten"] == name:
            entry["sha256"] = hashlib.sha256((package / name).read_bytes()).hexdigest()
            if rows is not None:
                entry["so_dong"] = rows
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def edit_manifest(package: Path, **changes) -> None:
    path = package / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def read_rows(package: Path, name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((package / name).read_bytes().decode("utf-8-sig"), newline="")))


def write_rows(package: Path, name: str, rows: list[list[str]], *, bom=True, crlf=True) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    (package / name).write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    relist(package, name, rows=len(rows) - 1)


def set_cell(package: Path, name: str, match: dict, column: str, value: str) -> None:
    rows = read_rows(package, name)
    header = rows[0]
    hits = [r for r in rows[1:] if all(r[header.index(k)] == v for k, v in match.items())]
    assert hits, (name, match)
    hits[0][header.index(column)] = value
    write_rows(package, name, rows)


COMMUNE_1, COMMUNE_2, PROVINCE = "000.17.22.H56", "000.31.24.H56", "000.00.00.H56"


def test_a_package_the_writer_makes_conforms(package, capsys):
    assert check_package(package, ALL_FILES) == []
    assert main([str(package), "--require", *ALL_FILES]) == 0
    assert capsys.readouterr().out.startswith("OK")


def test_every_kind_is_explained_and_tested():
    assert set(KINDS) == {kind for kind, _ in DEFECTS} | {"required", "folder", "unknown_file", "unlisted"}


def _no_manifest(p):
    (p / "manifest.json").unlink()


def _lf_line_ends(p):
    write_rows(p, "chi_so_766.csv", read_rows(p, "chi_so_766.csv"), crlf=False)


def _rows_swapped(p):
    rows = read_rows(p, "chi_so_766.csv")
    rows[1], rows[2] = rows[2], rows[1]
    write_rows(p, "chi_so_766.csv", rows)


def _row_twice(p):
    rows = read_rows(p, "ho_so_qua_han.csv")
    rows[2][1] = rows[1][1]  # the second row takes the first's ma_ho_so
    write_rows(p, "ho_so_qua_han.csv", rows)


def _extra_field(p):
    rows = read_rows(p, "bieu_II_06a.csv")
    rows[1].append("0")
    write_rows(p, "bieu_II_06a.csv", rows)


def _renamed_column(p):
    rows = read_rows(p, "doi_soat_dvcqg.csv")
    rows[0][3] = "diem_tinh"
    write_rows(p, "doi_soat_dvcqg.csv", rows)


def _bad_quote(p):
    path = p / "tong_hop_diem.csv"
    path.write_bytes(path.read_bytes().replace("Ủy ban nhân dân".encode(), b'"Uy ban"x', 1))
    relist(p, "tong_hop_diem.csv")


def drop_rows(p, name: str, sheet: str, drop) -> None:
    """Remove the rows `drop` matches from the CSV and its sheet alike."""
    rows = read_rows(p, name)
    write_rows(p, name, [rows[0]] + [r for r in rows[1:] if not drop(r)])
    book = openpyxl.load_workbook(p / "bao_cao.xlsx")
    kept = [r for r in book[sheet].iter_rows(min_row=2, values_only=True) if not drop([str(v) for v in r])]
    book[sheet].delete_rows(2, book[sheet].max_row)
    for r in kept:
        book[sheet].append(r)
    book.save(p / "bao_cao.xlsx")
    relist(p, "bao_cao.xlsx")


def _metric_missing(p):
    drop_rows(p, "chi_so_766.csv", "Chỉ số 766", lambda r: r[1] == COMMUNE_1 and r[6] == "4.5")


def _workbook_unfrozen(p):
    book = openpyxl.load_workbook(p / "bao_cao.xlsx")
    book["Hồ sơ quá hạn"].freeze_panes = None
    book.save(p / "bao_cao.xlsx")
    relist(p, "bao_cao.xlsx")


def _workbook_text_number(p):
    book = openpyxl.load_workbook(p / "bao_cao.xlsx")
    book["Chỉ số 766"]["J2"] = "12"  # mau_so as text
    book.save(p / "bao_cao.xlsx")
    relist(p, "bao_cao.xlsx")


def _ranks_swapped(p):
    set_cell(p, "tong_hop_diem.csv", {"ma_don_vi": COMMUNE_1}, "xep_hang", "1")  # 98.03 before 98.43
    set_cell(p, "tong_hop_diem.csv", {"ma_don_vi": COMMUNE_2}, "xep_hang", "2")


def _province_scores_missing(p):
    drop_rows(p, "tong_hop_diem.csv", "Tổng hợp điểm", lambda r: r[1] == PROVINCE)


def _tampered(p):
    path = p / "chi_so_766.csv"
    path.write_bytes(path.read_bytes().replace("Ủy ban".encode(), b"Uy ban", 1))


def _rows_miscounted(p):
    relist(p, "ho_so_qua_han.csv", rows=99)


def _bom_missing(p):
    write_rows(p, "bieu_II_06a.csv", read_rows(p, "bieu_II_06a.csv"), bom=False)


def _listed_file_gone(p):
    (p / "doi_soat_dvcqg.csv").unlink()
    path = p / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["tep"].append({"ten": "doi_soat_dvcqg.csv", "so_dong": 0, "sha256": "0" * 64}) if not any(
        e["ten"] == "doi_soat_dvcqg.csv" for e in manifest["tep"]
    ) else None


def _first_open(p, name="ho_so_qua_han.csv"):
    return {"ma_ho_so": read_rows(p, name)[1][1]}


# (kind the check must name, the defect); each makes exactly that kind
DEFECTS = [
    ("manifest", _no_manifest),
    ("manifest", lambda p: edit_manifest(p, kiem_tra_chat_luong={"ket_qua": "DAT", "so_kiem_tra": "58", "so_loi": 0})),
    ("schema_version", lambda p: edit_manifest(p, schema_version="1.1")),
    ("version", lambda p: edit_manifest(p, thay_the_phien_ban=1)),
    ("status", lambda p: edit_manifest(p, trang_thai="NHAP")),
    ("timestamp", lambda p: edit_manifest(p, tao_luc="2024-06-03T02:14:09")),
    ("timestamp", lambda p: edit_manifest(p, nguon_du_lieu={"one_stop": "2024-06-03 01:00", "dvc_portal": None})),
    ("period", lambda p: set_cell(p, "bieu_II_06a.csv", {"ma_don_vi": COMMUNE_1}, "ky_bao_cao", "2024-06")),
    ("missing", _listed_file_gone),
    ("sha256", _tampered),
    ("row_count", _rows_miscounted),
    ("encoding", _bom_missing),
    ("line_ends", _lf_line_ends),
    ("csv_syntax", _bad_quote),
    ("header", _renamed_column),
    ("field_count", _extra_field),
    ("order", _rows_swapped),
    ("duplicate_key", _row_twice),
    ("value", lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": COMMUNE_1, "ma_chi_so": "3.3"}, "ty_le", "0.41")),
    ("value", lambda p: set_cell(p, "ho_so_qua_han.csv", _first_open(p), "kenh", "4")),
    ("value", lambda p: set_cell(p, "ho_so_qua_han.csv", _first_open(p), "ngay_tiep_nhan", "2024-05-02 09:30:00")),
    ("range", lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": COMMUNE_2, "ma_chi_so": "1.4"}, "diem", "7.00")),
    ("metric", lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": COMMUNE_2, "ma_chi_so": "2.1"}, "nhom", "CKMB")),
    ("coverage", _metric_missing),
    (
        "special_row",
        lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": PROVINCE, "ma_chi_so": "2.2"}, "ty_le", "0.5000"),
    ),
    ("special_row", lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": PROVINCE, "ma_chi_so": "5.3"}, "tu_so", "7")),
    ("rate", lambda p: set_cell(p, "chi_so_766.csv", {"ma_don_vi": COMMUNE_1, "ma_chi_so": "2.1"}, "ty_le", "0.1234")),
    ("total", lambda p: set_cell(p, "tong_hop_diem.csv", {"ma_don_vi": PROVINCE}, "tong_diem", "90.00")),
    ("rank", _ranks_swapped),
    ("identity", lambda p: set_cell(p, "bieu_II_06a.csv", {"ma_don_vi": COMMUNE_1}, "dang_qua_han", "999")),
    (
        "difference",
        lambda p: set_cell(p, "doi_soat_dvcqg.csv", {"ma_don_vi": PROVINCE, "ma_chi_so": "TONG"}, "chenh_lech", "9.99"),
    ),
    ("units", _province_scores_missing),
    ("workbook", _workbook_unfrozen),
    ("workbook", _workbook_text_number),
]


@pytest.mark.parametrize("kind, defect", DEFECTS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(DEFECTS)])
def test_each_defect_is_named(package, kind, defect):
    defect(package)
    assert kinds(package) == {kind}


def test_a_file_in_the_folder_the_manifest_does_not_list(package):
    (package / "ghi_chu.txt").write_text("x", encoding="utf-8")
    assert kinds(package) == {"unlisted", "unknown_file"}


def test_every_metric_can_be_left_out_for_hand_made_marts(package):
    _metric_missing(package)
    assert check_package(package, ALL_FILES, every_metric=False) == []


def test_a_required_file_the_package_lacks(tmp_path):
    package = write(tmp_path, tables={"chi_so_766.csv": chi_so_rows()}).path
    assert kinds(package, ["chi_so_766.csv", "bao_cao.xlsx"]) == set()
    problems = check_package(package, ["chi_so_766.csv", "tong_hop_diem.csv"])
    assert [(p.kind, p.where) for p in problems] == [("required", "tong_hop_diem.csv")]


def test_a_package_in_the_wrong_folder(package, tmp_path, capsys):
    moved = tmp_path / "elsewhere" / "2024-05" / "v1"
    shutil.copytree(package, moved)
    assert kinds(moved) == {"folder"}
    assert main([str(moved)]) == 1
    assert "[folder]" in capsys.readouterr().out


def test_the_shared_validator_is_an_extra_step_skipped_visibly_when_absent(package, monkeypatch, tmp_path):
    from tests.contract import extract_check

    monkeypatch.setattr(extract_check, "VALIDATOR", tmp_path / "absent.py")
    with pytest.warns(extract_check.SharedValidatorSkipped, match="absent.py"):
        checked = extract_check.check_extract(package, ALL_FILES)
    assert checked.returncode == 0 and "project check: OK" in checked.stdout
    (package / "chi_so_766.csv").write_bytes(b"x")  # the project's check alone still fails a bad package
    with pytest.warns(extract_check.SharedValidatorSkipped):
        assert extract_check.check_extract(package, ALL_FILES).returncode == 1
