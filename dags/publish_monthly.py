"""Monthly: write the province extract of the month that just ended, for every province unit.

Publishes only when the last quality gate passed; a rerun writes a new version only when
the content changed (late updates), never over an issued one.
"""

from airflow.sdk import dag, task

from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule="0 3 1 * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "extract"],
    doc_md=__doc__,
)
def publish_monthly():
    @task
    def write_extract(**context) -> list[str]:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import publish

        return publish(run_moment(context))

    write_extract()


publish_monthly()
