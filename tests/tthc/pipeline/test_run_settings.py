"""What changes from night to night reaches dbt without making it re-parse the project."""

import logging
from datetime import date

from tthc.pipeline.dbt import run_dbt

SHOW = ["show", "--inline", "select {{ as_of_date() }} as as_of, current_setting('tthc.test_scope', true) as scope"]


def dbt_lines(caplog) -> list[str]:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("dbt | ")]
    caplog.clear()
    return lines


def test_each_nights_day_and_scope_reach_dbt_and_the_parse_is_kept(fresh_db, caplog):
    caplog.set_level(logging.INFO, logger="tthc.pipeline.dbt")
    run_dbt(SHOW, fresh_db, date(2026, 1, 5), phase="settings", test_scope="night")
    first = dbt_lines(caplog)
    assert any("2026-01-05" in line and "night" in line for line in first), first
    run_dbt(SHOW, fresh_db, date(2026, 1, 6), phase="settings", test_scope="all")
    second = dbt_lines(caplog)
    assert any("2026-01-06" in line and "all" in line for line in second), second
    # a var that changed would have made dbt say so and parse everything again
    assert not any("Unable to do partial parsing" in line for line in second), second
