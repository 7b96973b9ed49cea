"""The backtest's moments and scoring (tthc/actions/backtest.py) on projections and final rates
written by hand; the dbt build it runs is the actions models' own (tested in tests/dbt), and
the benchmark runs the whole of it on a province-year."""

from __future__ import annotations

from datetime import date, datetime, time

import psycopg

from extractors.timefmt import LOCAL
from tthc.actions.backtest import SCHEMA, _score, working_day_moments

UNITS = ("U1", "U2", "U3", "U4")


def test_moments_are_the_working_days_of_the_month_at_the_hour():
    april = working_day_moments(date(2025, 4, 1))
    # April 2025: 22 weekdays, less 7/4 (Giỗ Tổ) and 30/4 (holidays), plus the make-up Saturday
    # 26/4 (WORKDAY): 21
    assert len(april) == 21
    assert datetime(2025, 4, 7, 9, tzinfo=LOCAL) not in april
    assert datetime(2025, 4, 26, 9, tzinfo=LOCAL) in april
    assert datetime(2025, 4, 30, 9, tzinfo=LOCAL) not in april
    assert datetime(2025, 4, 27, 9, tzinfo=LOCAL) not in april  # Sunday
    assert all(m.time() == time(9) and m.tzinfo is not None for m in april)
    assert [m.hour for m in working_day_moments(date(2025, 7, 15), hour=14)][:1] == [14]
    assert len(working_day_moments(date(2025, 7, 15))) == 23  # July 2025: no holiday


def _tables(conn, projections, finals):
    conn.execute(f"create schema {SCHEMA}; create schema marts")
    conn.execute(
        f"create table {SCHEMA}.act_projection (at_ts timestamptz, unit_code text, dossiers_all int, "
        "rate_2_1_min numeric, rate_2_1_max numeric)"
    )
    conn.execute(
        "create table marts.mart_metric_monthly (period_type text, period_key text, unit_code text, "
        "metric_code text, rate numeric)"
    )
    conn.cursor().executemany(f"insert into {SCHEMA}.act_projection values (%s, %s, %s, %s, %s)", projections)
    conn.cursor().executemany("insert into marts.mart_metric_monthly values (%s, %s, %s, %s, %s)", finals)


def test_a_range_holding_the_final_rate_is_a_hit_and_misses_are_counted_by_side(fresh_db):
    first, second = datetime(2025, 7, 1, 9, tzinfo=LOCAL), datetime(2025, 7, 2, 9, tzinfo=LOCAL)
    idle = datetime(2025, 7, 3, 9, tzinfo=LOCAL)  # nothing projected that day
    finals = [("month", "2025-07", u, "2.1", r) for u, r in zip(UNITS, ("0.90", "0.95", "0.50", "0.80"))]
    finals += [
        ("month", "2025-07", "U1", "1.4", "0.10"),  # another metric: not read
        ("quarter", "2025-Q3", "U2", "2.1", "0.10"),  # another period type: not read
        ("month", "2025-06", "U3", "2.1", "0.99"),
    ]  # another month: not read
    projections = [
        (first, "U1", 10, "0.80", "0.95"),  # 0.90 inside
        (first, "U2", 10, "0.80", "0.90"),  # 0.95 above
        (first, "U3", 10, "0.60", "0.70"),  # 0.50 below
        (first, "U4", 0, None, None),  # no dossiers at T: not scored
        (second, "U1", 10, "0.90", "0.90"),  # 0.90 exactly both ends: inside
        (second, "U2", 10, "0.95", "1.00"),  # 0.95 at the lower end: inside
        (second, "U3", 10, "0.40", "0.50"),  # 0.50 at the upper end: inside
        (second, "U5", 10, "0.40", "0.50"),  # no final rate for the unit: not scored
    ]
    with psycopg.connect(fresh_db.conninfo(), autocommit=True) as conn:
        _tables(conn, projections, finals)
        result = _score(conn, [first, second, idle])
    by_day = {d.at: d for d in result.days}
    assert [d.at for d in result.days] == [first, second, idle]
    assert (by_day[first].units, by_day[first].hits, by_day[first].above, by_day[first].below) == (3, 1, 1, 1)
    assert (by_day[second].units, by_day[second].hits, by_day[second].above, by_day[second].below) == (3, 3, 0, 0)
    assert (by_day[idle].units, by_day[idle].hit_rate) == (0, None)
    assert abs(by_day[first].mean_width - 0.35 / 3) < 1e-12  # widths 0.15, 0.10, 0.10
    summary = result.as_dict()
    assert (summary["unit_days"], summary["hits"], summary["above"], summary["below"]) == (6, 4, 1, 1)
    assert [(r["working_day"], r["unit_days"], r["hits"]) for r in summary["by_working_day"]] == [
        (1, 3, 1),
        (2, 3, 3),
        (3, 0, 0),
    ]
