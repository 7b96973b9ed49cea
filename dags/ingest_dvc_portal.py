"""Nightly: pull payments, sync status, feedback, ratings, online services and the official scores
from the DVC portal."""

from airflow.sdk import task

from extractors.entities import DVC_PORTAL
from tthc.orchestration.assets import RAW_DVC_PORTAL
from tthc.orchestration.ingest_dag import ingest_dag

dag, extracts = ingest_dag("ingest_dvc_portal", DVC_PORTAL, RAW_DVC_PORTAL, __doc__)

with dag:

    @task  # the reconciliation's input: not a condition of the warehouse build
    def official_scores(**context) -> int:
        from tthc.orchestration.context import run_moment
        from tthc.orchestration.tasks import fetch_official_scores

        return fetch_official_scores(run_moment(context))

    extracts >> official_scores()
