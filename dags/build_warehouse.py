"""When both sources' new raw data has landed: dbt builds the warehouse, the quality gate checks it, marts refresh,
then the act-today lists (docs/acting-today.md, §11) as of the night.

A failed gate stops the run before the marts. The marts are built into a shadow schema, gated
there and swapped in only when they pass, so BI and the province package keep the last good marts.
"""

from airflow.sdk import dag, task

from tthc.orchestration.assets import MARTS, RAW_DVC_PORTAL, RAW_ONE_STOP, WAREHOUSE_CORE
from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule=[RAW_ONE_STOP, RAW_DVC_PORTAL],  # after both nightly ingests have landed
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS | {"retries": min(1, DEFAULT_ARGS["retries"])},
    tags=["warehouse", "dbt", "quality"],
    doc_md=__doc__,
)
def build_warehouse():
    @task(outlets=[WAREHOUSE_CORE])
    def dbt_build_core(**context) -> None:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import build_warehouse as build

        build(run_moment(context).date())

    @task(retries=0)  # a failed check is a finding, not a transient fault
    def quality_gate(**context) -> dict:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import quality_gate as gate

        return gate(context["run_id"], run_moment(context).date())

    @task(outlets=[MARTS])
    def dbt_build_marts(**context) -> dict:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import build_marts

        # the marts gate reports under the night's run, beside the core gate's checks
        return build_marts(run_moment(context).date(), run_id=context["run_id"])

    @task
    def refresh_actions_lists(**context) -> dict:
        from tthc.orchestration.actions import refresh
        from tthc.orchestration.context import run_moment

        # the act-today lists as of tonight; no ingest or upstream build: the night just did both
        return refresh(run_moment(context), context["run_id"], ingest=False)

    dbt_build_core() >> quality_gate() >> dbt_build_marts() >> refresh_actions_lists()


build_warehouse()
