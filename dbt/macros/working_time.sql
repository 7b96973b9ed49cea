{#- Working-time arithmetic. Windows come from var working_windows (local [start, end)).
    Each calendar day carries the working seconds of all earlier days (dim_date), so the
    working time between two instants is a difference of two lookups: closed form, no loops. -#}

{% macro _clock_seconds(hhmm) -%}
    {%- set parts = hhmm.split(':') -%}
    {{- (parts[0] | int) * 3600 + (parts[1] | int) * 60 -}}
{%- endmacro %}

{#- Working seconds of one full working day (8 h with the default windows). -#}
{% macro working_seconds_per_day() -%}
    {%- set total = namespace(s=0) -%}
    {%- for w in var('working_windows') -%}
        {%- set total.s = total.s + (_clock_seconds(w[1]) | int) - (_clock_seconds(w[0]) | int) -%}
    {%- endfor -%}
    {{- total.s -}}
{%- endmacro %}

{#- Working seconds of a working day elapsed by a local time of day (seconds since midnight). -#}
{% macro working_seconds_by_clock(seconds_expr) -%}
    ({%- for w in var('working_windows') -%}
        greatest(0, least({{ seconds_expr }}, {{ _clock_seconds(w[1]) }}) - {{ _clock_seconds(w[0]) }})
        {%- if not loop.last %} + {% endif -%}
    {%- endfor -%})
{%- endmacro %}

{#- Local clock time (seconds since midnight) reached after `offset_expr` working seconds of a
    working day; an offset that ends a window exactly stays at that window's end. -#}
{% macro clock_after_working_seconds(offset_expr) -%}
    (case
    {%- set acc = namespace(s=0) -%}
    {%- for w in var('working_windows') -%}
        {%- set start = _clock_seconds(w[0]) | int -%}
        {%- set length = (_clock_seconds(w[1]) | int) - start %}
        when {{ offset_expr }} <= {{ acc.s + length }} then {{ start - acc.s }} + {{ offset_expr }}
        {%- set acc.s = acc.s + length -%}
    {%- endfor %}
    end)
{%- endmacro %}

{#- Working seconds from the calendar start to ts, given `day` = dim_date joined on ts's local date.
    Set-based: one join per row set, no per-row function call. -#}
{% macro cumulative_working_seconds(ts_expr, day) -%}
    ({{ day }}.cumulative_working_seconds_before
     + case when {{ day }}.is_working_day
            then {{ working_seconds_by_clock("extract(epoch from ((" ~ ts_expr ~ ") at time zone '" ~ var('timezone') ~ "') - " ~ day ~ ".date_day::timestamp)") }}
            else 0 end)
{%- endmacro %}

{#- The first working day, on or after `from_day_expr`, by whose end `target_expr` working seconds
    (since the calendar start) are reached: the day a limit counted in working time falls on
    (columns date_day, cumulative_working_seconds_before; none when the target is null). A
    lateral on the calendar itself, not a CTE: its date index ends the scan early. The calendar
    is int_calendar_days (dim_date's source), as the dossiers' timing in intermediate calls it. -#}
{% macro join_working_day_reaching(from_day_expr, target_expr, alias) -%}
    left join lateral (
        select d.date_day, d.cumulative_working_seconds_before
        from {{ ref('int_calendar_days') }} d
        where {{ target_expr }} is not null
          and d.date_day >= {{ from_day_expr }}
          and d.is_working_day
          and d.cumulative_working_seconds_before + d.working_seconds >= {{ target_expr }}
        order by d.date_day
        limit 1
    ) {{ alias }} on true
{%- endmacro %}
