"""Where the project keeps its files and its local state."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("TTHC_HOME", Path(__file__).resolve().parents[1]))
LOCAL = PROJECT_ROOT / ".local"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DAGS_DIR = PROJECT_ROOT / "dags"
OUTBOX = Path(os.environ.get("TTHC_OUTBOX", PROJECT_ROOT / "outbox"))
# Scorecards per unit and period (tthc/scorecards), beside the outbox: not part of the province package.
REPORTS = Path(os.environ.get("TTHC_REPORTS", PROJECT_ROOT / "reports"))


def dbt_executable() -> Path:
    """dbt runs from its own environment (.venv-dbt), see docs/decisions/001."""
    explicit = os.environ.get("TTHC_DBT_BIN")
    return Path(explicit) if explicit else PROJECT_ROOT / ".venv-dbt" / "bin" / "dbt"
