"""Scorecard periods: keys, labels, the period before, the trend's periods, final or provisional."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from extractors.timefmt import LOCAL
from tthc.scorecards import periods as P


@pytest.mark.parametrize(
    "text, kind, start, end, label",
    [
        ("2025-07", "month", date(2025, 7, 1), date(2025, 8, 1), "Tháng 7/2025"),
        ("2025-12", "month", date(2025, 12, 1), date(2026, 1, 1), "Tháng 12/2025"),
        ("2025-Q3", "quarter", date(2025, 7, 1), date(2025, 10, 1), "Quý III/2025"),
        ("2025-Q4", "quarter", date(2025, 10, 1), date(2026, 1, 1), "Quý IV/2025"),
        ("2025", "year", date(2025, 1, 1), date(2026, 1, 1), "Năm 2025"),
        ("2025-07-31", "month_to_date", date(2025, 7, 1), date(2025, 8, 1), "Tháng 7/2025 (đến 31/07)"),
    ],
)
def test_parse_keys_bounds_and_labels(text, kind, start, end, label):
    period = P.parse_period(text)
    assert (period.kind, period.key, period.start, period.end, period.label) == (kind, text, start, end, label)


def test_mtd_is_the_day_given():
    period = P.parse_period("mtd", date(2025, 7, 3))
    assert (period.kind, period.key, period.label) == ("month_to_date", "2025-07-03", "Tháng 7/2025 (đến 03/07)")
    with pytest.raises(P.BadPeriod, match="needs the day"):
        P.parse_period("mtd")


@pytest.mark.parametrize("text", ["2025-13", "2025-Q5", "25", "2025-02-30", "2025/07", "", "report_month"])
def test_bad_periods_are_refused(text):
    with pytest.raises(P.BadPeriod, match="is not YYYY-MM"):
        P.parse_period(text)


@pytest.mark.parametrize(
    "text, before",
    [
        ("2025-01", "2024-12"),
        ("2025-07", "2025-06"),
        ("2025-Q1", "2024-Q4"),
        ("2025-Q3", "2025-Q2"),
        ("2025", "2024"),
        ("2025-07-21", "2025-06"),
    ],
)
def test_previous(text, before):
    assert P.previous(P.parse_period(text)).key == before


def test_trend_periods_twelve_ending_with_the_period():
    months = P.trend_periods(P.parse_period("2025-03"))
    assert [p.key for p in months] == [
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
        "2024-08",
        "2024-09",
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
        "2025-03",
    ]
    quarters = P.trend_periods(P.parse_period("2025-Q2"))
    assert quarters[0].key == "2022-Q3" and quarters[-1].key == "2025-Q2" and len(quarters) == 12
    years = P.trend_periods(P.parse_period("2025"))
    assert [p.key for p in years] == [str(y) for y in range(2014, 2026)]
    mtd = P.trend_periods(P.parse_period("2025-07-21"))
    assert [p.key for p in mtd][-2:] == ["2025-06", "2025-07-21"] and mtd[0].key == "2024-08" and len(mtd) == 12


def test_short_labels():
    assert [P.short_label(P.parse_period(t)) for t in ("2025-07", "2025-Q3", "2025", "2025-07-21")] == [
        "T7/25",
        "Q3/25",
        "2025",
        "T7/25",
    ]


def test_final_after_the_closing_day_of_the_last_month(monkeypatch):
    monkeypatch.delenv("TTHC_MONTH_CLOSING_DAY", raising=False)
    july, q3, year = P.containing("2025-07")
    assert (july.key, q3.key, year.key) == ("2025-07", "2025-Q3", "2025")
    before = datetime(2025, 8, 4, 23, 59, tzinfo=LOCAL)
    after = datetime(2025, 8, 5, 0, 0, tzinfo=LOCAL)
    assert not P.is_final(july, before) and P.is_final(july, after)
    assert not P.is_final(q3, after)  # September is not closed yet
    assert P.is_final(q3, datetime(2025, 10, 5, tzinfo=LOCAL))
    assert not P.is_final(year, datetime(2025, 12, 31, tzinfo=LOCAL))
    assert P.is_final(year, datetime(2026, 1, 5, tzinfo=LOCAL))
    assert not P.is_final(P.parse_period("2025-07-21"), datetime(2030, 1, 1, tzinfo=LOCAL))
    assert P.is_final(july, datetime(2025, 8, 3, tzinfo=LOCAL), closing_day=3)
