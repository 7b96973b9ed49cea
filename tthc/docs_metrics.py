"""Write docs/metrics.md, the page that defines the 766 metrics, from the seeds that hold them.

One place per metric: dbt/seeds/metric_registry.csv says what each metric counts and where it
is computed and checked; dbt/seeds/metric_scoring_rules.csv gives its name, group and points
(every version and variant); dbt/seeds/metric_groups.csv names the groups. The page is
generated so it cannot drift from them: tests/docs/test_metric_registry.py fails when the
committed page differs from what this writes.

    python -m tthc.docs_metrics            # rewrite docs/metrics.md
    python -m tthc.docs_metrics --check    # exit 1 when docs/metrics.md is stale
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from tthc.paths import DBT_PROJECT_DIR, PROJECT_ROOT

SEEDS = DBT_PROJECT_DIR / "seeds"
REGISTRY_CSV = SEEDS / "metric_registry.csv"
RULES_CSV = SEEDS / "metric_scoring_rules.csv"
GROUPS_CSV = SEEDS / "metric_groups.csv"
PAGE = PROJECT_ROOT / "docs" / "metrics.md"

# Every metric flows through these after its count model (the page says so once, not per metric).
POOLING_MODEL = "int_metric_counts_pooled"
SCORED_MODEL = "mart_metric_monthly"
ACTING_TODAY = "acting-today.md"


@dataclass(frozen=True)
class Metric:
    code: str
    short_name_vi: str
    numerator_en: str
    denominator_en: str
    numerator_vi: str
    denominator_vi: str
    count_model: str
    input_columns: tuple[str, ...]       # "model.column"
    oracle_functions: tuple[str, ...]    # of tests/oracle.py; the first counts the metric
    action_list: str | None
    notes_en: str

    @property
    def anchor(self) -> str:
        return "metric-" + self.code.replace(".", "-")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _sort_key(code: str) -> tuple[int, ...]:
    return tuple(int(part) for part in code.split("."))


@lru_cache(maxsize=4)
def registry(path: Path = REGISTRY_CSV) -> dict[str, Metric]:
    """{metric_code: Metric} of the registry seed, in metric order."""
    out = {}
    for r in sorted(_rows(path), key=lambda r: _sort_key(r["metric_code"])):
        if r["metric_code"] in out:
            raise ValueError(f"{path.name}: metric {r['metric_code']} has two rows")
        out[r["metric_code"]] = Metric(
            code=r["metric_code"], short_name_vi=r["short_name_vi"],
            numerator_en=r["numerator_en"], denominator_en=r["denominator_en"],
            numerator_vi=r["numerator_vi"], denominator_vi=r["denominator_vi"],
            count_model=r["count_model"],
            input_columns=tuple(c.strip() for c in r["input_columns"].split(";") if c.strip()),
            oracle_functions=tuple(f.strip() for f in r["oracle_function"].split(";") if f.strip()),
            action_list=r["action_list"] or None,
            notes_en=r["notes_en"])
    return out


@lru_cache(maxsize=4)
def groups(path: Path = GROUPS_CSV) -> dict[str, tuple[str, str, int | None]]:
    """{group_code: (Vietnamese name, English name, draw order or None)}."""
    return {r["group_code"]: (r["group_name_vi"], r["group_name_en"],
                              int(r["draw_order"]) if r["draw_order"] else None) for r in _rows(path)}


def scorecard_groups(path: Path = GROUPS_CSV) -> tuple[tuple[str, str], ...]:
    """The six groups (code, Vietnamese name) in the order a scorecard draws them."""
    drawn = [(order, code, vi) for code, (vi, _, order) in groups(path).items() if order is not None]
    return tuple((code, vi) for _, code, vi in sorted(drawn))


def scoring_rules(path: Path = RULES_CSV) -> list[dict[str, str]]:
    return _rows(path)


# -- rendering --------------------------------------------------------------------------------------

def _num(text: str) -> str:
    value = Decimal(text).normalize()
    return f"{value:f}"


def _formula(rule: dict[str, str]) -> str:
    top = _num(rule["max_points"])
    if rule["rule_kind"] == "CAPPED":
        return f"min({top}, {top}·r / {_num(rule['target_rate'])})"
    k = _num(rule["points_per_unit_rate"])
    if top == "0":
        return "0 (monitoring only)"
    return f"{k}·r" if k == top else f"min({top}, {k}·r)"


def _points_word(kind: str) -> str:
    return "0 points" if kind == "ZERO" else "full marks"


def _rule_line(rule: dict[str, str]) -> str:
    levels = rule["applies_to_levels"]
    scope = "every unit" if levels == "ALL" else \
        f"units of level {levels} (elsewhere {_points_word(rule['not_applicable_points'])}, not applied)"
    until = f" to {rule['effective_to']}" if rule["effective_to"] else ""
    variant = "default" if rule["variant"] == "default" else f"variant `{rule['variant']}` (var scoring_variants)"
    return (f"| {variant} | {_formula(rule)} | {_num(rule['max_points'])} | {scope} | "
            f"{_points_word(rule['empty_points'])} | from {rule['effective_from']}{until} | {rule['note']} |")


def _default_rule(rules: list[dict[str, str]]) -> dict[str, str]:
    defaults = [r for r in rules if r["variant"] == "default"]
    return max(defaults or rules, key=lambda r: r["effective_from"])


INTRO = """\
# The 766 metrics

