{#- 766 metrics per period, unit valid on the period's last day, and metric, scored with the
    versioned rules of seed metric_scoring_rules in force that day (variant 'default', or the
    variants listed in var scoring_variants, which replace it). Points stay unrounded:
      LINEAR  least(max, k x rate)      CAPPED  least(max, max x rate / target)
    A metric that does not apply to the unit's level scores not_applicable_points; a zero
    denominator scores empty_points; both have applies = false. 2.2 is monitoring only: its
    numerator is working hours, no rate, 0 points of 0. The scoring is macro
    scored_metric_counts (macros/metric_rules.sql), shared with "act today"
    (int_action_metric_counts). -#}

with scored as (
    {{ scored_metric_counts(ref('int_metric_periods'), ref('int_metric_counts_pooled')) }}
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
    points::numeric                       as points,
    max_points::numeric                   as max_points,
    (level_applies and denominator > 0)::boolean as applies
from scored
