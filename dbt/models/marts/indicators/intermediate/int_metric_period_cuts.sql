{#- The instant each period's "open at the end" lists are cut at: the period's end, or the end
    of var as_of_date for the period still running; with the cut's local day (periods that end
    together share it: the lists keep their rows per cut day) and, as mark_day and mark_month,
    the day and month macro join_marks_between joins on. -#}
{#- Statistics at once: the kept lists pick their plans from how many cuts are new, and
    without statistics they pick plans for many (the paused list most of all). -#}
{{ config(post_hook='analyze {{ this }}') }}

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
    cut_day,
    cut_day                                          as mark_day,
    date_trunc('month', cut_day::timestamp)::date    as mark_month
from periods
