"""The intraday DAG's working days come from the holiday seed."""

from datetime import date

import pytest

from tthc.actions.workdays import day_kind, is_working_day


@pytest.mark.parametrize(
    ("day", "works"),
    [
        (date(2025, 7, 21), True),  # a Monday
        (date(2025, 7, 25), True),  # a Friday
        (date(2025, 7, 19), False),  # an ordinary Saturday
        (date(2025, 7, 20), False),  # an ordinary Sunday
        (date(2025, 9, 2), False),  # HOLIDAY on a Tuesday (Quốc khánh)
        (date(2025, 5, 2), False),  # DAY_OFF: a Friday off by swap
        (date(2025, 4, 26), True),  # WORKDAY: the make-up Saturday of that swap
    ],
)
def test_working_days_follow_the_seed(day, works):
    assert is_working_day(day) is works


def test_the_reason_names_the_seed_row(tmp_path):
    seed = tmp_path / "holidays.csv"
    seed.write_text(
        "calendar_date,kind,name\n2030-01-07,HOLIDAY,Test day\n2030-01-05,WORKDAY,Make-up\n", encoding="utf-8"
    )
    assert day_kind(date(2030, 1, 7), seed) == (False, "2030-01-07 is HOLIDAY (Test day)")
    assert day_kind(date(2030, 1, 5), seed)[0] is True
    assert day_kind(date(2030, 1, 8), seed) == (True, "2030-01-08 is a weekday")
