{#- Every metric's numerator and denominator per period and unit valid on the period's last
    day, pooled over the unit's subtree as of that day (never an average of child rates).
    Units with nothing to count get zeros, so every unit has a row for every metric.
    5.3 is floored at 0 after pooling (its per-dossier terms can be negative). The rule is macro
    pooled_metric_counts, shared with "act today" (int_action_metric_counts). -#}
{{ config(post_hook='analyze {{ this }}') }}

with leaf_counts as (
    select * from {{ ref('int_metric_dossier_counts') }}
    union all
    select * from {{ ref('int_metric_procedure_counts') }}
    union all
    select * from {{ ref('int_metric_feedback_counts') }}
)

select * from (
    {{ pooled_metric_counts(ref('int_metric_periods'), 'leaf_counts') }}
) pooled
