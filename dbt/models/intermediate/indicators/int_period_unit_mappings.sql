{#- For every period and every unit code a dossier may carry: the unit it counts for, the first
    unit in its successor chain valid on the period's last day (itself if still valid). -#}
{{ config(post_hook='analyze {{ this }}') }}

with periods as (
    select * from {{ ref('int_metric_periods') }}
),

chains as (
    select * from {{ ref('int_unit_successor_chains') }}
),

ranked as (
    select
        periods.period_type,
        periods.period_key,
        chains.unit_code,
        chains.successor_unit_code,
        row_number() over (partition by periods.period_type, periods.period_key, chains.unit_code
                           order by chains.hops) as pick
    from periods
    join chains
      on chains.valid_from <= periods.as_of_day
     and (chains.valid_to is null or chains.valid_to >= periods.as_of_day)
)

select period_type, period_key, unit_code, successor_unit_code as reporting_unit_code
from ranked
where pick = 1
