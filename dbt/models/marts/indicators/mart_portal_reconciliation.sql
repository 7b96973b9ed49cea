{#- Our scores next to the portal's official ones (feeds doi_soat_dvcqg.csv), per period
    (766 month, quarter, year), unit and item: each metric id, each of the six group codes and
    TONG. Full join: portal_points is null where the portal gave no value, computed_points is
    null where the portal scores a unit or item we do not have; difference = computed - portal,
    both unrounded. -#}

with computed_metrics as (
    select period_type, period_key, unit_code, metric_code as item_code, points as computed_points
    from {{ ref('mart_metric_monthly') }}
    where period_type in ('month', 'quarter', 'year')
),

scores as (
    select * from {{ ref('mart_score_monthly') }}
    where period_type in ('month', 'quarter', 'year')
),

computed_groups as (
    select s.period_type, s.period_key, s.unit_code, g.item_code, g.computed_points
    from scores s
    cross join lateral (values
        ('CKMB', s.score_ckmb), ('TDGQ', s.score_tdgq), ('CLGQ', s.score_clgq),
        ('TTTT', s.score_tttt), ('MDHL', s.score_mdhl), ('MDSH', s.score_mdsh),
        ('TONG', s.total_score)
    ) as g(item_code, computed_points)
),

computed as (
    select * from computed_metrics
    union all
    select * from computed_groups
),

portal as (
    select period_type, period_key, unit_code, item_code, portal_points
    from {{ ref('stg_dvc_portal__service_results') }}
)

select
    coalesce(c.period_type, p.period_type)::text                       as period_type,
    coalesce(c.period_key, p.period_key)::text                         as period_key,
    coalesce(c.unit_code, p.unit_code)::text                           as unit_code,
    coalesce(c.item_code, p.item_code)::text                           as item_code,
    c.computed_points::numeric                                         as computed_points,
    p.portal_points::numeric                                           as portal_points,
    (c.computed_points - p.portal_points)::numeric                     as difference
from computed c
full join portal p
  on p.period_type = c.period_type and p.period_key = c.period_key
 and p.unit_code = c.unit_code and p.item_code = c.item_code
