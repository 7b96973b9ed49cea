"""Hand-made scorecards for the renderer's tests: every section filled, Vietnamese names with every
tone mark and letter (ă â đ ê ô ơ ư; sắc, huyền, hỏi, ngã, nặng; capitals with marks), a trend of 12
periods with one period unscored, a district with children and a commune without."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal as D

from tthc.scorecards.model import (
    GROUPS,
    ChildUnit,
    GroupScore,
    KeyRate,
    MetricLine,
    Projection,
    Scorecard,
    ScorecardPeriod,
    ThingToDo,
    TrendPoint,
)

VN = timezone(timedelta(hours=7))

# (code, group, name, max points, numerator, denominator, points); None numerator: not applicable
METRICS = (
    ("1.1", "CKMB", "Tỷ lệ TTHC được công bố đúng hạn", 6, None, None, "6"),
    ("1.2", "CKMB", "Tỷ lệ TTHC được công khai trên CSDLQG đúng hạn", 4, None, None, "4"),
    ("1.3", "CKMB", "Tỷ lệ TTHC được công khai đầy đủ nội dung", 2, None, None, "2"),
    ("1.4", "CKMB", "Tỷ lệ hồ sơ được đồng bộ lên Cổng DVCQG", 6, 1180, 1234, "5.737439"),
    ("2.1", "TDGQ", "Tỷ lệ hồ sơ giải quyết đúng hạn", 20, 1012, 1100, "18.4"),
    ("2.2", "TDGQ", "Thời gian giải quyết trung bình (giờ làm việc)", 0, "3412.5", 1100, "0"),
    ("3.1", "CLGQ", "Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến", 2, 150, 180, "2"),
    ("3.2", "CLGQ", "Tỷ lệ DVCTT có phát sinh hồ sơ trực tuyến", 4, 90, 150, "2.4"),
    ("3.3", "CLGQ", "Tỷ lệ hồ sơ nộp trực tuyến", 6, 420, 1234, "4.083"),
    ("3.4", "TTTT", "Tỷ lệ hồ sơ thanh toán trực tuyến", 6, 210, 600, "2.1"),
    ("3.5", "TTTT", "Tỷ lệ TTHC có phát sinh thanh toán trực tuyến", 2, 40, 80, "1.25"),
    ("3.6", "TTTT", "Tỷ lệ TTHC được tích hợp thanh toán trực tuyến", 2, 60, 80, "1.5"),
    ("4.1", "MDSH", "Tỷ lệ hồ sơ cấp kết quả điện tử", 6, 700, 1012, "4.150198"),
    ("4.2", "MDSH", "Tỷ lệ hồ sơ được số hóa", 4, 800, 1234, "2.593193"),
    ("4.3", "MDSH", "Tỷ lệ cấp bản sao điện tử có chứng thực", 2, 30, 40, "1.5"),
    ("4.4", "MDSH", "Tỷ lệ khai thác dữ liệu số hóa", 2, 100, 400, "0.625"),
    ("4.5", "MDSH", "Tỷ lệ hồ sơ kết nối kho dữ liệu cá nhân", 4, 300, 1234, "0.972447"),
    ("4.6", "MDSH", "Tỷ lệ hồ sơ sử dụng CSDL quốc gia về dân cư", 2, 900, 1234, "1.458671"),
    ("4.7", "MDSH", "Tỷ lệ TTHC sử dụng CSDL quốc gia về dân cư", 2, 50, 180, "0.555556"),
    ("5.1", "MDHL", "Tỷ lệ PAKN được xử lý đúng hạn", 6, 9, 10, "5.4"),
    ("5.2", "MDHL", "Mức độ hài lòng với xử lý PAKN", 6, 8, 10, "4.8"),
    ("5.3", "MDHL", "Mức độ hài lòng trong giải quyết TTHC", 6, "4321.5", 5000, "5.762"),
)

KEY_RATES = [
    KeyRate("2.1", "Đúng hạn (2.1)", D("0.95"), D("0.85")),
    KeyRate("1.4", "Đồng bộ (1.4)", D("0.90"), D("0.70")),
    KeyRate("3.3", "Nộp trực tuyến (3.3)", D("0.50"), D("0.30")),
    KeyRate("4.1", "Kết quả điện tử (4.1)", D("0.80"), D("0.50")),
    KeyRate("4.2", "Số hóa hồ sơ (4.2)", D("0.80"), D("0.60")),
]

CHILD_NAMES = (
    "Thị trấn Đắk Hà",
    "Xã Đắk Rơ Nga",
    "Phường Hòa Cường Bắc",
    "Thị trấn Mường Tè",
    "Xã Ẳng Tở",
    "Xã Quảng Trực",
    "Phường Hữu Nghị",
    "Xã Ngọc Wang",
    "Xã Ỷ La",
    "Xã Ea Kiết",
    "Xã Nậm Pồ",
    "Phường Đống Đa",
)


def metric_lines(level: str) -> list[MetricLine]:
    lines = []
    for code, group, name, max_points, num, den, points in METRICS:
        applies = not (code in ("1.1", "1.2", "1.3") and level != "TINH")
        numerator = None if num is None else D(str(num))
        denominator = None if den is None else D(str(den))
        rate = None if (numerator is None or not denominator or code == "2.2") else numerator / denominator
        lines.append(MetricLine(code, name, group, numerator, denominator, rate, D(points), D(max_points), applies))
    return lines


def group_scores(metrics: list[MetricLine]) -> list[GroupScore]:
    return [
        GroupScore(
            code,
            name,
            sum((m.points for m in metrics if m.group_code == code), D(0)),
            sum((m.max_points for m in metrics if m.group_code == code), D(0)),
        )
        for code, name in GROUPS
    ]


def trend(this_total: D, kind: str) -> list[TrendPoint]:
    points = []
    for i in range(12):  # T8/24 .. T7/25, oldest first
        month = (8 + i - 1) % 12 + 1
        year = 2024 + (8 + i - 1) // 12
        total = None if i == 4 else (this_total if i == 11 else D("70.5") + D(i) * D("0.75"))
        points.append(TrendPoint(f"{year}-{month:02d}", f"T{month}/{year % 100}", total))
    return points


def children(count: int) -> list[ChildUnit]:
    units = []
    for i in range(count):
        name = CHILD_NAMES[i % len(CHILD_NAMES)] + ("" if i < len(CHILD_NAMES) else f" {i // len(CHILD_NAMES) + 1}")
        total = D("88.40") - D(i) * D("2.35")
        rates = {
            "2.1": D("0.99") - D(i) * D("0.02"),  # đạt, then cần cố gắng, then thấp
            "1.4": None if i == 2 else D("0.95") - D(i) * D("0.04"),
            "3.3": D("0.20") + D(i) * D("0.05"),
            "4.1": D("0.81") - D(i) * D("0.06"),
            "4.2": D("0.6483") + D(i) * D("0.01"),
        }
        band = "Tốt" if total >= 90 else "Khá" if total >= 80 else "Trung bình" if total >= 65 else "Yếu"
        units.append(ChildUnit(f"000.31.25.X{i + 1:02d}", name, "XA", total, band, i + 1, rates))
    return units


def sample_card(kind: str = "month", children_count: int | None = None) -> Scorecard:
    """kind 'month': a district (Huyện Đắk Hà) with 8 children, final, no projection;
    kind 'month_to_date': a commune (Xã Đắk Rơ Nga) with no children, provisional, with the three
    things to do and the projection. children_count overrides the number of children."""
    district = kind != "month_to_date"
    level = "HUYEN" if district else "XA"
    metrics = metric_lines(level)
    groups = group_scores(metrics)
    total = sum((g.points for g in groups), D(0))
    if kind == "month_to_date":
        period = ScorecardPeriod(
            "month_to_date", "2025-07-31", date(2025, 7, 1), date(2025, 8, 1), "Tháng 7/2025 (đến 31/07)"
        )
        as_of = datetime(2025, 7, 31, 9, 0, tzinfo=VN)
    else:
        period = ScorecardPeriod("month", "2025-07", date(2025, 7, 1), date(2025, 8, 1), "Tháng 7/2025")
        as_of = datetime(2025, 8, 1, 1, 0, tzinfo=VN)
    count = (8 if district else 0) if children_count is None else children_count
    things, projection = [], None
    if kind == "month_to_date":
        things = [
            ThingToDo(1, "2.1", "qua_han", "Quá hạn", D("1.6"), 12),
            ThingToDo(2, "1.4", "chua_dong_bo", "Chưa đồng bộ", D("0.94"), 54),
            ThingToDo(3, "2.1", "sap_den_han", "Sắp đến hạn", D("0.35"), 7),
        ]
        projection = Projection(as_of, total, total - D("1.234"), total + D("0.456"), D("0.8712"), D("0.9345"), 17)
    return Scorecard(
        unit_code="000.31.25.H25" if district else "000.31.25.X02",
        unit_name="Huyện Đắk Hà" if district else "Xã Đắk Rơ Nga",
        unit_level=level,
        period=period,
        final=kind == "month",
        data_as_of=as_of,
        total=total,
        max_score=D(100),
        band="Khá",
        rank=3,
        rank_of=12,
        previous_key="2025-06",
        previous_total=total - D("1.254"),
        groups=groups,
        trend=trend(total, kind),
        metrics=metrics,
        three_things=things,
        projection=projection,
        children=children(count),
        key_rates=KEY_RATES,
        official_total=D("77.10") if district else None,
        generated_at=as_of + timedelta(hours=2),
        lists_at=as_of if kind == "month_to_date" else None,
        notes=["Điểm nhóm Công khai, minh bạch tính theo quy tắc cấp huyện: chỉ số 1.1–1.3 không áp dụng."],
    )
