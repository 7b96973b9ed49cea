"""Fixtures for the province package tests: private folders removed afterwards, and a warehouse
holding the hand-made province's marts."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.tthc.province_package.province import create_marts


@pytest.fixture
def make_dir():
    made = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="tthc-package-")))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def outbox(make_dir) -> Path:
    return make_dir()


@pytest.fixture
def warehouse(fresh_db, monkeypatch):
    """fresh_db with the five marts, the closure, the gate's results and the watermarks filled."""
    monkeypatch.delenv("TTHC_MONTH_CLOSING_DAY", raising=False)  # the default closing day (5th) applies
    create_marts(fresh_db.conninfo())
    return fresh_db
