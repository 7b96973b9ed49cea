"""Which nights check every row: full refreshes, the weekly full-check day, builds by hand."""

from datetime import date, timedelta

from tthc.pipeline.dbt import FULL_CHECKS_WEEKDAY, checks_scope

MONDAY = date(2026, 1, 5)


def test_a_week_of_nights_checks_every_row_once():
    week = [MONDAY + timedelta(days=n) for n in range(7)]
    scopes = {day.isoweekday(): checks_scope(day) for day in week}
    assert [d for d, scope in scopes.items() if scope == "all"] == [FULL_CHECKS_WEEKDAY]
    assert list(scopes.values()).count("night") == 6


def test_full_refreshes_and_builds_by_hand_check_every_row():
    assert checks_scope(MONDAY, full_refresh=True) == "all"
    assert checks_scope(None) == "all"
