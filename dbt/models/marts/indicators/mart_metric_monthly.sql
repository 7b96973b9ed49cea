{#- 766 metrics per period, unit valid on the period's last day, and metric, scored with the
    versioned rules of seed metric_scoring_rules in force that day (variant 'default', or the
    variants listed in var scoring_variants, which replace it). Points stay unrounded:
      LINEAR  least(max, k x rate)      CAPPED  least(max, max x rate / target)
    A metric that does not apply to the unit's level scores not_applicable_points; a zero
    denominator scores empty_points; both have applies = false. 2.2 is monitoring only: its
    numerator is working hours, no rate, 0 points of 0. -#}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

units_in_period as (
    select periods.*, units.unit_code, units.unit_name, units.unit_level, units.parent_unit_code
    from periods
    join {{ ref('dim_unit') }} units
      on units.valid_from <= periods.as_of_day
     and (units.valid_to is null or units.valid_to >= periods.as_of_day)
),

-- the rule of each metric in force on each period's last day; an enabled variant wins. DISTINCT
-- ON, not row_number() = 1: the planner takes the latter for 1 row and looped over it,
-- rejoining every count per rule (measured at 2 M dossiers: 20-25 s instead of under 1 s)
rules as (
    select distinct on (periods.period_type, periods.period_key, r.metric_code)
        periods.period_type, periods.period_key, r.*
    from periods
    join {{ ref('metric_scoring_rules') }} r
      on r.effective_from <= periods.as_of_day
     and (r.effective_to is null or r.effective_to >= periods.as_of_day)
     and (r.variant = 'default'
          {%- for v in var('scoring_variants', []) %} or r.variant = '{{ v }}'{% endfor %})
    order by periods.period_type, periods.period_key, r.metric_code,
             (r.variant <> 'default') desc, r.effective_from desc
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
        c.metric_code,
        rules.metric_name,
        c.numerator,
        c.denominator,
        case when c.denominator > 0 and c.metric_code <> '2.2' then c.numerator / c.denominator end as rate,
        rules.max_points,
        rules.rule_kind,
        rules.points_per_unit_rate,
        rules.target_rate,
        rules.empty_points,
        rules.not_applicable_points,
        (rules.applies_to_levels = 'ALL'
         or u.unit_level = any(string_to_array(replace(rules.applies_to_levels, ' ', ''), ',')))  as level_applies
    from units_in_period u
    join {{ ref('int_metric_counts_pooled') }} c
      on c.period_type = u.period_type and c.period_key = u.period_key and c.unit_code = u.unit_code
    join rules
      on rules.period_type = u.period_type and rules.period_key = u.period_key and rules.metric_code = c.metric_code
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
        when not level_applies then case when not_applicable_points = 'ZERO' then 0 else max_points end
        when denominator = 0 then case when empty_points = 'ZERO' then 0 else max_points end
        when rate is null then 0          -- monitoring only (2.2)
        when rule_kind = 'CAPPED' then least(max_points, max_points * rate / target_rate)
        else least(max_points, points_per_unit_rate * rate)
     end)::numeric                        as points,
    max_points::numeric                   as max_points,
    (level_applies and denominator > 0)::boolean as applies
from scored
