"""The retention's weekly DAG: declared, scheduled after the nightly build, no work at parse time."""

from tthc.paths import DAGS_DIR


def test_the_retention_runs_on_sundays_after_the_night():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_DIR / "retain_pii.py"))
    assert bag.import_errors == {}
    dag = bag.dags["retain_pii"]
    assert dag.timetable.expression == "0 4 * * 0"
    assert str(dag.timetable.timezone.name) == "Asia/Ho_Chi_Minh"
    assert [t.task_id for t in dag.tasks] == ["clear_closed_personal_data"]
