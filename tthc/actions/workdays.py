"""Whether a local date is a working day, from the holiday seed the warehouse's calendar is built
from (dbt/seeds/vn_public_holidays.csv): Monday to Friday unless a HOLIDAY or a DAY_OFF (a
weekday off by swap), and a weekend day marked WORKDAY (a make-up Saturday) works.

Read from the seed file, not the warehouse, so the intraday DAG decides before it touches the
warehouse (and on a warehouse not built yet).
"""

from __future__ import annotations

import csv
from datetime import date
from functools import cache
from pathlib import Path

from tthc.paths import DBT_PROJECT_DIR

HOLIDAY_SEED = DBT_PROJECT_DIR / "seeds" / "vn_public_holidays.csv"
OFF_KINDS = frozenset({"HOLIDAY", "DAY_OFF"})


@cache
def _kinds(path: Path) -> dict[date, tuple[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return {
            date.fromisoformat(row["calendar_date"]): (row["kind"].strip(), row["name"].strip())
            for row in csv.DictReader(f)
        }


def day_kind(day: date, seed: Path = HOLIDAY_SEED) -> tuple[bool, str]:
    """(is a working day, why) for `day`."""
    kind, name = _kinds(seed).get(day, ("", ""))
    if kind in OFF_KINDS:
        return False, f"{day.isoformat()} is {kind} ({name})"
    if kind == "WORKDAY":
        return True, f"{day.isoformat()} is a WORKDAY ({name})"
    if day.isoweekday() >= 6:
        return False, f"{day.isoformat()} is a {day:%A}"
    return True, f"{day.isoformat()} is a weekday"


def is_working_day(day: date, seed: Path = HOLIDAY_SEED) -> bool:
    return day_kind(day, seed)[0]
