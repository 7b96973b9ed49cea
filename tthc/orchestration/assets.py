"""Assets that link the DAGs: each DAG runs when the data it needs has landed."""

from airflow.sdk import Asset

RAW_ONE_STOP = Asset("tthc://warehouse/raw/one_stop")
RAW_DVC_PORTAL = Asset("tthc://warehouse/raw/dvc_portal")
WAREHOUSE_CORE = Asset("tthc://warehouse/core")
MARTS = Asset("tthc://warehouse/marts")
