"""A database per test module for the dbt tests: dbt runs cost seconds, so each module loads
its hand-made raw records once, builds once, and its tests read the result."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.conftest import scratch_database


@pytest.fixture(scope="module")
def module_db(pg_cluster):
    with scratch_database(pg_cluster, raw_schema=True) as dsn:
        yield dsn


@pytest.fixture(scope="module")
def dbt_work():
    """Private dbt target/log folder for one module."""
    work = Path(tempfile.mkdtemp(prefix="tthc-dbt-"))
    yield work
    shutil.rmtree(work, ignore_errors=True)
