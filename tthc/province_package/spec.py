"""The package's tables as the delivery contract (schema 1.0) defines them, in one place.

Each column is declared once with its kind; the kind alone decides how a value is checked,
rounded and written, in the CSV and in the workbook alike. Headings are the Vietnamese
labels people read in bao_cao.xlsx; the CSVs carry the ASCII names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

SCHEMA_VERSION = "1.0"
WORKBOOK_NAME = "bao_cao.xlsx"
INFO_SHEET = "Thông tin"
STATUSES = {"TAM_TINH": "Tạm tính", "CHINH_THUC": "Chính thức"}
SOURCES = ("one_stop", "dvc_portal")
QUALITY_RESULTS = ("DAT", "KHONG_DAT")
DEFAULT_REASON = "cập nhật dữ liệu muộn"


class Kind(Enum):
    TEXT = "text"
    INT = "int"  # counts, ranks, codes: integers without decimals
    RATE = "rate"  # 0..1, 4 decimals
    POINTS = "points"  # 2 decimals
    HOURS = "hours"  # working hours, 2 decimals
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # YYYY-MM-DDTHH:MM:SS+07:00
    FLAG = "flag"  # 0/1
    BLANK = "blank"  # a cell the contract keeps empty for this row
    ZERO_POINTS = "zero_points"  # a cell the contract fixes at 0.00 for this row


DECIMALS = {Kind.RATE: 4, Kind.POINTS: 2, Kind.HOURS: 2, Kind.ZERO_POINTS: 2}

HEADINGS = {
    "ky_bao_cao": "Kỳ báo cáo",
    "ma_don_vi": "Mã đơn vị",
    "ten_don_vi": "Tên đơn vị",
    "cap_don_vi": "Cấp đơn vị",
    "ma_don_vi_cha": "Mã đơn vị cha",
    "nhom": "Nhóm chỉ số",
    "ma_chi_so": "Mã chỉ số",
    "ten_chi_so": "Tên chỉ số",
    "tu_so": "Tử số",
    "mau_so": "Mẫu số",
    "ty_le": "Tỷ lệ",
    "diem": "Điểm",
    "diem_toi_da": "Điểm tối đa",
    "ap_dung": "Áp dụng",
    "diem_ckmb": "Công khai, minh bạch",
    "diem_tdgq": "Tiến độ giải quyết",
    "diem_clgq": "Dịch vụ công trực tuyến",
    "diem_tttt": "Thanh toán trực tuyến",
    "diem_mdhl": "Mức độ hài lòng",
    "diem_mdsh": "Số hóa hồ sơ",
    "tong_diem": "Tổng điểm",
    "xep_hang": "Xếp hạng",
    "xep_loai": "Xếp loại",
    "ma_linh_vuc": "Mã lĩnh vực",
    "ten_linh_vuc": "Tên lĩnh vực",
    "tiep_nhan_tong": "Tổng số hồ sơ tiếp nhận (3)",
    "tiep_nhan_truc_tuyen": "Tiếp nhận trực tuyến trong kỳ (4)",
    "tiep_nhan_truc_tiep_bcci": "Tiếp nhận trực tiếp và qua BCCI trong kỳ (5)",
    "tiep_nhan_ky_truoc": "Từ kỳ trước chuyển qua (6)",
    "da_giai_quyet_tong": "Tổng số đã giải quyết (7)",
    "truoc_han": "Trước hạn (8)",
    "dung_han": "Đúng hạn (9)",
    "qua_han": "Quá hạn (10)",
    "dang_giai_quyet_tong": "Tổng số đang giải quyết (11)",
    "trong_han": "Trong hạn (12)",
    "dang_qua_han": "Quá hạn (13)",
    "ma_ho_so": "Mã hồ sơ",
    "ma_tthc": "Mã TTHC",
    "kenh": "Kênh thực hiện",
    "ngay_tiep_nhan": "Ngày tiếp nhận",
    "ngay_hen_tra": "Ngày hẹn trả",
    "ngay_ket_thuc_xu_ly": "Ngày kết thúc xử lý",
    "so_gio_lam_viec_qua_han": "Số giờ làm việc quá hạn",
    "co_phieu_xin_loi": "Có phiếu xin lỗi",
    "trang_thai": "Trạng thái",
    "diem_tinh_toan": "Điểm tính toán",
    "diem_dvcqg": "Điểm trên Cổng DVCQG",
    "chenh_lech": "Chênh lệch",
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind

    @property
    def heading(self) -> str:
        return HEADINGS[self.name]


@dataclass(frozen=True)
class TableSpec:
    file_name: str
    sheet_name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _cols(*pairs: tuple[str, Kind]) -> tuple[Column, ...]:
    return tuple(Column(name, kind) for name, kind in pairs)


T, I, R, P, H, S, F = Kind.TEXT, Kind.INT, Kind.RATE, Kind.POINTS, Kind.HOURS, Kind.TIMESTAMP, Kind.FLAG  # noqa: E741 - I is Kind.INT in the column tables below
UNIT = (("ky_bao_cao", T), ("ma_don_vi", T), ("ten_don_vi", T), ("cap_don_vi", T), ("ma_don_vi_cha", T))

# Contract order: the CSVs in this order, then the workbook, in the manifest and the workbook's sheets.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "chi_so_766.csv",
        "Chỉ số 766",
        _cols(
            *UNIT,
            ("nhom", T),
            ("ma_chi_so", T),
            ("ten_chi_so", T),
            ("tu_so", I),
            ("mau_so", I),
            ("ty_le", R),
            ("diem", P),
            ("diem_toi_da", P),
            ("ap_dung", F),
        ),
        ("ma_don_vi", "ma_chi_so"),
    ),
    TableSpec(
        "tong_hop_diem.csv",
        "Tổng hợp điểm",
        _cols(
            *UNIT,
            ("diem_ckmb", P),
            ("diem_tdgq", P),
            ("diem_clgq", P),
            ("diem_tttt", P),
            ("diem_mdhl", P),
            ("diem_mdsh", P),
            ("tong_diem", P),
            ("diem_toi_da", P),
            ("xep_hang", I),
            ("xep_loai", T),
        ),
        ("ma_don_vi",),
    ),
    TableSpec(
        "bieu_II_06a.csv",
        "Biểu II.06a",
        _cols(
            ("ky_bao_cao", T),
            ("ma_don_vi", T),
            ("ma_linh_vuc", T),
            ("ten_linh_vuc", T),
            ("tiep_nhan_tong", I),
            ("tiep_nhan_truc_tuyen", I),
            ("tiep_nhan_truc_tiep_bcci", I),
            ("tiep_nhan_ky_truoc", I),
            ("da_giai_quyet_tong", I),
            ("truoc_han", I),
            ("dung_han", I),
            ("qua_han", I),
            ("dang_giai_quyet_tong", I),
            ("trong_han", I),
            ("dang_qua_han", I),
        ),
        ("ma_don_vi", "ma_linh_vuc"),
    ),
    TableSpec(
        "ho_so_qua_han.csv",
        "Hồ sơ quá hạn",
        _cols(
            ("ky_bao_cao", T),
            ("ma_ho_so", T),
            ("ma_don_vi", T),
            ("ma_tthc", T),
            ("ma_linh_vuc", T),
            ("kenh", I),
            ("ngay_tiep_nhan", S),
            ("ngay_hen_tra", S),
            ("ngay_ket_thuc_xu_ly", S),
            ("so_gio_lam_viec_qua_han", H),
            ("co_phieu_xin_loi", F),
            ("trang_thai", I),
        ),
        ("ma_ho_so",),
    ),
    TableSpec(
        "doi_soat_dvcqg.csv",
        "Đối soát DVCQG",
        _cols(
            ("ky_bao_cao", T),
            ("ma_don_vi", T),
            ("ma_chi_so", T),
            ("diem_tinh_toan", P),
            ("diem_dvcqg", P),
            ("chenh_lech", P),
        ),
        ("ma_don_vi", "ma_chi_so"),
    ),
)
TABLES_BY_FILE = {t.file_name: t for t in TABLES}


def row_kinds(table: TableSpec, row: dict) -> dict[str, Kind]:
    """Per-row kind overrides: the contract's special rows of chi_so_766.csv.

    Metric 2.2 is monitoring only: total working hours in tu_so, an empty rate, 0.00 of 0.00 points.
    Metric 5.3 has no numerator of its own (its rate is 1 - two shares), so tu_so stays empty.
    """
    if table.file_name != "chi_so_766.csv":
        return {}
    metric = row.get("ma_chi_so")
    if metric == "2.2":
        return {"tu_so": Kind.HOURS, "ty_le": Kind.BLANK, "diem": Kind.ZERO_POINTS, "diem_toi_da": Kind.ZERO_POINTS}
    if metric == "5.3":
        return {"tu_so": Kind.BLANK}
    return {}
