"""Shared fixtures: a real PostgreSQL cluster per test worker, free ports."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Scorecards the tests' publishes write (tthc/scorecards) go to a scratch folder, never the project's
# reports/: set before tthc.paths is imported, which reads it once; removed when the session ends.
if "TTHC_REPORTS" not in os.environ:
    os.environ["TTHC_REPORTS"] = tempfile.mkdtemp(prefix="tthc-test-reports-")
    atexit.register(shutil.rmtree, os.environ["TTHC_REPORTS"], True)

import psycopg
import pytest

from tthc.warehouse import Dsn, EmbeddedPostgres

# Airflow reads its configuration at import: give each test process its own home, never ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="tthc-test-airflow-"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
# The applicant key's secret (tthc/privacy/pii_key.py): builds refuse to run without one. Set in
# os.environ, so every process a test spawns (the tthc CLI, Airflow, dbt) inherits it.
TEST_PII_KEY = "test-only-pii-key-7c1e9a4f2b8d6e3a0f5c9b1d4e7a2c8f"
if not (os.environ.get("TTHC_PII_SALT") or os.environ.get("TTHC_PII_SALT_FILE")):
    os.environ["TTHC_PII_SALT"] = TEST_PII_KEY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_cluster() -> EmbeddedPostgres:
    """One embedded cluster per xdist worker, removed at the end of the session.

    Not under pytest's tmp folder: that is private to root, and as root the server
    runs as the postgres user, which must reach its data folder.
    """
    base = Path(tempfile.mkdtemp(prefix="tthc-test-pg-"))
    base.chmod(0o755)
    cluster = EmbeddedPostgres(root=base / "cluster", port=free_port())
    cluster.start()
    yield cluster
    cluster.destroy()
    shutil.rmtree(base, ignore_errors=True)


@contextmanager
def scratch_database(cluster: EmbeddedPostgres, raw_schema: bool = False) -> Iterator[Dsn]:
    """A database of its own on `cluster` (with the raw layer's tables if asked), dropped after."""
    admin = cluster.admin_dsn()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.with_database(name)
    try:
        if raw_schema:
            from extractors.raw.schema import ensure_raw_schema

            with psycopg.connect(dsn.conninfo()) as conn:
                ensure_raw_schema(conn)
        yield dsn
    finally:
        with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_db(pg_cluster) -> Dsn:
    """An empty database of its own for one test."""
    with scratch_database(pg_cluster) as dsn:
        yield dsn
