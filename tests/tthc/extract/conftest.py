"""Fixtures for the extract tests: private folders that are removed afterwards."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def make_dir():
    made = []

    def make() -> Path:
        made.append(Path(tempfile.mkdtemp(prefix="tthc-extract-")))
        return made[-1]

    yield make
    for folder in made:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def outbox(make_dir) -> Path:
    return make_dir()
