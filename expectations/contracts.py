"""The marts' published schema, read from the dbt contract that enforces it.

dbt's `_indicators__models.yml` names every column of each BI-facing mart with its type; the
gate checks the shadow marts against the same file, so there is one schema to review.
"""

from __future__ import annotations

from functools import cache

import yaml

from tthc.paths import DBT_PROJECT_DIR

CONTRACT_FILE = DBT_PROJECT_DIR / "models" / "marts" / "indicators" / "_indicators__models.yml"


@cache
def mart_columns(model: str) -> dict[str, str]:
    """Column → PostgreSQL type of one mart, in contract order."""
    spec = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    for entry in spec["models"]:
        if entry["name"] == model:
            return {c["name"]: c["data_type"] for c in entry["columns"]}
    raise KeyError(f"{model} has no contract in {CONTRACT_FILE}")
