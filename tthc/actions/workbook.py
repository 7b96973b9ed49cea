"""The daily workbook of one unit: outbox/actions/<unit>/<YYYY-MM-DD>/viec_can_lam_<unit>_<YYYY-MM-DD>.xlsx.

First sheet "Tổng quan": the three things to do now, the count of every list and the month-end
projection of 2.1 and of the total (with the line saying arrivals after T are not projected);
then one sheet per list of §11 (docs/acting-today.md) and the undecided dossiers that decide the month, soonest due
first. Headings in Vietnamese, the header row frozen, times as Excel datetimes in local time
(+07:00), figures as numbers rounded to 2 decimals (rates to 4, shown as percentages), half away
from zero as the CLI and the province package round.

Bytes are reproducible (tthc/province_package/workbook.py's way: the document and zip dates are the
refresh's time), so the same lists give the same file, and a rerun that finds that file leaves
it untouched; other content replaces it atomically (a temporary file renamed over it).
"""

from __future__ import annotations

import io
import os
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from tthc.actions.labels import CHANNELS, LIST_TITLES, NOT_PROJECTED, STATUSES, metric_title, stake_verb
from tthc.actions.unit_day import LISTS, UnitDay
from tthc.province_package.spec import Kind
from tthc.province_package.values import VN_TZ, normalize, to_excel
from tthc.province_package.workbook import _repack

OVERVIEW_SHEET = "Tổng quan"
UNDECIDED_SHEET = "Hồ sơ chưa quyết định"
CREATOR = "tthc-warehouse"
_UNIT = re.compile(r"^[0-9A-Za-z.]{1,40}$")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=13)
_WRAP = Alignment(wrap_text=True, vertical="top")
_PERCENT = "0.00%"
_WIDTHS = {Kind.TEXT: 22, Kind.TIMESTAMP: 20, Kind.INT: 8}


class WorkbookError(ValueError):
    """A unit code that cannot name a folder, or a value the workbook cannot hold."""


@dataclass(frozen=True)
class Column:
    heading: str
    kind: Kind
    value: Callable[[dict], object]
    width: int | None = None


def _key(name: str) -> Callable[[dict], object]:
    return lambda row: row[name]


def _label(labels: dict, name: str) -> Callable[[dict], object]:
    def value(row: dict):
        code = row[name]
        return None if code is None else labels.get(code, str(code))

    return value


def _apology(row: dict):
    flag = row["has_apology_letter"]
    return None if flag is None else ("Có" if flag else "Chưa có")


_HEAD = [
    Column("Mã hồ sơ", Kind.TEXT, _key("dossier_code"), 28),
    Column("Mã đơn vị", Kind.TEXT, _key("row_unit_code"), 18),
    Column("Mã TTHC", Kind.TEXT, _key("procedure_code"), 14),
    Column("Mã lĩnh vực", Kind.TEXT, _key("field_code"), 14),
    Column("Kênh thực hiện", Kind.TEXT, _label(CHANNELS, "channel"), 18),
    Column("Trạng thái", Kind.TEXT, _label(STATUSES, "status"), 20),
    Column("Ngày tiếp nhận", Kind.TIMESTAMP, _key("received_at")),
    Column("Hạn trả kết quả", Kind.TIMESTAMP, _key("due_at")),
]
_TAIL = [
    Column("Bước hiện tại", Kind.INT, _key("current_step_number"), 10),
    Column("Đơn vị giữ bước", Kind.TEXT, _key("current_step_unit_code"), 18),
    Column("Phòng/ban giữ bước", Kind.TEXT, _key("current_step_department"), 28),
]
_GAIN = Column("Số điểm có thể tăng", Kind.POINTS, _key("points_gain"), 14)
# Per list: its figure columns (§11) and how the rows are ordered for the person acting on them.
_FIGURES: dict[str, list[Column]] = {
    "sap_den_han": [
        Column("Số giờ làm việc còn lại", Kind.HOURS, _key("list_value"), 14),
        Column("Số điểm 2.1 mất nếu trễ hạn", Kind.POINTS, _key("points_gain"), 14),
    ],
    "qua_han": [
        Column("Số giờ làm việc quá hạn", Kind.HOURS, _key("list_value"), 14),
        Column("Văn bản xin lỗi", Kind.TEXT, _apology, 12),
    ],
    "buoc_qua_han": [
        Column("Số giờ làm việc quá hạn của bước", Kind.HOURS, _key("list_value"), 16),
        Column("Đơn vị xử lý hồ sơ", Kind.TEXT, _key("handling_unit_code"), 18),
    ],
    "chua_tra_ket_qua": [Column("Số giờ làm việc từ khi có kết quả", Kind.HOURS, _key("list_value"), 16)],
    "thieu_ket_qua_dien_tu": [_GAIN],
    "chua_dong_bo": [_GAIN],
    "thieu_ly_do": [],
}
# Soonest to act on first: least time left, most overdue, biggest gain; then by dossier code.
_ORDER: dict[str, tuple[str, int]] = {
    "sap_den_han": ("list_value", 1),
    "qua_han": ("list_value", -1),
    "buoc_qua_han": ("list_value", -1),
    "chua_tra_ket_qua": ("list_value", -1),
    "thieu_ket_qua_dien_tu": ("points_gain", -1),
    "chua_dong_bo": ("points_gain", -1),
    "thieu_ly_do": ("received_at", 1),
}
_UNDECIDED = [
    Column("Thứ tự theo hạn", Kind.INT, _key("due_rank"), 10),
    Column("Mã hồ sơ", Kind.TEXT, _key("dossier_code"), 28),
    Column("Mã đơn vị", Kind.TEXT, _key("row_unit_code"), 18),
    Column("Hạn trả kết quả", Kind.TIMESTAMP, _key("due_at")),
]


