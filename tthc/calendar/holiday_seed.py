"""Draft the public-holiday seed for a range of years from the `holidays` package.

The calendar is data, not rules: this only drafts `dbt/seeds/vn_public_holidays.csv`,
which people then check against each year's government announcement and edit by hand
(day swaps, compensatory days, new holidays). Rows already in the file are kept as they are.

kind: HOLIDAY (public holiday), DAY_OFF (a weekday off by swap or compensation),
WORKDAY (a weekend day worked in exchange).
"""

from __future__ import annotations

import csv
import re
from datetime import date, datetime
from pathlib import Path

SUBSTITUTE = re.compile(r"thay cho ngày (\d{2})/(\d{2})/(\d{4})")
FIELDS = ["calendar_date", "kind", "name"]


def draft_rows(first_year: int, last_year: int) -> dict[date, tuple[str, str]]:
    import holidays

    rows: dict[date, tuple[str, str]] = {}
    for day, name in sorted(holidays.VN(years=range(first_year, last_year + 1), language="vi").items()):
        match = SUBSTITUTE.search(name)
        if match:
            dom, month, year = (int(g) for g in match.groups())
            rows[day] = ("DAY_OFF", "Nghỉ bù (hoán đổi ngày làm việc)")
            rows[date(year, month, dom)] = ("WORKDAY", "Làm bù (hoán đổi ngày làm việc)")
        else:
            rows[day] = ("HOLIDAY", name)
    return rows


def write_seed(path: Path, first_year: int, last_year: int) -> int:
    existing: dict[date, tuple[str, str]] = {}
    if path.exists():
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                existing[datetime.strptime(row["calendar_date"], "%Y-%m-%d").date()] = (row["kind"], row["name"])  # noqa: DTZ007 - a date; the time is dropped
    merged = {**draft_rows(first_year, last_year), **existing}
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(FIELDS)
        for day in sorted(merged):
            writer.writerow([day.isoformat(), *merged[day]])
    return len(merged)


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("dbt/seeds/vn_public_holidays.csv")
    print(write_seed(target, 2020, 2027), "rows in", target)
