{#- Feedback (PAKN) metrics 5.1 and 5.2 (docs/metrics.md, §6a) per period and reporting unit,
    before pooling, by macro feedback_metric_counts (macros/metric_rules.sql, shared with
    int_action_metric_counts). Handled = HANDLED or REJECTED; "handled by end" uses handledAt < end, so an
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
)

select * from (
    {{ feedback_metric_counts('periods', ref('int_period_unit_mappings')) }}
) counts
