"""The Vietnamese words officials read in the daily workbook and message (one place for both)."""

from __future__ import annotations

from tthc.metrics.registry import registry

# The lists of §11 (the contract's list_name → what an official calls it). Sheet names too:
# Excel allows 31 characters and none of []:*?/\ in them.
LIST_TITLES = {
    "sap_den_han": "Sắp đến hạn",
    "qua_han": "Quá hạn",
    "buoc_qua_han": "Bước quá hạn",
    "chua_tra_ket_qua": "Chưa trả kết quả",
    "thieu_ket_qua_dien_tu": "Thiếu kết quả điện tử",
    "chua_dong_bo": "Chưa đồng bộ",
    "thieu_ly_do": "Thiếu lý do",
}

# The metrics' short names, as the three things to do name them: the registry's (seed
# metric_registry, column short_name_vi; docs/metrics.md).
METRIC_TITLES = {code: metric.short_name_vi for code, metric in registry().items()}

# What a pair's points at stake mean: L1's are points 2.1 loses if the dossiers turn late, the
# others' are points gained when the dossiers are fixed.
STAKE_VERB = {"sap_den_han": "giữ được", "default": "tăng được"}

CHANNELS = {1: "Trực tiếp", 2: "Trực tuyến", 3: "Bưu chính công ích"}
STATUSES = {
    2: "Được tiếp nhận",
    3: "Không được tiếp nhận",
    4: "Đang xử lý",
    5: "Yêu cầu bổ sung",
    6: "Chờ thực hiện nghĩa vụ tài chính",
    7: "Công dân rút hồ sơ",
    8: "Dừng xử lý",
    9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}

NOT_PROJECTED = "Hồ sơ tiếp nhận sau thời điểm tính số liệu không được dự báo."


def stake_verb(list_name: str) -> str:
    return STAKE_VERB.get(list_name, STAKE_VERB["default"])


def metric_title(code: str) -> str:
    title = METRIC_TITLES.get(code)
    return f"{code} {title}" if title else code