def list_columns(list_name: str) -> list[Column]:
    return [Column("STT", Kind.INT, _key("_stt"), 6), *_HEAD, *_FIGURES[list_name], *_TAIL]


def sorted_rows(list_name: str, rows: list[dict]) -> list[dict]:
    field, direction = _ORDER[list_name]

    def key(row: dict):
        value = row[field]
        if value is None:
            return (1, 0, row["dossier_code"])
        number = value.timestamp() if hasattr(value, "timestamp") else value
        return (0, number * direction, row["dossier_code"])

    return [{**row, "_stt": i} for i, row in enumerate(sorted(rows, key=key), start=1)]


def file_name(unit_code: str, day) -> str:
    return f"viec_can_lam_{unit_code}_{day.isoformat()}.xlsx"


def workbook_path(outbox_root: Path, unit_code: str, day) -> Path:
    """outbox/actions/<unit>/<YYYY-MM-DD>/viec_can_lam_<unit>_<YYYY-MM-DD>.xlsx"""
    if not _UNIT.match(unit_code) or set(unit_code) == {"."}:
        raise WorkbookError(f"unit code {unit_code!r} cannot name a folder (letters, digits and dots only)")
    return Path(outbox_root) / "actions" / unit_code / day.isoformat() / file_name(unit_code, day)


# -- building --------------------------------------------------------------------------------------
def build_workbook(data: UnitDay) -> bytes:
    """The workbook's bytes; the same UnitDay gives the same bytes."""
    wb = Workbook(write_only=True)
    _overview(wb, data)
    for name in LISTS:
        _table(wb, LIST_TITLES[name], list_columns(name), sorted_rows(name, data.rows[name]), f"{name}")
    _table(wb, UNDECIDED_SHEET, _UNDECIDED, data.undecided, "undecided")
    stamp = data.refresh.at_ts.astimezone(UTC).replace(tzinfo=None, microsecond=0)
    wb.properties.creator = wb.properties.lastModifiedBy = CREATOR
    wb.properties.title = f"Việc cần làm {data.unit_code} {data.day.isoformat()}"
    wb.properties.created = wb.properties.modified = stamp
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _repack(raw.getvalue(), data.refresh.at_ts.astimezone(VN_TZ))


def _cell(ws, kind: Kind, value, where: str, *, font: Font | None = None, number_format: str | None = None):
    value = normalize(kind, value, where)
    excel_value, fmt = to_excel(kind, value)
    cell = WriteOnlyCell(ws, value=excel_value)
    if number_format and excel_value is not None:
        fmt = number_format
    if fmt:
        cell.number_format = fmt
    if font:
        cell.font = font
    return cell


