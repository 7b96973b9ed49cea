"""Run one DAG with dag.test() in a fresh process (Airflow reads its config at import).

usage: python run_dag.py DAG_ID LOGICAL_DATE_ISO

Prints the run's state (DAG_RUN_STATE) and each task's (TASK_STATE task_id state).
"""

import sys
from datetime import datetime

from airflow.dag_processing.dagbag import DagBag

from tthc.paths import DAGS_DIR

dag_id, logical = sys.argv[1], datetime.fromisoformat(sys.argv[2])
bag = DagBag(dag_folder=str(DAGS_DIR))
assert not bag.import_errors, bag.import_errors
run = bag.dags[dag_id].test(logical_date=logical)
print("DAG_RUN_STATE", run.state)
from airflow.utils.session import create_session  # noqa: E402

with create_session() as session:
    for ti in run.get_task_instances(session=session):
        print("TASK_STATE", ti.task_id, ti.state)
sys.exit(0 if str(run.state) in ("success", "DagRunState.SUCCESS") else 1)
