{#- Reporting periods from the first month with received dossiers through the period that
    contains as_of_date (so run the warehouse build and the marts with the same vars):
      month        766 calendar month, key 'YYYY-MM'
      quarter      766 calendar quarter, key 'YYYY-Qn' (cumulative over the quarter)
      year         766 calendar year, key 'YYYY' (cumulative over the year)
      report_month Decree 09/2019 reporting month, the 15th of the previous month to the 14th,
                   key 'YYYY-MM' of the month it ends in
    period_end is exclusive; units and scoring rules are taken as of the last day (as_of_day). -#}
{{ config(post_hook='analyze {{ this }}') }}

with bounds as (
    select
        coalesce(min({{ local_date('received_at') }}), {{ as_of_date() }}) as first_day,
        {{ as_of_date() }}                                                 as last_day
    from {{ ref('fct_dossier') }}
),

months as (
    select m::date as period_start
    from bounds, generate_series(date_trunc('month', bounds.first_day), date_trunc('month', bounds.last_day),
                                 interval '1 month') m
),

quarters as (
    select q::date as period_start
    from bounds, generate_series(date_trunc('quarter', bounds.first_day), date_trunc('quarter', bounds.last_day),
                                 interval '3 months') q
),

years as (
    select y::date as period_start
    from bounds, generate_series(date_trunc('year', bounds.first_day), date_trunc('year', bounds.last_day),
                                 interval '1 year') y
),

-- reporting month M covers [M-1 15th, M 15th): the one containing a day d ends in d's month
-- when d is before the 15th, else in the next month
report_months as (
    select (m - interval '1 month' + interval '14 days')::date as period_start,
           to_char(m, 'YYYY-MM')                            as period_key
    from bounds, generate_series(
        date_trunc('month', bounds.first_day + interval '1 month' * (extract(day from bounds.first_day) >= 15)::int),
        date_trunc('month', bounds.last_day + interval '1 month' * (extract(day from bounds.last_day) >= 15)::int),
        interval '1 month') m
),

periods as (
    select 'month'::text as period_type, to_char(period_start, 'YYYY-MM') as period_key,
           period_start, (period_start + interval '1 month')::date as period_end
    from months
    union all
    select 'quarter', to_char(period_start, 'YYYY') || '-Q' || extract(quarter from period_start)::int,
           period_start, (period_start + interval '3 months')::date
    from quarters
    union all
    select 'year', to_char(period_start, 'YYYY'),
           period_start, (period_start + interval '1 year')::date
    from years
    union all
    select 'report_month', period_key,
           period_start, (period_start + interval '1 month')::date
    from report_months
)

select
    period_type,
    period_key,
    period_start,
    period_end,
    (period_end - 1)::date as as_of_day
from periods
