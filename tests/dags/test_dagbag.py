"""Every DAG imports cleanly, declares what the pipeline expects, and does no work at parse time."""

import os
import time

import pytest

from tthc.paths import DAGS_DIR

EXPECTED = {"ingest_one_stop", "ingest_dvc_portal", "build_warehouse", "publish_monthly", "act_intraday"}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    started = time.monotonic()
    bag = DagBag(dag_folder=str(DAGS_DIR))
    bag.parse_seconds = time.monotonic() - started
    return bag


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_the_pipeline_dags_exist(dagbag):
    assert EXPECTED <= set(dagbag.dag_ids)


def test_schedules_and_timezone(dagbag):
    ingest = dagbag.dags["ingest_one_stop"]
    assert ingest.timetable.expression == "0 1 * * *"
    assert str(ingest.timetable.timezone.name) == "Asia/Ho_Chi_Minh"
    assert dagbag.dags["publish_monthly"].timetable.expression == "0 3 1 * *"
    # the warehouse build runs when raw one-stop data has landed, not on a clock offset
    condition = str(dagbag.dags["build_warehouse"].timetable.asset_condition)
    assert "tthc://warehouse/raw/one_stop" in condition and "tthc://warehouse/raw/dvc_portal" in condition


def test_gate_sits_between_core_and_marts(dagbag):
    dag = dagbag.dags["build_warehouse"]
    assert dag.get_task("quality_gate").upstream_task_ids == {"dbt_build_core"}
    assert dag.get_task("dbt_build_marts").upstream_task_ids == {"quality_gate"}
    assert dag.get_task("quality_gate").retries == 0


def test_one_mapped_task_per_entity(dagbag):
    from extractors.entities import of_source

    for dag_id, source in (("ingest_one_stop", "one_stop"), ("ingest_dvc_portal", "dvc_portal")):
        task = dagbag.dags[dag_id].get_task("extract")
        assert task.op_kwargs_expand_input.value["entity_name"] == [e.name for e in of_source(source)]
        assert task.partial_kwargs["retries"] == int(os.environ.get("TTHC_TASK_RETRIES", "2"))


def test_a_source_asset_is_emitted_once_every_entity_loaded(dagbag):
    """Not per entity: the warehouse build must not start after the first extract of a source."""
    for dag_id in ("ingest_one_stop", "ingest_dvc_portal"):
        dag = dagbag.dags[dag_id]
        emitting = {t.task_id for t in dag.tasks if t.outlets}
        assert emitting == {"raw_landed"}, (dag_id, emitting)
        assert dag.get_task("raw_landed").upstream_task_ids == {"extract"}
        assert dag.get_task("raw_landed").trigger_rule == "all_success"


def test_intraday_actions_every_working_hour(dagbag):
    """Hourly 07:00-17:00 local time, one run at a time; the working-day check comes first and
    short-circuits the refresh and the daily workbooks on a day off."""
    dag = dagbag.dags["act_intraday"]
    assert dag.timetable.expression == "0 7-17 * * *"
    assert str(dag.timetable.timezone.name) == "Asia/Ho_Chi_Minh"
    assert dag.max_active_runs == 1 and not dag.catchup
    assert dag.get_task("refresh_lists").upstream_task_ids == {"is_working_day"}
    assert dag.get_task("publish_daily_workbooks").upstream_task_ids == {"refresh_lists"}
    assert dag.get_task("refresh_lists").retries == int(os.environ.get("TTHC_TASK_RETRIES", "2"))
    assert all(t.on_failure_callback for t in dag.tasks)


def test_the_night_refreshes_the_actions_after_the_marts(dagbag):
    dag = dagbag.dags["build_warehouse"]
    assert dag.get_task("refresh_actions_lists").upstream_task_ids == {"dbt_build_marts"}
