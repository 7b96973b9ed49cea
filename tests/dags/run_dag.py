"""Run one DAG with dag.test() in a fresh process (Airflow reads its config at import).

usage: python run_dag.py DAG_ID LOGICAL_DATE_ISO
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
sys.exit(0 if str(run.state) in ("success", "DagRunState.SUCCESS") else 1)
