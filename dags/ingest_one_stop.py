"""Nightly: pull every entity of the provincial one-stop system into the raw layer."""
from airflow.sdk import dag, task

from extractors.entities import ONE_STOP, of_source
from tthc.orchestration.assets import RAW_ONE_STOP
from tthc.orchestration.defaults import DEFAULT_ARGS, START


@dag(
    schedule="0 1 * * *",
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingest", "one_stop"],
    doc_md=__doc__,
)
def ingest_one_stop():
    @task(outlets=[RAW_ONE_STOP], max_active_tis_per_dagrun=2)
    def extract(entity_name: str, **context) -> dict:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import ingest_entity

        return ingest_entity(ONE_STOP, entity_name, run_moment(context), context["run_id"])

    extract.expand(entity_name=[e.name for e in of_source(ONE_STOP)])


ingest_one_stop()
