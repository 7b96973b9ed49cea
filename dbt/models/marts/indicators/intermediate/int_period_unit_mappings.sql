{#- For every period and every unit code a dossier may carry: the unit it counts for, the first
    unit in its successor chain valid on the period's last day (itself if still valid):
    macro period_unit_mappings, shared with "act today". -#}
{{ config(post_hook='analyze {{ this }}') }}

select * from (
    {{ period_unit_mappings(ref('int_metric_periods')) }}
) mappings
