{#- 766 metrics per unit and calendar month (metric 2.1 so far). Every unit valid on the
    period's last day gets a row; its counts pool its whole subtree as of that day, with each
    dossier counted for its unit or, when that unit is gone (July 2025 merger), its successor.
    Points are linear in the rate per the versioned scoring seed; a zero denominator means the
    metric does not apply and scores full marks. Points stay unrounded. -#}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

units as (
    select * from {{ ref('dim_unit') }}
),

closure as (
    select * from {{ ref('int_unit_closure') }}
),

rules as (
    select * from {{ ref('metric_scoring_rules') }}
),

units_in_period as (
    select periods.*, units.unit_code, units.unit_name, units.unit_level, units.parent_unit_code
    from periods
    join units
      on units.valid_from <= periods.as_of_day
     and (units.valid_to is null or units.valid_to >= periods.as_of_day)
),

dossiers_2_1 as (
    select d.period_type, d.period_key, m.reporting_unit_code, d.is_on_time
    from {{ ref('int_metric_2_1_dossiers') }} d
    join {{ ref('int_period_unit_mappings') }} m
      on m.period_type = d.period_type and m.period_key = d.period_key and m.unit_code = d.unit_code
),

counts_by_unit_2_1 as (
    select period_type, period_key, reporting_unit_code as unit_code,
           count(*) filter (where is_on_time) as numerator,
           count(*)                           as denominator
    from dossiers_2_1
    group by 1, 2, 3
),

pooled_2_1 as (
    select
        u.period_type, u.period_key, u.unit_code,
        '2.1'::text                               as metric_code,
        coalesce(sum(c.numerator), 0)::numeric    as numerator,
        coalesce(sum(c.denominator), 0)::numeric  as denominator
    from units_in_period u
    left join closure
      on closure.ancestor_unit_code = u.unit_code
     and closure.valid_from <= u.as_of_day
     and (closure.valid_to is null or closure.valid_to >= u.as_of_day)
    left join counts_by_unit_2_1 c
      on c.period_type = u.period_type and c.period_key = u.period_key
     and c.unit_code = closure.descendant_unit_code
    group by 1, 2, 3
),

metric_counts as (
    select * from pooled_2_1
),

scored as (
    select
        u.period_type,
        u.period_key,
        u.period_start,
        u.period_end,
        u.unit_code,
        u.unit_name,
        u.unit_level,
        u.parent_unit_code,
        rules.group_code,
        m.metric_code,
        rules.metric_name,
        m.numerator,
        m.denominator,
        case when m.denominator > 0 then m.numerator / m.denominator end as rate,
        rules.max_points,
        rules.points_per_unit_rate,
        rules.empty_points
    from units_in_period u
    join metric_counts m
      on m.period_type = u.period_type and m.period_key = u.period_key and m.unit_code = u.unit_code
    join rules
      on rules.metric_code = m.metric_code
     and rules.effective_from <= u.as_of_day
     and (rules.effective_to is null or rules.effective_to >= u.as_of_day)
)

select
    period_type::text                     as period_type,
    period_key::text                      as period_key,
    period_start::date                    as period_start,
    period_end::date                      as period_end,
    unit_code::text                       as unit_code,
    unit_name::text                       as unit_name,
    unit_level::text                      as unit_level,
    parent_unit_code::text                as parent_unit_code,
    group_code::text                      as group_code,
    metric_code::text                     as metric_code,
    metric_name::text                     as metric_name,
    numerator::numeric                    as numerator,
    denominator::numeric                  as denominator,
    rate::numeric                         as rate,
    (case
        when rate is null then case when empty_points = 'ZERO' then 0 else max_points end
        else least(max_points, points_per_unit_rate * rate)
     end)::numeric                        as points,
    max_points::numeric                   as max_points,
    (denominator > 0)::boolean            as applies
from scored
