"""The lists of docs/acting-today.md (§11) by their contract names, in §11's order, and what their figure is.
The words officials read for them are tthc/actions/labels.py's (shared with the workbook)."""

from __future__ import annotations

LIST_NAMES = (
    "sap_den_han",
    "qua_han",
    "buoc_qua_han",
    "chua_tra_ket_qua",
    "thieu_ket_qua_dien_tu",
    "chua_dong_bo",
    "thieu_ly_do",
)

# The columns of a list row (actions.act_list_rows, besides list_name) the readers, the workbook
# and the messages read, in the order they show them.
ROW_COLUMNS = (
    "dossier_code",
    "row_unit_code",
    "handling_unit_code",
    "procedure_code",
    "field_code",
    "channel",
    "status",
    "received_at",
    "due_at",
    "list_value",
    "has_apology_letter",
    "points_gain",
    "current_step_number",
    "current_step_unit_code",
    "current_step_department",
)

# What each list's figure (gia_tri) is, for people.
FIGURES: dict[str, str] = {
    "sap_den_han": "giờ làm việc còn lại",
    "qua_han": "giờ làm việc quá hạn",
    "buoc_qua_han": "giờ làm việc quá hạn của bước",
    "chua_tra_ket_qua": "giờ làm việc từ khi có kết quả",
    "thieu_ket_qua_dien_tu": "điểm có thể tăng",
    "chua_dong_bo": "điểm có thể tăng",
    "thieu_ly_do": "",
}
# The lists whose CSV figure is the row's gain in the unit's metric, not a number of hours.
GAIN_LISTS = frozenset({"thieu_ket_qua_dien_tu", "chua_dong_bo"})


class UnknownList(ValueError):
    pass


def check_list(name: str) -> str:
    if name not in LIST_NAMES:
        raise UnknownList(f"unknown list '{name}': one of {', '.join(LIST_NAMES)}")
    return name
