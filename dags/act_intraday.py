"""Every working hour (07:00–17:00 Asia/Ho_Chi_Minh): ingest the hour's changes to dossiers,
process steps and sync records, rebuild the act-today lists (docs/acting-today.md, §11), publish them
atomically, then the day's workbooks and messages.

Runs hourly every day and skips at once on a day off: the holiday seed decides (HOLIDAY and
DAY_OFF are off, a WORKDAY Saturday works). A failed refresh leaves the last good lists.
"""

from airflow.sdk import dag, task

from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule="0 7-17 * * *",  # in START's timezone: Asia/Ho_Chi_Minh
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["actions", "intraday"],
    doc_md=__doc__,
)
def act_intraday():
    @task.short_circuit
    def is_working_day(**context) -> bool:
        import logging

        from tthc.orchestration.actions import working_day
        from tthc.orchestration.context import run_moment

        works, why = working_day(run_moment(context))
        logging.getLogger("tthc.actions").info("%s: %s", why, "refresh" if works else "no refresh today")
        return works

    @task
    def refresh_lists(**context) -> dict:
        from tthc.orchestration.actions import refresh
        from tthc.orchestration.context import run_moment

        return refresh(run_moment(context), context["run_id"])

    @task
    def publish_daily_workbooks(**context) -> dict:
        from tthc.orchestration.actions import publish_daily
        from tthc.orchestration.context import run_moment

        return publish_daily(run_moment(context))

    is_working_day() >> refresh_lists() >> publish_daily_workbooks()


act_intraday()
