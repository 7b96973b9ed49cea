"""Secrets and URLs come from Airflow connections (or the environment outside Airflow).

Connection ids: `one_stop` (host = base URL, login = client id, password = client secret),
`dvc_portal` (host = base URL, password or extra `api_key` = API key), and the warehouse logins:
`warehouse_loader`, `warehouse_transformer`, `warehouse_publisher` (postgres connections, one
role each), or `warehouse` (the admin's, from which the stages' logins are derived: see
tthc/warehouse/stages.py). A connection that is not defined falls back to the environment
variables of extractors.sources and WAREHOUSE_<STAGE>_DSN / WAREHOUSE_DSN / the embedded warehouse.
"""

from __future__ import annotations

import logging
import os
import sys

from extractors.entities import DVC_PORTAL, ONE_STOP
from extractors.sources import SourceSettings, settings_from_env
from tthc.warehouse import Dsn

log = logging.getLogger(__name__)

CONN_IDS = {ONE_STOP: "one_stop", DVC_PORTAL: "dvc_portal"}


def airflow_connection(conn_id: str):
    """The Airflow connection, or None outside Airflow or when it is not defined.

    Outside an Airflow process Airflow is consulted only when the environment defines the
    connection (AIRFLOW_CONN_<ID>): importing Airflow creates its home folder (~/airflow unless
    AIRFLOW_HOME says otherwise), and a `tthc` command must not leave files outside the project.
    """
    if "airflow" not in sys.modules:
        if f"AIRFLOW_CONN_{conn_id.upper()}" not in os.environ:
            return None
        from tthc.paths import LOCAL

        os.environ.setdefault("AIRFLOW_HOME", str(LOCAL / "airflow"))
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(conn_id)
    except Exception as exc:  # not defined (AirflowNotFoundException) or no Airflow context
        log.info("Airflow connection %r not available (%s); using the environment", conn_id, type(exc).__name__)
        return None


def base_url(conn) -> str:
    host = (conn.host or "").strip()
    if "://" not in host:
        scheme = conn.schema if conn.schema in ("http", "https") else "http"
        host = f"{scheme}://{host}" + (f":{conn.port}" if conn.port else "")
    return host.rstrip("/")


def source_settings(source: str) -> SourceSettings:
    conn = airflow_connection(CONN_IDS[source])
    if conn is None:
        return settings_from_env(source)
    if source == ONE_STOP:
        return SourceSettings(base_url=base_url(conn), client_id=conn.login, client_secret=conn.password)
    extra = conn.extra_dejson if hasattr(conn, "extra_dejson") else {}
    return SourceSettings(base_url=base_url(conn), api_key=conn.password or extra.get("api_key"))


def dsn_of(conn) -> Dsn:
    """A postgres Airflow connection as a Dsn (schema = database)."""
    return Dsn(
        host=conn.host,
        port=int(conn.port or 5432),
        user=conn.login or "",
        password=conn.password or "",
        dbname=conn.schema or "tthc",
    )


def warehouse_dsn(stage: str) -> Dsn:
    """The login of one stage: "loader", "transformer", "publisher" or "bi"."""
    from tthc.warehouse.stages import stage_dsn

    return stage_dsn(stage)
