"""dbt's vars for sqlfluff's jinja templater, read from dbt/dbt_project.yml (docs/decisions/011-lint.md).

sqlfluff's own `var()` returns the placeholder string "item" for every var, which breaks the macros
that index or loop over a list var (working_windows, rating_bands); lint/sqlfluff/macros/dbt_context.sql
calls value() instead, so a model renders with the project's real defaults.
"""

from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[3] / "dbt" / "dbt_project.yml"
VARS = yaml.safe_load(PROJECT.read_text(encoding="utf-8")).get("vars") or {}


def value(name, default=None):
    """As dbt's var(): the project's value (null included), else the default, else an error."""
    if name in VARS:
        return VARS[name]
    if default is not None:
        return default
    raise KeyError(f"dbt var {name!r} is not in {PROJECT} and the call gives no default")
