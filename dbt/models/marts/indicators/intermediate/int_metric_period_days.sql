{{ config(indexes=[{'columns': ['date_day']}], post_hook='analyze {{ this }}') }}
{#- For each local day, the period of each type that contains it (only periods of
    int_metric_periods), so models put events into periods with an equality join on the day
    instead of a range join over every period. -#}

select
    d.date_day,
    p.period_type,
    p.period_key,
    p.as_of_day,
    {{ local_midnight('p.period_start') }} as start_ts,
    {{ local_midnight('p.period_end') }}   as end_ts
from {{ ref('int_metric_periods') }} p
join {{ ref('dim_date') }} d
  on d.date_day >= p.period_start and d.date_day < p.period_end
