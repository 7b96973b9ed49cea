"""The indicator marts, checked in the shadow schema before they are swapped in.

Each mart's contract (names and types, enforced by dbt when it builds it), its key and its own
row rules (points within 0–max, numerators within denominators, rates within 0–1, the II.06a
identities and counts, the rating bands, overdue hours) are dbt tests that run in the same marts
build (_indicators__models.yml; docs/decisions/010). The gate keeps what spans models or seeds:
the score against the metrics' points and the groups' maxima, metric codes against the scoring
rules, the unit levels (as staging's dbt test has them), and the portal's total for the month
the next publish delivers.
"""

from __future__ import annotations

from expectations.checks import FAIL, WARN, E, Suite, column, rows
from expectations.suites.core import UNIT_LEVELS

GROUPS = ("ckmb", "tdgq", "clgq", "tttt", "mdhl", "mdsh")


METRIC_MONTHLY = Suite(
    name="mart_metric_monthly",
    schema="marts",
    table="mart_metric_monthly",
    checks=(
        column(
            "unit_level_known", FAIL, lambda: E.ExpectColumnValuesToBeInSet(column="unit_level", value_set=UNIT_LEVELS)
        ),
        rows(
            "metric_known",
            FAIL,
            "select distinct metric_code from {batch} "
            "where metric_code not in (select metric_code from {core}.metric_scoring_rules)",
            "every metric is one of the scoring rules (seed metric_scoring_rules)",
        ),
    ),
)

_GROUP_ROWS = ", ".join(f"('{g.upper()}', s.score_{g})" for g in GROUPS)

SCORE_MONTHLY = Suite(
    name="mart_score_monthly",
    schema="marts",
    table="mart_score_monthly",
    checks=(
        rows(
            "group_scores_within_0_max",
            FAIL,
            f"""
             select s.period_type, s.period_key, s.unit_code, g.group_code, g.score, m.max_points
             from {{marts}}.mart_score_monthly s
             cross join lateral (values {_GROUP_ROWS}) as g(group_code, score)
             left join (
                 select period_type, period_key, unit_code, group_code, sum(max_points) as max_points
                 from {{marts}}.mart_metric_monthly group by 1, 2, 3, 4
             ) m on m.period_type = s.period_type and m.period_key = s.period_key
                and m.unit_code = s.unit_code and m.group_code = g.group_code
             where g.score < 0 or g.score > coalesce(m.max_points, 0) + 0.000001""",
            "each group score within 0 and the sum of its metrics' max points",
        ),
        rows(
            "total_is_sum_of_metric_points",
            FAIL,
            """
             select s.period_type, s.period_key, s.unit_code, s.total_score, m.points
             from {marts}.mart_score_monthly s
             left join (
                 select period_type, period_key, unit_code, sum(points) as points
                 from {marts}.mart_metric_monthly group by 1, 2, 3
             ) m using (period_type, period_key, unit_code)
             where m.points is null or abs(s.total_score - m.points) > 0.000001""",
            "the total is the sum of the unrounded metric points of mart_metric_monthly",
        ),
    ),
)

# The month the next monthly publish delivers (the one before the newest month in the marts): a
# province root whose total the portal has not scored gets a reconciliation with an empty
# official column. Not a failure (the portal publishes late, or its ingest was skipped), but
# never silent: the manifest of that package says it too (tthc/province_package/monthly.py).
PORTAL_RECONCILIATION = Suite(
    name="mart_portal_reconciliation",
    schema="marts",
    table="mart_portal_reconciliation",
    checks=(
        rows(
            "portal_total_for_the_published_month",
            WARN,
            "with months as (select distinct m.period_key from {batch} m where m.period_type = 'month'), "
            "published as (select max(period_key) as period_key from months "
            "              where period_key < (select max(period_key) from months)) "
            "select s.period_key, s.unit_code from {marts}.mart_score_monthly s join published using (period_key) "
            "where s.period_type = 'month' and s.parent_unit_code is null and not exists ("
            "  select 1 from {batch} r where r.period_type = 'month' and r.period_key = s.period_key "
            "  and r.unit_code = s.unit_code and r.item_code = 'TONG' and r.portal_points is not null)",
            "the portal's official total exists for each province root in the month the next publish delivers "
            "(else the reconciliation is empty: `tthc ingest dvc_portal` fetches the scores)",
        ),
    ),
)

MARTS_SUITES = (METRIC_MONTHLY, SCORE_MONTHLY, PORTAL_RECONCILIATION)
