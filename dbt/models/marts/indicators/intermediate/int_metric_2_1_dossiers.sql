{#- Metric 2.1 per dossier and period (docs/metrics.md, §6a), before pooling:
    in scope  = received in [start, end), or received before start and still open at start
                (no judged end before start);
    on time   = closed in the period with end <= due (at most one supplement request), or
                open at end with due >= end (§6a puts no supplement condition on open dossiers).
    "Judged end" is timeliness_end_at (a single pending supplement request ends processing);
    "due" is NgayHenTra, or the due derived from the TTHC limit when it is missing. -#}

-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}
{#- Kept per dossier (macros/per_dossier_periods.sql): a night replaces the rows of the dossiers
    whose record changed and adds a new period's rows. Every column comes from fct_dossier's
    dossier fields and the period; its payment fields (merged again when a payment changes) are
    not read. Kept, so a night neither rebuilds every row nor tests every row's grain. -#}
{{ kept_per_dossier() }}
{%- set plan = period_plan() %}
with periods as (
    select
        *,
        date_trunc('month', period_start::timestamp)::date as start_month,
        {{ local_midnight('period_end') }} as end_ts
    from {{ ref('int_metric_periods') }}
),

period_months as (
    {{ period_months('periods') }}
),

-- a period's start as a mark for join_marks_between
period_starts as (
    select period_type, period_key, end_ts, period_start as mark_day, start_month as mark_month
    from periods
),

-- local days: received_at < midnight(d) exactly when its local date is before d
dossiers as (
    select
        dossier_code, unit_code, received_at, timeliness_end_at, effective_due_at,
        supplement_count, second_supplement_requested_at, is_closed_on_time_766, loaded_at,
        {{ local_date('received_at') }}       as received_day,
        {{ local_date('timeliness_end_at') }} as end_day
    from {{ ref('fct_dossier') }} d
    -- in scope for a new period: received before its end, no judged end before its start
    where {{ kept_dossiers_filter(plan, in_added=spans_added_periods(plan, 'd.received_at', 'd.timeliness_end_at')) }}
),

-- received in [start, end), or received before start with no judged end before start
-- (received_day < start <= end_day): two equality joins instead of a range join
in_scope as (
    select p.period_type, p.period_key, p.end_ts, d.dossier_code, d.unit_code, d.timeliness_end_at,
           d.effective_due_at, d.is_closed_on_time_766, d.loaded_at
    from dossiers d
    {{ join_periods_containing('d.received_day', 'period_months', 'p') }}
    union all
    select p.period_type, p.period_key, p.end_ts, r.dossier_code, r.unit_code, r.timeliness_end_at,
           r.effective_due_at, r.is_closed_on_time_766, r.loaded_at
    {{ join_marks_between('dossiers', 'received_day', 'end_day', 'period_starts', 'p') }}
)

select
    period_type,
    period_key,
    dossier_code,
    unit_code,
    {{ on_time_766_at('timeliness_end_at', 'is_closed_on_time_766', 'effective_due_at', 'end_ts') }} as is_on_time,
    loaded_at
from in_scope
where {{ changed_rows_filter(plan) }}