def _heading(ws, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = _BOLD
    cell.alignment = _WRAP
    return cell


def _table(wb: Workbook, title: str, columns: list[Column], rows: list[dict], where: str) -> None:
    ws = wb.create_sheet(title)
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = column.width or _WIDTHS.get(column.kind, 14)
    ws.freeze_panes = "A2"
    ws.append([_heading(ws, c.heading) for c in columns])
    for number, row in enumerate(rows, start=1):
        ws.append([_cell(ws, c.kind, c.value(row), f"{where} row {number} {c.heading}") for c in columns])


def _overview(wb: Workbook, data: UnitDay) -> None:
    ws = wb.create_sheet(OVERVIEW_SHEET)
    for letter, width in zip("ABCDE", (40, 28, 26, 18, 12)):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    refresh = data.refresh
    ws.append([_cell(ws, Kind.TEXT, f"Việc cần làm ngày {data.day.strftime('%d/%m/%Y')}", "title", font=_TITLE)])
    ws.append(["Mã đơn vị", _cell(ws, Kind.TEXT, data.unit_code, "unit_code")])
    ws.append(["Tên đơn vị", _cell(ws, Kind.TEXT, data.unit_name, "unit_name")])
    ws.append(["Số liệu tính đến", _cell(ws, Kind.TIMESTAMP, refresh.at_ts, "at_ts")])
    ws.append(["Kỳ đánh giá (tháng)", _cell(ws, Kind.TEXT, refresh.period_key, "period_key")])
    ws.append([])

    ws.append([_heading(ws, "Ba việc cần làm ngay")])
    ws.append([_heading(ws, h) for h in ("Thứ tự", "Chỉ số", "Danh sách", "Số điểm có thể tăng hoặc giữ", "Số hồ sơ")])
    for thing in data.three_things:
        ws.append(
            [
                _cell(ws, Kind.INT, thing.rank, "rank"),
                _cell(ws, Kind.TEXT, metric_title(thing.metric_code), "metric"),
                _cell(ws, Kind.TEXT, LIST_TITLES.get(thing.list_name, thing.list_name), "list"),
                _cell(ws, Kind.POINTS, thing.points_at_stake, f"three things {thing.rank}"),
                _cell(ws, Kind.INT, thing.row_count, f"three things {thing.rank}"),
            ]
        )
    if not data.three_things:
        ws.append(["Không có việc nào: không danh sách nào trong bốn danh sách tính điểm còn hồ sơ."])
    ws.append(
        [
            f"Danh sách '{LIST_TITLES['sap_den_han']}': số điểm 2.1 {stake_verb('sap_den_han')} nếu các "
            f"hồ sơ được giải quyết kịp hạn; các danh sách khác: số điểm {stake_verb('')} nếu các hồ sơ "
            f"được khắc phục."
        ]
    )
    ws.append([])

    ws.append([_heading(ws, "Số hồ sơ theo danh sách")])
    ws.append([_heading(ws, "Danh sách"), _heading(ws, "Số hồ sơ")])
    for name in LISTS:
        ws.append([LIST_TITLES[name], _cell(ws, Kind.INT, data.count(name), name)])
    ws.append(["Quá hạn chưa có văn bản xin lỗi", _cell(ws, Kind.INT, data.overdue_without_apology, "apology")])
    ws.append([])

    ws.append([_heading(ws, "Dự báo cuối tháng (chỉ số 2.1 và tổng điểm)")])
    p = data.projection
    if p is None:
        ws.append(["Chưa có dự báo cho đơn vị này."])
    else:
        ws.append([_heading(ws, h) for h in ("Mục", "Thấp nhất", "Cao nhất")])
        ws.append(
            [
                "Tỷ lệ giải quyết đúng hạn (2.1)",
                _cell(ws, Kind.RATE, p["rate_2_1_min"], "rate_2_1_min", number_format=_PERCENT),
                _cell(ws, Kind.RATE, p["rate_2_1_max"], "rate_2_1_max", number_format=_PERCENT),
            ]
        )
        for label, stem in (
            ("Điểm chỉ số 2.1", "points_2_1"),
            ("Điểm chỉ số 5.3", "points_5_3"),
            ("Tổng điểm", "total_points"),
        ):
            ws.append(
                [
                    label,
                    _cell(ws, Kind.POINTS, p[f"{stem}_min"], f"{stem}_min"),
                    _cell(ws, Kind.POINTS, p[f"{stem}_max"], f"{stem}_max"),
                ]
            )
        ws.append(["Tổng điểm hiện tại", _cell(ws, Kind.POINTS, p["total_points_now"], "total_points_now")])
        for label, name in (
            ("Số hồ sơ chưa quyết định", "undecided"),
            ("Số hồ sơ trong phạm vi tính 2.1", "dossiers_all"),
            ("Đã quyết định: đúng hạn", "decided_on_time"),
            ("Đã quyết định: trễ hạn", "decided_late"),
            ("Chắc chắn đúng hạn (hạn trả từ cuối tháng trở đi)", "safe"),
        ):
            ws.append([label, _cell(ws, Kind.INT, p[name], name)])
    ws.append([NOT_PROJECTED])
    ws.append([f"Sheet '{UNDECIDED_SHEET}' liệt kê các hồ sơ quyết định kết quả tháng, hạn trả gần nhất trước."])


# -- writing ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WorkbookResult:
    unit_code: str
    path: Path
    written: bool  # False: the day's file was there with these very bytes


def write_unit_workbook(outbox_root: Path, data: UnitDay) -> WorkbookResult:
    """Write the unit's workbook for its day, unless the same bytes are there already."""
    path = workbook_path(outbox_root, data.unit_code, data.day)
    content = build_workbook(data)
    if path.is_file() and path.read_bytes() == content:
        return WorkbookResult(data.unit_code, path, written=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, content)
    return WorkbookResult(data.unit_code, path, written=True)


def _write_atomically(path: Path, content: bytes) -> None:
    """A reader (or the person opening the file) sees the old file or the new one, never half."""
    temp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    try:
        with open(temp, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
