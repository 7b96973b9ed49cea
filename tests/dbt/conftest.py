"""A database per test module for the dbt tests: dbt runs cost seconds, so each module loads
its hand-made raw records once, builds once, and its tests read the result."""
from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest

from extractors.raw.schema import ensure_raw_schema


@pytest.fixture(scope="module")
def module_db(pg_cluster):
    admin = pg_cluster.admin_dsn()
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.with_database(name)
    with psycopg.connect(dsn.conninfo()) as conn:
        ensure_raw_schema(conn)
    yield dsn
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dbt_work():
    """Private dbt target/log folder for one module."""
    work = Path(tempfile.mkdtemp(prefix="tthc-dbt-"))
    yield work
    shutil.rmtree(work, ignore_errors=True)
