{#- The instant each period's "open at the end" lists are cut at: the period's end, or the end
    of var as_of_date for the period still running; with the cut's local day and month, the
    marks macro join_marks_between joins on. -#}

with periods as (
    select
        period_type, period_key,
        least({{ local_midnight('period_end') }}, {{ local_midnight(as_of_date() ~ ' + 1') }}) as cut_ts,
        least(period_end, {{ as_of_date() }} + 1)                                            as cut_day
    from {{ ref('int_metric_periods') }}
)

select
    period_type,
    period_key,
    cut_ts,
    cut_day                                          as mark_day,
    date_trunc('month', cut_day::timestamp)::date    as mark_month
from periods
