{#- Feedback (PAKN) metrics 5.1 and 5.2 (domain.md section 6a) per period and reporting unit,
    before pooling. Handled = HANDLED or REJECTED; "handled by end" uses handledAt < end, so an
    item handled after the period end was still open at it.
      5.1 in scope: received in the period, or before it and not handled before its start.
          on time : handled in the period with handledAt <= dueAt, or open at end with dueAt >= end.
      5.2 received in the period, less items with dislikes > likes, re-raised, handled after
          dueAt, or open at end past dueAt. -#}
{{ config(post_hook='analyze {{ this }}') }}

with periods as (
    select
        period_type, period_key,
        {{ local_midnight('period_start') }} as start_ts,
        {{ local_midnight('period_end') }}   as end_ts
    from {{ ref('int_metric_periods') }}
),

feedback as (
    select
        feedback_id, unit_code, received_at, due_at, is_disliked, is_reraised,
        case when is_handled then handled_at end as handled_at
    from {{ ref('fct_feedback') }}
    where received_at is not null
),

feedback_periods as (
    select
        periods.period_type,
        periods.period_key,
        f.*,
        f.received_at >= periods.start_ts                                      as is_received,
        f.handled_at is not null and f.handled_at >= periods.start_ts
          and f.handled_at < periods.end_ts                                    as is_handled_in_period,
        f.handled_at is null or f.handled_at >= periods.end_ts                 as is_open_at_end,
        periods.end_ts
    from periods
    join feedback f
      on f.received_at < periods.end_ts
     and (f.received_at >= periods.start_ts or f.handled_at is null or f.handled_at >= periods.start_ts)
),

counted as (
    select
        fp.period_type,
        fp.period_key,
        m.reporting_unit_code as unit_code,
        count(*)                                                               as in_scope,
        count(*) filter (where (is_handled_in_period and handled_at <= due_at)
                            or (is_open_at_end and due_at >= end_ts))          as handled_on_time,
        count(*) filter (where is_received)                                    as received,
        count(*) filter (where is_received
                           and not is_disliked and not is_reraised
                           and not coalesce(handled_at < end_ts and handled_at > due_at, false)
                           and not coalesce(is_open_at_end and due_at < end_ts, false))       as satisfied
    from feedback_periods fp
    join {{ ref('int_period_unit_mappings') }} m
      on m.period_type = fp.period_type and m.period_key = fp.period_key and m.unit_code = fp.unit_code
    group by 1, 2, 3
)

select c.period_type, c.period_key, c.unit_code, v.metric_code,
       v.numerator::numeric as numerator, v.denominator::numeric as denominator
from counted c
cross join lateral (values
    ('5.1', c.handled_on_time, c.in_scope),
    ('5.2', c.satisfied,       c.received)
) as v(metric_code, numerator, denominator)
