"""A small real province for the dashboards' test: one night (ingest over HTTP from the simulator,
dbt build, gate, marts) and two published refreshes of the lists of §11 (docs/acting-today.md), so the marts, the
actions schema and actions_history.unit_summary all hold rows the pipeline itself wrote."""

from __future__ import annotations

from datetime import date, datetime

from extractors.timefmt import LOCAL
from simulator import SimulatorServer, World, WorldConfig
from tests.failure.night import Night, create_database, environment, run_night
from tthc.actions.refresh import refresh_actions
from tthc.warehouse import Dsn

WORLD = WorldConfig(
    seed=31,
    dossiers_per_year=1000,
    start=date(2025, 5, 1),
    end=date(2025, 9, 30),
    departments=3,
    districts=2,
    communes_per_district=3,
    procedures=40,
)
NIGHT = datetime(2025, 7, 21, 1, 0, tzinfo=LOCAL)  # a Monday's night build
REFRESHES = (
    datetime(2025, 7, 21, 9, 0, tzinfo=LOCAL),  # that morning's lists
    datetime(2025, 7, 21, 15, 0, tzinfo=LOCAL),
)  # and the afternoon's: two history rows a unit


def build_province(admin: Dsn, name: str, outbox) -> Dsn:
    """A new database `name` holding the night's marts and both refreshes; returns its admin DSN."""
    dsn = create_database(admin, name)
    with SimulatorServer(World(WORLD), port=0, clock=NIGHT) as server:
        night = Night(dsn, server.url, outbox, clock=NIGHT)
        report = run_night(night, until="marts")
        assert not report.failed_extracts, report.failed_extracts
        with environment(night.env()):
            for at in REFRESHES:
                refresh_actions(dsn, at, ingest=False, run_id=f"bi-test-{at:%H%M}")
    return dsn
