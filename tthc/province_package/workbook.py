"""bao_cao.xlsx: the package's tables as sheets for people, with reproducible bytes.

openpyxl stamps the wall-clock time into docProps/core.xml and into every zip entry, so we
set the document times to the package's generation time, write through ExcelWriter (whose
save_workbook would overwrite `modified`), and re-pack the zip with a fixed entry date.
The same inputs and `now` therefore give the same bytes.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from tthc.province_package.spec import INFO_SHEET, Kind
from tthc.province_package.tables import PreparedTable
from tthc.province_package.values import VN_TZ, to_excel

_HEADER_FONT = Font(bold=True)
_HEADER_ALIGN = Alignment(wrap_text=True, vertical="top")
_WIDTHS = {Kind.TEXT: 22, Kind.TIMESTAMP: 20, Kind.DATE: 12}
_DEFAULT_WIDTH = 12


def build_workbook(tables: list[PreparedTable], info: list[tuple[str, object]], now: datetime, creator: str) -> bytes:
    wb = Workbook(write_only=True)
    _info_sheet(wb, info)
    for table in tables:
        _table_sheet(wb, table)
    stamp = now.astimezone(UTC).replace(tzinfo=None, microsecond=0)  # core.xml holds UTC
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    wb.properties.created = stamp
    wb.properties.modified = stamp
    raw = io.BytesIO()
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED)).save()
    return _repack(raw.getvalue(), now.astimezone(VN_TZ))


def _info_sheet(wb: Workbook, info: list[tuple[str, object]]) -> None:
    ws = wb.create_sheet(INFO_SHEET)
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 40
    ws.freeze_panes = "A2"
    ws.append([_header(ws, "Mục"), _header(ws, "Giá trị")])
    for label, value in info:
        ws.append([label, value])


def _table_sheet(wb: Workbook, table: PreparedTable) -> None:
    ws = wb.create_sheet(table.spec.sheet_name)
    for index, column in enumerate(table.spec.columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = _WIDTHS.get(column.kind, _DEFAULT_WIDTH)
    ws.freeze_panes = "A2"
    ws.append([_header(ws, c.heading) for c in table.spec.columns])
    for values, kinds in zip(table.rows, table.kinds):
        ws.append([_cell(ws, kind, value) for kind, value in zip(kinds, values)])


def _header(ws, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=text)
    cell.font = _HEADER_FONT
    cell.alignment = _HEADER_ALIGN
    return cell


def _cell(ws, kind: Kind, value):
    excel_value, number_format = to_excel(kind, value)
    if number_format is None:
        return excel_value
    cell = WriteOnlyCell(ws, value=excel_value)
    cell.number_format = number_format
    return cell


def _repack(data: bytes, when: datetime) -> bytes:
    """Same entries, same order, every entry dated `when` (local time, as zip dates are)."""
    date_time = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=date_time)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(entry.filename))
    return out.getvalue()