<!-- Generated by `python -m tthc.docs_metrics` from dbt/seeds/metric_registry.csv,
     metric_scoring_rules.csv and metric_groups.csv. Do not edit: edit the seeds and regenerate;
     tests/docs/test_metric_registry.py fails when this page is stale. -->

This page is the project's definition of every metric of the Decision 766 index (what the
specification calls §6a): what each one counts, how it scores, which dbt model computes it, which
function of `tests/oracle.py` recomputes it independently, and which of the daily lists of
[acting today](acting-today.md) moves it. Code, SQL and tests follow it; a change of a rule is a
new row of the seeds (a new `effective_from`), never an edit of an old one.
[metrics-review.md](metrics-review.md) records how each definition was checked against the SQL.

## Common terms

For a unit U and a period [start, end) (a calendar month, quarter or year, or the Decree 09/2019
reporting month), U's counts pool its whole subtree as the tree stands on the period's last day
(never an average of its children's rates). A dossier counts for its unit, or, when that unit no
longer exists on the period's last day (the July 2025 merger), for the first unit down its
successor chain that does. TTHC-based metrics count (unit, TTHC) pairs of the unit they name.

- **received in the period**: a received dossier (status neither 1 nor 3, not deleted) whose
  `NgayTiepNhan` falls in [start, end).
- **in scope for timeliness** (2.1, 5.3): received in the period, or received earlier and not
  yet ended at the period's start.
- **resolved in the period**: status 9 or 10 with its end of processing in the period.
- **judged end**: the end of processing (`NgayKetThucXuLy`, else `NgayTra`); with exactly one
  supplement request still waiting for the citizen, the request itself ends processing.
- **fee obligation**: the fees listed on the dossier (`DanhSachLePhi`) add up to more than 0.
- **paid online**: the portal holds a payment for the dossier whose status was `SUCCESS` at the
  period end.
- **offered TTHC** of a unit: its `thu-tuc-don-vi` rows valid on the period's last day.
- **online service** of a unit: the portal's `online-services` rows valid that day and published
  on the portal.

## Points

A metric's rate is r = numerator / denominator. A LINEAR rule scores min(max, k·r); a CAPPED rule
scores min(max, max·r / target), full marks from the target rate on. The rule of a period is the
one in force on its last day; a variant replaces its metric's default only when listed in dbt var
`scoring_variants`. A metric that does not apply to the unit's level, or whose denominator is 0,
has `applies` false (`ap_dung` 0 in the extract) and scores what its rule says (full marks, or 0
for 5.3 without dossiers). Points stay unrounded; groups are sums of their metrics, the total the
sum of the groups, rounded only for display. The older five-group display merges CLGQ and TTTT
as DVCTT.

Every metric is counted per period and unit by its count model, pooled over the unit's subtree by
`{pooling}` and scored by `{scored}` (one row per period, unit and metric).
"""


def render() -> str:
    metrics = registry()
    rules = scoring_rules()
    names = groups()
    by_metric: dict[str, list[dict[str, str]]] = {}
    for r in rules:
        by_metric.setdefault(r["metric_code"], []).append(r)
    missing = sorted(set(by_metric) ^ set(metrics), key=_sort_key)
    if missing:
        raise ValueError(f"metrics not in both metric_registry.csv and metric_scoring_rules.csv: {missing}")

    out = [INTRO.format(pooling=POOLING_MODEL, scored=SCORED_MODEL), "## Summary", ""]
    out.append("| id | name | group | points (default) | count model | oracle | moved by list |")
    out.append("|---|---|---|---|---|---|---|")
    for code, m in metrics.items():
        d = _default_rule(by_metric[code])
        listed = f"[`{m.action_list}`]({ACTING_TODAY}#the-seven-lists)" if m.action_list else "—"
        out.append(f"| [{code}](#{m.anchor}) | {d['metric_name']} | {d['group_code']} | {_formula(d)} | "
                   f"`{m.count_model}` | `{m.oracle_functions[0]}` | {listed} |")
    out.append("")

    current_group = None
    for code, m in metrics.items():
        d = _default_rule(by_metric[code])
        group = d["group_code"]
        if group != current_group:
            current_group = group
            vi, en, _ = names[group]
            group_max = sum(Decimal(_default_rule(by_metric[c])["max_points"]) for c in metrics
                            if _default_rule(by_metric[c])["group_code"] == group)
            out += [f"## {group}: {vi} ({en}), {_num(str(group_max))} points", ""]
        five = d["group5_code"]
        out += [f'<a id="{m.anchor}"></a>', "",
                f"### {code} {d['metric_name']}", "",
                f"*{m.short_name_vi}* · group {group}" + (f" (five-group display: {five})" if five != group else ""),
                "",
                f"- **Numerator**: {m.numerator_en}. *{m.numerator_vi}.*",
                f"- **Denominator**: {m.denominator_en}. *{m.denominator_vi}.*"]
        if m.notes_en:
            out.append(f"- **Notes**: {m.notes_en}")
        out.append(f"- **Computed by**: `{m.count_model}` (numerator, denominator), reading "
                   + ", ".join(f"`{c}`" for c in m.input_columns) + f"; then `{POOLING_MODEL}`, `{SCORED_MODEL}`.")
        out.append("- **Checked by**: `tests/oracle.py` " + ", ".join(f"`{f}`" for f in m.oracle_functions) + ".")
        if m.action_list:
            out.append(f"- **Moved by the list**: [`{m.action_list}`]({ACTING_TODAY}#the-seven-lists) "
                       "(its rows' points at stake are this metric's).")
        out += ["", "| rule | points | max | applies to | empty denominator | in force | note |",
                "|---|---|---|---|---|---|---|"]
        out += [_rule_line(r) for r in sorted(by_metric[code], key=lambda r: (r["variant"] != "default",
                                                                             r["variant"], r["effective_from"]))]
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tthc.docs_metrics", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/metrics.md is stale")
    args = parser.parse_args(argv)
    page = render()
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else None
    if args.check:
        if current != page:
            print(f"{PAGE} is stale: run python -m tthc.docs_metrics", file=sys.stderr)
            return 1
        print(f"{PAGE} is current")
        return 0
    if current != page:
        PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
