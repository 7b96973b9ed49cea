"""Realistic rows for the five extract tables: a province and two communes, May 2024.

Rates and points are computed here from counts, unrounded, the way the marts hand them over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from tests.contract.extract_check import ExtractCheck, check_extract
from tthc.province_package import write_package

VN = timezone(timedelta(hours=7))
PERIOD = "2024-05"
PROVINCE = "000.00.00.H56"

NOW = datetime(2024, 6, 3, 2, 14, 9, tzinfo=VN)
SOURCES = {
    "one_stop": datetime(2024, 6, 3, 1, 0, tzinfo=VN),
    "dvc_portal": datetime(2024, 6, 2, 18, 0, tzinfo=UTC),
}
QUALITY = {"ket_qua": "DAT", "so_kiem_tra": 58, "so_loi": 0}

UNITS = [
    # ma_don_vi, ten_don_vi, cap_don_vi, ma_don_vi_cha
    (PROVINCE, "Ủy ban nhân dân tỉnh Hà Nam", "TINH", ""),
    ("000.17.22.H56", "UBND phường Lê Hồng Phong, thành phố Phủ Lý", "XA", PROVINCE),
    ("000.31.24.H56", "UBND xã Thanh Hà, huyện Thanh Liêm", "XA", PROVINCE),
]
# ma_chi_so → (nhom, ten_chi_so, diem_toi_da, cap: rate giving full marks)
METRICS = {
    "1.1": ("CKMB", "Công bố TTHC đúng hạn", 6, 1),
    "1.2": ("CKMB", "Công khai TTHC đúng hạn trên CSDLQG", 4, 1),
    "1.3": ("CKMB", "Công khai TTHC đầy đủ nội dung", 2, 1),
    "1.4": ("CKMB", "Hồ sơ đồng bộ lên Cổng DVCQG", 6, 1),
    "2.1": ("TDGQ", "Hồ sơ giải quyết đúng hạn", 20, 1),
    "2.2": ("TDGQ", "Thời gian giải quyết trung bình", 0, 1),
    "3.1": ("CLGQ", "TTHC cung cấp DVCTT", 2, Decimal("0.8")),
    "3.2": ("CLGQ", "DVCTT có phát sinh hồ sơ", 4, 1),
    "3.3": ("CLGQ", "Hồ sơ nộp trực tuyến", 6, Decimal("0.5")),
    "3.4": ("TTTT", "Hồ sơ thanh toán trực tuyến", 6, 1),
    "3.5": ("TTTT", "TTHC có thanh toán trực tuyến", 2, Decimal("0.8")),
    "3.6": ("TTTT", "TTHC tích hợp thanh toán", 2, 1),
    "4.1": ("MDSH", "Cấp kết quả điện tử", 6, 1),
    "4.2": ("MDSH", "Số hóa hồ sơ", 4, 1),
    "4.3": ("MDSH", "Cấp bản sao điện tử", 2, 1),
    "4.4": ("MDSH", "Tái sử dụng dữ liệu số hóa", 2, Decimal("0.8")),
    "4.5": ("MDSH", "Kết nối kho dữ liệu cá nhân", 4, 1),
    "4.6": ("MDSH", "Hồ sơ xác thực VNeID", 2, 1),
    "4.7": ("MDSH", "TTHC khai thác CSDL dân cư", 2, 1),
    "5.1": ("MDHL", "Xử lý phản ánh, kiến nghị đúng hạn", 6, 1),
    "5.2": ("MDHL", "Hài lòng xử lý phản ánh", 6, 1),
    "5.3": ("MDHL", "Hài lòng giải quyết TTHC", 6, Decimal("0.9")),
}


def _counts(unit_index: int, metric: str) -> tuple[int, int]:
    seed = sum(ord(ch) for ch in metric) * (unit_index + 3)
    denominator = 40 + seed % 900
    return denominator - seed % 37, denominator


def chi_so_rows(period: str = PERIOD) -> list[dict]:
    rows = []
    for u, (code, name, level, parent) in enumerate(UNITS):
        for metric, (group, title, top, cap) in METRICS.items():
            num, den = _counts(u, metric)
            rate = Decimal(num) / Decimal(den)
            points = min(Decimal(top), Decimal(top) * rate / Decimal(cap))
            row = dict(
                ky_bao_cao=period,
                ma_don_vi=code,
                ten_don_vi=name,
                cap_don_vi=level,
                ma_don_vi_cha=parent or None,
                nhom=group,
                ma_chi_so=metric,
                ten_chi_so=title,
                tu_so=num,
                mau_so=den,
                ty_le=rate,
                diem=points,
                diem_toi_da=top,
                ap_dung=1,
            )
            if metric == "2.2":
                row.update(tu_so=Decimal(num) * Decimal("7.123456"), ty_le=None, diem=None, diem_toi_da=0)
            if metric == "5.3":
                row.update(tu_so=None, mau_so=_counts(u, "2.1")[1])
            if metric in ("1.1", "1.2", "1.3") and level != "TINH":
                row.update(tu_so=0, mau_so=0, ty_le=None, diem=top, ap_dung=0)
            rows.append(row)
    return rows


def tong_hop_rows(period: str = PERIOD) -> list[dict]:
    by_unit: dict[str, dict[str, Decimal]] = {}
    for row in chi_so_rows(period):
        groups = by_unit.setdefault(row["ma_don_vi"], {})
        groups[row["nhom"]] = groups.get(row["nhom"], Decimal(0)) + Decimal(row["diem"] or 0)
    rows = []
    for rank, (code, name, level, parent) in enumerate(UNITS, start=1):
        # Groups as written (2 decimals) so tong_diem equals their sum: validate_extract.py checks
        # that within 0.011, which a total rounded from unrounded points can miss (see report).
        g = {group: points.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for group, points in by_unit[code].items()}
        rows.append(
            dict(
                ky_bao_cao=period,
                ma_don_vi=code,
                ten_don_vi=name,
                cap_don_vi=level,
                ma_don_vi_cha=parent or None,
                diem_ckmb=g["CKMB"],
                diem_tdgq=g["TDGQ"],
                diem_clgq=g["CLGQ"],
                diem_tttt=g["TTTT"],
                diem_mdhl=g["MDHL"],
                diem_mdsh=g["MDSH"],
                tong_diem=sum(g.values()),
                diem_toi_da=100,
                xep_hang=1 if level == "TINH" else rank - 1,
                xep_loai="Khá",
            )
        )
    for row in rows:  # competition rank among siblings of one level by total (1, 2, 2, 4), as the contract says
        row["xep_hang"] = 1 + sum(
            1
            for other in rows
            if other["tong_diem"] > row["tong_diem"]
            and (other["ma_don_vi_cha"], other["cap_don_vi"]) == (row["ma_don_vi_cha"], row["cap_don_vi"])
        )
    return rows


def bieu_rows(period: str = PERIOD) -> list[dict]:
    fields = [("CT", "Chứng thực"), ("HT", "Hộ tịch"), ("DD", "Đất đai, nhà ở")]
    rows = []
    for u, (code, *_rest) in enumerate(UNITS):
        for f, (field_code, field_name) in enumerate(fields):
            online, in_person, carried = 10 + u + f, 20 + 3 * f, u + f
            early, on_time, late = 12 + f, 8 + u, 1 + f
            received = online + in_person + carried
            done = early + on_time + late
            open_late = f
            rows.append(
                dict(
                    ky_bao_cao=period,
                    ma_don_vi=code,
                    ma_linh_vuc=field_code,
                    ten_linh_vuc=field_name,
                    tiep_nhan_tong=received,
                    tiep_nhan_truc_tuyen=online,
                    tiep_nhan_truc_tiep_bcci=in_person,
                    tiep_nhan_ky_truoc=carried,
                    da_giai_quyet_tong=done,
                    truoc_han=early,
                    dung_han=on_time,
                    qua_han=late,
                    dang_giai_quyet_tong=received - done,
                    trong_han=received - done - open_late,
                    dang_qua_han=open_late,
                )
            )
    return rows


def qua_han_rows(period: str = PERIOD, count: int = 12) -> list[dict]:
    rows = []
    for i in range(count):
        unit = UNITS[1 + i % 2][0]
        received = datetime(2024, 5, 2 + i % 20, 8, 15, 30, tzinfo=VN)
        due = received + timedelta(days=3)
        closed = None if i % 4 == 0 else due + timedelta(hours=26, minutes=5)
        rows.append(
            dict(
                ky_bao_cao=period,
                ma_ho_so=f"{unit}-2405{(2 + i % 20):02d}-{i + 1:04d}",
                ma_don_vi=unit,
                ma_tthc=f"1.00{1234 + i}",
                ma_linh_vuc="HT" if i % 3 else "DD",
                kenh=1 + i % 3,
                ngay_tiep_nhan=received,
                ngay_hen_tra=due,
                ngay_ket_thuc_xu_ly=closed,
                so_gio_lam_viec_qua_han=Decimal("0") if i == 5 else Decimal(17 * i + 3) / 7,
                co_phieu_xin_loi=i % 2 == 0,
                trang_thai=4 if closed is None else 10,
            )
        )
    return rows


def doi_soat_rows(period: str = PERIOD) -> list[dict]:
    rows = []
    for u, (code, *_rest) in enumerate(UNITS):
        for metric, computed, portal in (
            ("2.1", Decimal("18.734"), Decimal("18.9")),
            ("CLGQ", Decimal("9.125"), None),
            ("TONG", Decimal("81.2049"), Decimal("80.995")),
        ):
            rows.append(
                dict(
                    ky_bao_cao=period,
                    ma_don_vi=code,
                    ma_chi_so=metric,
                    diem_tinh_toan=computed + u,
                    diem_dvcqg=None if portal is None else portal + u,
                    chenh_lech=None if portal is None else computed - portal,
                )
            )
    return rows


def all_tables(period: str = PERIOD) -> dict[str, list[dict]]:
    return {
        "chi_so_766.csv": chi_so_rows(period),
        "tong_hop_diem.csv": tong_hop_rows(period),
        "bieu_II_06a.csv": bieu_rows(period),
        "ho_so_qua_han.csv": qua_han_rows(period),
        "doi_soat_dvcqg.csv": doi_soat_rows(period),
    }


def write(outbox: Path, tables: dict | None = None, **overrides):
    args = dict(
        outbox=outbox,
        unit_code=PROVINCE,
        period=PERIOD,
        tables=all_tables() if tables is None else tables,
        status="TAM_TINH",
        sources=SOURCES,
        quality=QUALITY,
        pipeline_version="0.3.0",
        now=NOW,
    )
    args.update(overrides)
    return write_package(**args)


def validate(package: Path, require: list[str]) -> ExtractCheck:
    return check_extract(package, require)  # the project's check, then the shared validator where present
