{#- The moments T of this build (var actions_at, else env TTHC_ACTIONS_AT, else now(): macro
    actions_moments_select), one row each, with the current period (docs/acting-today.md, §11: the calendar
    month containing T's local date) as local midnights. Every actions model joins this table,
    so a build holds one now() and a backtest many moments. -#}

with moments as (
    {{ actions_moments_select() }}
),

dated as (
    select at_ts, {{ local_date('at_ts') }} as at_date
    from moments
)

select
    at_ts,
    at_date,
    to_char(at_date, 'YYYY-MM')                                                        as period_key,
    {{ local_midnight("date_trunc('month', at_date::timestamp)::date") }}              as period_start_ts,
    {{ local_midnight("(date_trunc('month', at_date::timestamp) + interval '1 month')::date") }} as period_end_ts
from dated
