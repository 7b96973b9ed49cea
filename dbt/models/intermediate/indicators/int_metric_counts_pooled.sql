{#- Every metric's numerator and denominator per period and unit valid on the period's last
    day, pooled over the unit's subtree as of that day (never an average of child rates).
    Units with nothing to count get zeros, so every unit has a row for every metric.
    5.3 is floored at 0 after pooling (its per-dossier terms can be negative). -#}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

units_in_period as (
    select periods.period_type, periods.period_key, periods.as_of_day, units.unit_code
    from periods
    join {{ ref('dim_unit') }} units
      on units.valid_from <= periods.as_of_day
     and (units.valid_to is null or units.valid_to >= periods.as_of_day)
),

metrics as (
    select distinct metric_code from {{ ref('metric_scoring_rules') }}
),

leaf_counts as (
    select period_type, period_key, unit_code, metric_code, sum(numerator) as numerator, sum(denominator) as denominator
    from (
        select * from {{ ref('int_metric_dossier_counts') }}
        union all
        select * from {{ ref('int_metric_procedure_counts') }}
        union all
        select * from {{ ref('int_metric_feedback_counts') }}
    ) all_counts
    group by 1, 2, 3, 4
),

pooled as (
    select
        u.period_type, u.period_key, u.unit_code, c.metric_code,
        sum(c.numerator)   as numerator,
        sum(c.denominator) as denominator
    from units_in_period u
    {{ join_subtree('u', 'leaf_counts', 'c') }}
    group by 1, 2, 3, 4
)

select
    u.period_type,
    u.period_key,
    u.unit_code,
    metrics.metric_code,
    case when metrics.metric_code = '5.3' then greatest(coalesce(p.numerator, 0), 0)
         else coalesce(p.numerator, 0) end::numeric                 as numerator,
    coalesce(p.denominator, 0)::numeric                              as denominator
from units_in_period u
cross join metrics
left join pooled p
  on p.period_type = u.period_type and p.period_key = u.period_key
 and p.unit_code = u.unit_code and p.metric_code = metrics.metric_code
