"""The nightly ingest DAG of one source: one mapped task per entity, then one task that emits
the source's asset once every entity has loaded (an outlet on the mapped task would emit an
event per entity, and the warehouse build, scheduled on the assets, could start after the first).

Both source DAG files call this, so the two stay alike by construction; a source with extra
work (the portal's official scores) adds its task after the mapped extracts.
"""

from __future__ import annotations

from airflow.sdk import DAG, Asset, task

from extractors.entities import of_source
from extractors.sources import EXTRACTS_AT_ONCE
from tthc.orchestration.defaults import DEFAULT_ARGS, START


def ingest_dag(dag_id: str, source: str, asset: Asset, doc_md: str):
    """Returns (dag, mapped_extracts) so the caller can chain more tasks after the extracts."""
    dag = DAG(
        dag_id=dag_id,
        schedule="0 1 * * *",
        start_date=START,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["ingest", source],
        doc_md=doc_md,
    )
    with dag:

        @task(max_active_tis_per_dagrun=EXTRACTS_AT_ONCE)
        def extract(entity_name: str, **context) -> dict:
            from airflow.sdk.exceptions import AirflowFailException

            from extractors.http import SourceAuthError
            from tthc.orchestration.context import run_moment
            from tthc.orchestration.tasks import ingest_entity

            try:
                return ingest_entity(source, entity_name, run_moment(context), context["run_id"])
            except SourceAuthError as exc:
                # Refused credentials do not heal by waiting: fail now (and alert) instead of
                # spending the task's retries, minutes apart, on the same refusal.
                raise AirflowFailException(str(exc)) from exc

        @task(outlets=[asset])
        def raw_landed(results) -> dict:
            """Runs only when every extract succeeded (the default trigger rule)."""
            results = list(results)
            return {"entities": len(results), "loaded": sum(r["loaded"] for r in results)}

        extracts = extract.expand(entity_name=[e.name for e in of_source(source)])
        raw_landed(extracts)
    return dag, extracts
