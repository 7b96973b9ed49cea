{#- Reporting periods from the first month with received dossiers through the month that
    contains as_of_date (so run the warehouse build and the marts with the same vars).
    period_end is exclusive; units are taken as of the period's last day (as_of_day). -#}

with bounds as (
    select
        date_trunc('month', coalesce(min({{ local_date('received_at') }}), {{ as_of_date() }}))::date as first_month,
        date_trunc('month', {{ as_of_date() }})::date                                                  as last_month
    from {{ ref('fct_dossier') }}
),

months as (
    select m::date as period_start
    from bounds, generate_series(bounds.first_month, bounds.last_month, interval '1 month') m
)

select
    'month'::text                                   as period_type,
    to_char(period_start, 'YYYY-MM')                as period_key,
    period_start,
    (period_start + interval '1 month')::date       as period_end,
    (period_start + interval '1 month - 1 day')::date as as_of_day
from months
