"""Scorecard periods: parsing, Vietnamese labels, the period before, the trend's periods, final or not.

    '2025-07'     a month              'Tháng 7/2025'
    '2025-Q3'     a quarter            'Quý III/2025'
    '2025'        a year               'Năm 2025'
    '2025-07-31'  the month to date    'Tháng 7/2025 (đến 31/07)'   (the published lists' local day)
    'mtd'         the month to date of `today` (the caller passes the lists' local day)

Months, quarters and years are the marts' periods (period_type month/quarter/year; Decree 09's
report_month is not a scorecard period). A month is final after its closing day
(tthc/province_package/periods.py Month.status_at); a quarter or a year when its last month is; the month
to date never is.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from tthc.province_package.periods import FINAL, Month
from tthc.scorecards.model import ScorecardPeriod

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
YEAR = re.compile(r"^(\d{4})$")
DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
MTD = "mtd"
ROMAN = ("I", "II", "III", "IV")
# The kinds read from the marts (their period_type); the month to date comes from the lists.
MARTS_KINDS = ("month", "quarter", "year")


class BadPeriod(ValueError):
    """The text is not a scorecard period."""


def month(year: int, number: int) -> ScorecardPeriod:
    m = Month(year, number)
    return ScorecardPeriod("month", m.key, m.start, m.end, f"Tháng {number}/{year}")


def quarter(year: int, number: int) -> ScorecardPeriod:
    start = date(year, 3 * number - 2, 1)
    end = Month(year, 3 * number).end
    return ScorecardPeriod("quarter", f"{year:04d}-Q{number}", start, end, f"Quý {ROMAN[number - 1]}/{year}")


def year(number: int) -> ScorecardPeriod:
    return ScorecardPeriod("year", f"{number:04d}", date(number, 1, 1), date(number + 1, 1, 1), f"Năm {number}")


def month_to_date(day: date) -> ScorecardPeriod:
    """The month containing `day`, up to that day; its key is the day."""
    m = Month(day.year, day.month)
    return ScorecardPeriod(
        "month_to_date", day.isoformat(), m.start, m.end, f"Tháng {day.month}/{day.year} (đến {day:%d/%m})"
    )


def parse_period(text: str, today: date | None = None) -> ScorecardPeriod:
    """A period from its key ('2025-07', '2025-Q3', '2025', '2025-07-31') or 'mtd' (the month to
    date of `today`, which the caller must give: the published lists' local day)."""
    text = (text or "").strip()
    if text.lower() == MTD:
        if today is None:
            raise BadPeriod("'mtd' needs the day of the lists (the published refresh's local date)")
        return month_to_date(today)
    if match := MONTH.match(text):
        return month(int(match.group(1)), int(match.group(2)))
    if match := QUARTER.match(text):
        return quarter(int(match.group(1)), int(match.group(2)))
    if match := YEAR.match(text):
        return year(int(match.group(1)))
    if DAY.match(text):
        try:
            return month_to_date(date.fromisoformat(text))
        except ValueError:
            pass
    raise BadPeriod(
        f"period {text!r} is not YYYY-MM (month), YYYY-Qn (quarter), YYYY (year), YYYY-MM-DD or 'mtd' (month to date)"
    )


def last_month(period: ScorecardPeriod) -> Month:
    """The period's last calendar month (for the month to date: its month)."""
    last = period.end - timedelta(days=1)
    return Month(last.year, last.month)


def previous(period: ScorecardPeriod) -> ScorecardPeriod:
    """The period before, of the same kind; for the month to date, the month before its month."""
    if period.kind in ("month", "month_to_date"):
        before = period.start - timedelta(days=1)
        return month(before.year, before.month)
    if period.kind == "quarter":
        number = (period.start.month - 1) // 3 + 1
        return quarter(period.start.year - (number == 1), 4 if number == 1 else number - 1)
    return year(period.start.year - 1)


def trend_periods(period: ScorecardPeriod, count: int = 12) -> list[ScorecardPeriod]:
    """`count` periods oldest first ending with `period`; for the month to date the months before
    it and itself last."""
    out = [period]
    while len(out) < count:
        out.append(previous(out[-1]))
    return out[::-1]


def short_label(period: ScorecardPeriod) -> str:
    """The trend axis' label: 'T7/25', 'Q3/25', '2025' (the month to date as its month)."""
    if period.kind in ("month", "month_to_date"):
        return f"T{period.start.month}/{period.start.year % 100:02d}"
    if period.kind == "quarter":
        return f"Q{(period.start.month - 1) // 3 + 1}/{period.start.year % 100:02d}"
    return f"{period.start.year}"


def is_final(period: ScorecardPeriod, now: datetime, closing_day: int | None = None) -> bool:
    """Final after the closing day of its last month (TTHC_MONTH_CLOSING_DAY); the month to date never."""
    if period.kind == "month_to_date":
        return False
    return last_month(period).status_at(now, closing_day) == FINAL


def containing(month_key: str) -> list[ScorecardPeriod]:
    """The month, and the quarter and year containing it (what the monthly publish writes)."""
    m = Month.parse(month_key)
    return [month(m.year, m.month), quarter(m.year, (m.month - 1) // 3 + 1), year(m.year)]
