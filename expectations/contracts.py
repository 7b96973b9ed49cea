"""The marts' published schema, read from the dbt contract that enforces it.

dbt's `_indicators__models.yml` names every column of each BI-facing mart with its type; the
gate checks the shadow marts against the same file, so there is one schema to review.
"""
from __future__ import annotations

from functools import lru_cache

import yaml

from tthc.paths import DBT_PROJECT_DIR

CONTRACT_FILE = DBT_PROJECT_DIR / "models" / "marts" / "indicators" / "_indicators__models.yml"
PROJECT_FILE = DBT_PROJECT_DIR / "dbt_project.yml"


@lru_cache(maxsize=None)
def mart_columns(model: str) -> dict[str, str]:
    """Column → PostgreSQL type of one mart, in contract order."""
    spec = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))
    for entry in spec["models"]:
        if entry["name"] == model:
            return {c["name"]: c["data_type"] for c in entry["columns"]}
    raise KeyError(f"{model} has no contract in {CONTRACT_FILE}")


@lru_cache(maxsize=None)
def rating_band_labels() -> tuple[str, ...]:
    """The rating bands the project declares (var rating_bands + rating_band_lowest)."""
    variables = yaml.safe_load(PROJECT_FILE.read_text(encoding="utf-8"))["vars"]
    return tuple(label for _, label in variables["rating_bands"]) + (variables["rating_band_lowest"],)
