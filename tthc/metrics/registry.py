"""The metric registry: what each 766 metric counts and where it is computed, read from the seeds.

dbt/seeds/metric_registry.csv holds one row per metric (its words, count model, input columns,
oracle function and the §11 list that moves it); metric_scoring_rules.csv its name, group and
points per version and variant; metric_groups.csv the groups' names. Python that shows a metric
or a group by name reads it here instead of writing it out again. docs/metrics.md is generated
from the same seeds (tthc/metrics/docs_page.py).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tthc.paths import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"
REGISTRY_CSV = SEEDS / "metric_registry.csv"
RULES_CSV = SEEDS / "metric_scoring_rules.csv"
GROUPS_CSV = SEEDS / "metric_groups.csv"


@dataclass(frozen=True)
class Metric:
    code: str
    short_name_vi: str
    numerator_en: str
    denominator_en: str
    numerator_vi: str
    denominator_vi: str
    count_model: str
    input_columns: tuple[str, ...]  # "model.column"
    oracle_functions: tuple[str, ...]  # of tests/oracle.py; the first counts the metric
    action_list: str | None
    notes_en: str

    @property
    def anchor(self) -> str:
        return "metric-" + self.code.replace(".", "-")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def sort_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split("."))


@lru_cache(maxsize=4)
def registry(path: Path = REGISTRY_CSV) -> dict[str, Metric]:
    """{metric_code: Metric} of the registry seed, in metric order."""
    out = {}
    for r in sorted(_rows(path), key=lambda r: sort_key(r["metric_code"])):
        if r["metric_code"] in out:
            raise ValueError(f"{path.name}: metric {r['metric_code']} has two rows")
        out[r["metric_code"]] = Metric(
            code=r["metric_code"],
            short_name_vi=r["short_name_vi"],
            numerator_en=r["numerator_en"],
            denominator_en=r["denominator_en"],
            numerator_vi=r["numerator_vi"],
            denominator_vi=r["denominator_vi"],
            count_model=r["count_model"],
            input_columns=tuple(c.strip() for c in r["input_columns"].split(";") if c.strip()),
            oracle_functions=tuple(f.strip() for f in r["oracle_function"].split(";") if f.strip()),
            action_list=r["action_list"] or None,
            notes_en=r["notes_en"],
        )
    return out


@lru_cache(maxsize=4)
def groups(path: Path = GROUPS_CSV) -> dict[str, tuple[str, str, int | None]]:
    """{group_code: (Vietnamese name, English name, draw order or None)}."""
    return {
        r["group_code"]: (r["group_name_vi"], r["group_name_en"], int(r["draw_order"]) if r["draw_order"] else None)
        for r in _rows(path)
    }


def scorecard_groups(path: Path = GROUPS_CSV) -> tuple[tuple[str, str], ...]:
    """The six groups (code, Vietnamese name) in the order a scorecard draws them."""
    drawn = [(order, code, vi) for code, (vi, _, order) in groups(path).items() if order is not None]
    return tuple((code, vi) for _, code, vi in sorted(drawn))


def scoring_rules(path: Path = RULES_CSV) -> list[dict[str, str]]:
    return _rows(path)
