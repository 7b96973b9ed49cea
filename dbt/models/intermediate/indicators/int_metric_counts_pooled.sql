{#- Every metric's numerator and denominator per period and unit valid on the period's last
    day, pooled over the unit's subtree as of that day (never an average of child rates).
    Units with nothing to count get zeros, so every unit has a row for every metric.
    5.3 is floored at 0 after pooling (its per-dossier terms can be negative). -#}
{{ config(post_hook='analyze {{ this }}') }}

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

-- every unit's subtree counts, plus a zero row for every unit and metric so units with nothing
-- to count get zeros; one hash aggregate, no outer join over mis-estimated rows
pooled as (
    select u.period_type, u.period_key, u.unit_code, c.metric_code, c.numerator, c.denominator
    from units_in_period u
    {{ join_subtree('u', 'leaf_counts', 'c') }}
    where c.metric_code in (select metric_code from metrics)
    union all
    select u.period_type, u.period_key, u.unit_code, metrics.metric_code, 0, 0
    from units_in_period u
    cross join metrics
)

select
    period_type,
    period_key,
    unit_code,
    metric_code,
    case when metric_code = '5.3' then greatest(sum(numerator), 0)
         else sum(numerator) end::numeric                           as numerator,
    sum(denominator)::numeric                                        as denominator
from pooled
group by 1, 2, 3, 4
