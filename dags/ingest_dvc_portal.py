"""Nightly: pull payments, sync status, feedback, ratings, online services and the official scores
from the DVC portal."""
from airflow.sdk import dag, task

from extractors.entities import DVC_PORTAL, of_source
from tthc.orchestration.assets import RAW_DVC_PORTAL
from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule="0 1 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "dvc_portal"],
    doc_md=__doc__,
)
def ingest_dvc_portal():
    @task(outlets=[RAW_DVC_PORTAL], max_active_tis_per_dagrun=2)
    def extract(entity_name: str, **context) -> dict:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import ingest_entity

        return ingest_entity(DVC_PORTAL, entity_name, run_moment(context), context["run_id"])

    @task(outlets=[RAW_DVC_PORTAL])
    def official_scores(**context) -> int:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import fetch_official_scores

        return fetch_official_scores(run_moment(context))

    extract.expand(entity_name=[e.name for e in of_source(DVC_PORTAL)]) >> official_scores()


ingest_dvc_portal()
