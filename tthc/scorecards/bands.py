"""The rating band (xếp loại) of a total, from the dbt project's own vars (one source of truth).

mart_score_monthly bands the total rounded to 2 decimals with var rating_bands (thresholds,
highest first) and rating_band_lowest; the month to date is scored here, outside dbt, from
act_points_at_stake, so it reads the same vars from dbt/dbt_project.yml rather than copying them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from tthc.paths import DBT_PROJECT_DIR

# mart_score_monthly's defaults when the project does not set the vars.
DEFAULT_BANDS = ((90, "Tốt"), (80, "Khá"), (50, "Trung bình"))
DEFAULT_LOWEST = "Yếu"


@lru_cache(maxsize=4)
def rating_bands(project_dir: Path = DBT_PROJECT_DIR) -> tuple[tuple[tuple[Decimal, str], ...], str]:
    """((threshold, band) highest first, the lowest band) as dbt_project.yml's vars say."""
    config = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    variables = config.get("vars") or {}
    bands = variables.get("rating_bands", DEFAULT_BANDS)
    lowest = variables.get("rating_band_lowest", DEFAULT_LOWEST)
    return tuple((Decimal(str(threshold)), str(name)) for threshold, name in bands), str(lowest)


def band_of(total: Decimal, project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The band of `total` as mart_score_monthly computes it (round(total, 2) >= threshold, first match)."""
    bands, lowest = rating_bands(project_dir)
    # PostgreSQL's round(numeric, 2) rounds half away from zero; totals are never negative.
    rounded = Decimal(total).quantize(Decimal("0.01"), ROUND_HALF_UP)
    for threshold, name in bands:
        if rounded >= threshold:
            return name
    return lowest


def competition_ranks(totals: dict[str, Decimal], peers: dict[str, tuple]) -> dict[str, tuple[int, int]]:
    """{unit: (rank, of)}: rank 1, 2, 2, 4 by total descending among units with the same peer key
    (parent and level), as mart_score_monthly's rank_in_level."""
    groups: dict[tuple, list[str]] = {}
    for unit, key in peers.items():
        if unit in totals:
            groups.setdefault(key, []).append(unit)
    out = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda u: totals[u], reverse=True)
        for unit in ordered:
            out[unit] = (1 + sum(1 for other in ordered if totals[other] > totals[unit]), len(ordered))
    return out
