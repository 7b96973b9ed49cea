"""The indicator marts, checked in the shadow schema before they are swapped in.

Every mart must match its dbt contract exactly (names and types: BI tools and the extract read
them by name, and no personal column can slip in); the index's own arithmetic is checked on top:
rates within 0–1, points within 0–max, group and total scores consistent, II.06a identities.
"""
from __future__ import annotations

import yaml

from expectations.checks import FAIL, WARN, E, Suite, column, column_types, columns_are, rows
from expectations.contracts import CONTRACT_FILE, mart_columns, rating_band_labels
from expectations.suites.core import UNIT_LEVELS

GROUPS = ("ckmb", "tdgq", "clgq", "tttt", "mdhl", "mdsh")


def _schema_checks(model: str) -> tuple:
    columns = mart_columns(model)
    return (
        columns_are("columns_as_contract", list(columns), exact=True,
                    description=f"exactly the columns of {model}'s contract ({CONTRACT_FILE.name})"),
        column_types("column_types_as_contract", "marts", model, columns,
                     f"each column of {model} has its contract type"),
    )


def _unique(*columns: str) -> object:
    # one GROUP BY: GX's compound-uniqueness expectation was a night's slowest marts check
    keys = ", ".join(columns)
    return rows("key_unique", FAIL,
                f"select {keys}, count(*) as copies from {{batch}} group by {keys} having count(*) > 1",
                "one row per " + keys)


METRIC_MONTHLY = Suite(
    name="mart_metric_monthly", schema="marts", table="mart_metric_monthly",
    checks=_schema_checks("mart_metric_monthly") + (
        _unique("period_type", "period_key", "unit_code", "metric_code"),
        column("period_type_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(
            column="period_type", value_set=["month", "quarter", "year", "report_month"])),
        column("unit_level_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="unit_level", value_set=UNIT_LEVELS)),
        rows("metric_known", FAIL,
             "select distinct metric_code from {batch} "
             "where metric_code not in (select metric_code from {core}.metric_scoring_rules)",
             "every metric is one of the scoring rules (seed metric_scoring_rules)"),
        column("rate_within_0_1", FAIL, lambda: E.ExpectColumnValuesToBeBetween(column="rate", min_value=0, max_value=1),
               "a rate is a share: 0 ≤ rate ≤ 1 (null when nothing to count)"),
        rows("points_within_0_max", FAIL,
             "select period_type, period_key, unit_code, metric_code, points, max_points from {batch} "
             "where points is null or points < 0 or points > max_points",
             "0 ≤ points ≤ the metric's max points"),
        rows("numerator_within_denominator", FAIL,
             "select period_type, period_key, unit_code, metric_code, numerator, denominator from {batch} "
             "where metric_code <> '2.2' and (numerator < 0 or numerator > denominator)",
             "0 ≤ numerator ≤ denominator (2.2 sums hours, not dossiers)"),
    ),
)

_GROUP_ROWS = ", ".join(f"('{g.upper()}', s.score_{g})" for g in GROUPS)

SCORE_MONTHLY = Suite(
    name="mart_score_monthly", schema="marts", table="mart_score_monthly",
    checks=_schema_checks("mart_score_monthly") + (
        _unique("period_type", "period_key", "unit_code"),
        rows("total_within_0_max", FAIL,
             "select period_type, period_key, unit_code, total_score, max_score from {batch} "
             "where total_score is null or total_score < 0 or total_score > max_score",
             "0 ≤ total ≤ max score"),
        rows("group_scores_within_0_max", FAIL, f"""
             select s.period_type, s.period_key, s.unit_code, g.group_code, g.score, m.max_points
             from {{marts}}.mart_score_monthly s
             cross join lateral (values {_GROUP_ROWS}) as g(group_code, score)
             left join (
                 select period_type, period_key, unit_code, group_code, sum(max_points) as max_points
                 from {{marts}}.mart_metric_monthly group by 1, 2, 3, 4
             ) m on m.period_type = s.period_type and m.period_key = s.period_key
                and m.unit_code = s.unit_code and m.group_code = g.group_code
             where g.score < 0 or g.score > coalesce(m.max_points, 0) + 0.000001""",
             "each group score within 0 and the sum of its metrics' max points"),
        rows("total_is_sum_of_metric_points", FAIL, """
             select s.period_type, s.period_key, s.unit_code, s.total_score, m.points
             from {marts}.mart_score_monthly s
             left join (
                 select period_type, period_key, unit_code, sum(points) as points
                 from {marts}.mart_metric_monthly group by 1, 2, 3
             ) m using (period_type, period_key, unit_code)
             where m.points is null or abs(s.total_score - m.points) > 0.000001""",
             "the total is the sum of the unrounded metric points of mart_metric_monthly"),
        column("rating_band_known", FAIL,
               lambda: E.ExpectColumnValuesToBeInSet(column="rating_band", value_set=list(rating_band_labels())),
               "xếp loại is one of the bands declared in dbt_project.yml"),
    ),
)

