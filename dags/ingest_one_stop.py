"""Nightly: pull every entity of the provincial one-stop system into the raw layer."""

from airflow.sdk import DAG

from extractors.entities import ONE_STOP
from tthc.orchestration.assets import RAW_ONE_STOP
from tthc.orchestration.ingest_dag import ingest_dag

dag: DAG
dag, _ = ingest_dag("ingest_one_stop", ONE_STOP, RAW_ONE_STOP, __doc__)
