"""Working time from the holiday seed, checked against a naive day-by-day reference."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

import pytest

from simulator.worktime import DEFAULT_SEED, WorkCalendar, local_seconds, to_datetime

CAL = WorkCalendar()


def seed_kinds() -> dict[date, str]:
    with DEFAULT_SEED.open(encoding="utf-8") as f:
        return {date.fromisoformat(r["calendar_date"]): r["kind"] for r in csv.DictReader(f)}


KINDS = seed_kinds()


def naive_is_workday(d: date) -> bool:
    kind = KINDS.get(d)
    if kind == "WORKDAY":
        return True
    if kind in ("HOLIDAY", "DAY_OFF"):
        return False
    return d.weekday() < 5


def naive_add_hours(start: datetime, hours: int) -> datetime:
    """Walk minute by minute through the working windows: slow, obviously right."""
    t, left = start, hours * 60
    windows = ((7 * 60, 11 * 60 + 30), (13 * 60 + 30, 17 * 60))
    while left > 0:
        m = t.hour * 60 + t.minute
        if naive_is_workday(t.date()) and any(a <= m < b for a, b in windows):
            left -= 1
        t += timedelta(minutes=1)
    return t


def at(*args) -> int:
    return local_seconds(datetime(*args))


def dt(t) -> datetime:
    return to_datetime(int(t))


@pytest.mark.parametrize(
    "start,hours",
    [
        (datetime(2024, 4, 26, 16, 0), 8),  # Friday before the 30/4-1/5 break with a day off on 29/4
        (datetime(2024, 5, 3, 9, 15), 16),  # crosses Saturday 4/5, a swapped working day
        (datetime(2024, 2, 7, 10, 0), 24),  # into the Tết week
        (datetime(2025, 8, 29, 15, 45), 12),  # 1-2/9/2025 off
        (datetime(2024, 6, 3, 12, 10), 3),  # starts at lunch
        (datetime(2024, 6, 3, 18, 30), 2),  # starts after 17:00
        (datetime(2024, 6, 8, 9, 0), 5),  # starts on a Saturday
    ],
)
def test_add_work_matches_naive_reference(start, hours):
    assert dt(CAL.add_work(local_seconds(start), hours * 3600)) == naive_add_hours(start, hours)


def test_reception_outside_hours_starts_at_next_window():
    # after 17:00 -> next working morning; before 07:00 -> 07:00; at lunch -> 13:30
    assert dt(CAL.add_work(at(2024, 6, 3, 18, 0), 3600)) == datetime(2024, 6, 4, 8, 0)
    assert dt(CAL.add_work(at(2024, 6, 4, 5, 0), 3600)) == datetime(2024, 6, 4, 8, 0)
    assert dt(CAL.add_work(at(2024, 6, 4, 12, 0), 3600)) == datetime(2024, 6, 4, 14, 30)


def test_day_boundary_ends_at_17_not_next_morning():
    assert dt(CAL.due(at(2024, 6, 3, 7, 0), 1, "NGAY_LAM_VIEC")) == datetime(2024, 6, 3, 17, 0)


def test_working_days_skip_weekend_and_holidays():
    # received Friday 30/8/2024 10:00, 3 working days: 2/9 and 3/9 are holidays
    assert dt(CAL.due(at(2024, 8, 30, 10, 0), 3, "NGAY_LAM_VIEC")) == datetime(2024, 9, 6, 10, 0)


def test_calendar_days_move_off_non_working_days():
    # 3 calendar days from Friday 26/4/2024 lands on 29/4 (day off); next working day is 2/5
    assert dt(CAL.due(at(2024, 4, 26, 9, 0), 3, "NGAY")) == datetime(2024, 5, 2, 17, 0)
    # 2 days from Thursday 6/6/2024 is Saturday 8/6 -> Monday 10/6
    assert dt(CAL.due(at(2024, 6, 6, 9, 0), 2, "NGAY")) == datetime(2024, 6, 10, 17, 0)


def test_hours_limit():
    assert dt(CAL.due(at(2024, 6, 7, 15, 0), 4, "GIO")) == datetime(2024, 6, 10, 9, 0)


def test_work_between_is_inverse_of_add_work():
    a = at(2024, 3, 1, 10, 0)
    b = CAL.add_work(a, 37 * 3600 + 120)
    assert int(CAL.work_between(a, b)) == 37 * 3600 + 120


def test_every_seed_row_is_respected():
    for d, kind in KINDS.items():
        assert bool(CAL.is_work_day((d - date(1970, 1, 1)).days)) == (kind == "WORKDAY"), d


def test_outside_calendar_is_an_error():
    with pytest.raises(ValueError):
        CAL.to_work(at(2031, 1, 1, 8, 0))
