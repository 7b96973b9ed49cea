{#- Report form II.06a's carried-over dossiers (docs/spec/report-ii06a.md, §8, column (5)): per period,
    the dossiers received before its start and not closed (a result, 9/10, or a withdrawal, 7)
    before it, with what mart_report_ii06a classifies them by at the period's end: resolved in
    it (early, on time, late by report_form_class) or still in progress (within the deadline or
    overdue on the period's last day).

    Kept per dossier (macros/per_dossier_periods.sql, docs/decisions/005): a row depends on the
    dossier's record and the period's bounds, so a night replaces the rows of the dossiers
    whose record changed and a new period adds the rows of the dossiers open at its start,
    instead of computing every period each night. -#}

-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}
{{ kept_per_dossier() }}
{%- set plan = period_plan() %}
{%- set form_end = 'case when status in (7, 9, 10) then end_of_processing_at end' %}

with periods as (
    select
        *,
        {{ local_midnight('period_end') }}                  as end_ts,
        date_trunc('month', period_start::timestamp)::date as start_month
    from {{ ref('int_metric_periods') }}
),

-- a period's start as a mark for join_marks_between
period_starts as (
    select period_type, period_key, end_ts, as_of_day, period_start as mark_day, start_month as mark_month,
           {{ is_added_period(plan) }} as is_new
    from periods
),

-- local days: an instant is before midnight(d) exactly when its local date is before d. The
-- form closes a dossier only by a result (9/10) or a withdrawal (7).
dossiers as (
    select
        dossier_code, unit_code, coalesce(field_code, '') as field_code, status, due_at, report_form_class,
        {{ form_end }}                                          as form_end_at,
        {{ local_date('received_at') }}                         as received_day,
        {{ local_date(form_end) }}                              as form_end_day,
        loaded_at,
        {{ is_changed_dossier(plan) }}                          as is_changed
    from {{ ref('fct_dossier') }} d
    where {{ kept_dossiers_filter(plan, in_added=spans_added_periods(plan, 'd.received_at', form_end,
                                                                     'period_start', 'period_start')) }}
),

-- received before the start and not closed before it (received_day < start <= form_end_day)
carried as (
    select p.period_type, p.period_key, p.as_of_day, p.end_ts, r.*
    {{ join_marks_between('dossiers', 'received_day', 'form_end_day', 'period_starts', 'p') }}
    where p.is_new or r.is_changed
)

select
    period_type,
    period_key,
    dossier_code,
    unit_code,
    field_code,
    status,
    report_form_class,
    due_at,
    form_end_at < end_ts     as is_resolved,
    as_of_day,
    loaded_at
from carried
where {{ changed_rows_filter(plan) }}
