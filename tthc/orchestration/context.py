"""Read a task's time from its Airflow context the same way in every DAG."""

from __future__ import annotations

from datetime import datetime

from extractors.timefmt import LOCAL


def run_moment(context: dict) -> datetime:
    """The run's own time: end of the data interval, else logical date, else when it ran."""
    for key in ("data_interval_end", "logical_date"):
        value = context.get(key)
        if value is not None:
            return value.astimezone(LOCAL)
    return context["dag_run"].run_after.astimezone(LOCAL)