REPORT_II06A = Suite(
    name="mart_report_ii06a", schema="marts", table="mart_report_ii06a",
    checks=_schema_checks("mart_report_ii06a") + (
        _unique("period_type", "period_key", "unit_code", "field_code"),
        rows("identities_hold", FAIL, """
             select period_type, period_key, unit_code, field_code,
                    received_total, received_online, received_in_person_postal, carried_over,
                    resolved_total, resolved_early, resolved_on_time, resolved_late,
                    in_progress_total, in_progress_within_deadline, in_progress_overdue
             from {batch}
             where received_total <> received_online + received_in_person_postal + carried_over
                or resolved_total <> resolved_early + resolved_on_time + resolved_late
                or in_progress_total <> in_progress_within_deadline + in_progress_overdue
                or received_total <> resolved_total + in_progress_total""",
             "II.06a: (3) = (4)+(5)+(6), (7) = (8)+(9)+(10), (11) = (12)+(13), (3) = (7)+(11)"),
        rows("counts_not_negative", FAIL, """
             select period_type, period_key, unit_code, field_code from {batch}
             where least(received_total, received_online, received_in_person_postal, carried_over,
                         resolved_total, resolved_early, resolved_on_time, resolved_late,
                         in_progress_total, in_progress_within_deadline, in_progress_overdue) < 0""",
             "every column of the form is a count"),
    ),
)

LATE_DOSSIERS = Suite(
    name="mart_late_dossiers", schema="marts", table="mart_late_dossiers",
    checks=_schema_checks("mart_late_dossiers") + (
        _unique("period_type", "period_key", "dossier_code"),
        column("overdue_hours_not_negative", FAIL,
               lambda: E.ExpectColumnValuesToBeBetween(column="overdue_working_hours", min_value=0)),
    ),
)

# The month the next monthly publish delivers (the one before the newest month in the marts): a
# province root whose total the portal has not scored gets a reconciliation with an empty
# official column. Not a failure (the portal publishes late, or its ingest was skipped), but
# never silent: the manifest of that package says it too (tthc/publish/monthly.py).
PORTAL_RECONCILIATION = Suite(
    name="mart_portal_reconciliation", schema="marts", table="mart_portal_reconciliation",
    checks=_schema_checks("mart_portal_reconciliation") + (
        rows("portal_total_for_the_published_month", WARN,
             "with months as (select distinct m.period_key from {batch} m where m.period_type = 'month'), "
             "published as (select max(period_key) as period_key from months "
             "              where period_key < (select max(period_key) from months)) "
             "select s.period_key, s.unit_code from {marts}.mart_score_monthly s join published using (period_key) "
             "where s.period_type = 'month' and s.parent_unit_code is null and not exists ("
             "  select 1 from {batch} r where r.period_type = 'month' and r.period_key = s.period_key "
             "  and r.unit_code = s.unit_code and r.item_code = 'TONG' and r.portal_points is not null)",
             "the portal's official total exists for each province root in the month the next publish delivers "
             "(else the reconciliation is empty: `tthc ingest dvc_portal` fetches the scores)"),
    ),
)

_CHECKED = {s.table for s in (METRIC_MONTHLY, SCORE_MONTHLY, REPORT_II06A, LATE_DOSSIERS, PORTAL_RECONCILIATION)}


def _contract_models() -> list[str]:
    return [m["name"] for m in yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))["models"]]


# Every other contracted mart (reconciliation, operational lists): its schema as published.
OTHER_MARTS = tuple(
    Suite(name=model, schema="marts", table=model, checks=_schema_checks(model))
    for model in _contract_models() if model not in _CHECKED
)

MARTS_SUITES = (METRIC_MONTHLY, SCORE_MONTHLY, REPORT_II06A, LATE_DOSSIERS, PORTAL_RECONCILIATION) + OTHER_MARTS
