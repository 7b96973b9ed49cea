"""Fixtures for the publish tests: a warehouse holding the hand-made province, a private outbox."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.tthc.publish.province import create_marts


@pytest.fixture
def outbox() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="tthc-publish-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def warehouse(fresh_db, monkeypatch):
    """fresh_db with the five marts, the closure, the gate's results and the watermarks filled."""
    monkeypatch.delenv("TTHC_MONTH_CLOSING_DAY", raising=False)  # the default closing day (5th) applies
    create_marts(fresh_db.conninfo())
    return fresh_db
