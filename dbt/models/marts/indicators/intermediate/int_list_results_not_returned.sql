{#- The rows of mart_results_not_returned before the periods and the reporting unit: per cut
    day (int_metric_period_cuts: a period's end, or the end of var as_of_date for the periods
    still running; periods ending together share it), the dossiers whose result was ready in
    the system (NgayKetThucXuLy, status 9) but not handed back (no NgayTra) at the cut, for
    more than var results_not_returned_working_days working days (default 5) by then. A
    dossier returned since (status 10 now, NgayTra after the cut) still shows at the cuts it
    was waiting at.

    Kept per dossier (macros/per_dossier_periods.sql, docs/decisions/005): a row depends on the
    dossier's record and the cut, so a night replaces the rows of the dossiers whose record
    changed, computes tonight's cut from the dossiers waiting at it and drops last night's
    (unless a period ended then); the cuts of ended periods keep their rows. Per cut, not per
    period: per period, each running period would copy tonight's rows again. -#}

{#- The planner underestimates the waiting rows several times over and looks up both calendar
    days by index, once per row each: hash joins to the small calendar are faster (decision 004:
    one local switch per model). -#}
-- the change set (macros/per_dossier_periods.sql): which dossiers a night replaces
-- depends_on: {{ ref('int_dossier_changes') }}
{{ kept_per_dossier(
    {'periods': 'int_metric_period_cuts', 'key': ['cut_day'], 'signature': [],
     'settings': ['results_not_returned_working_days']},
    pre_hook=['set local enable_nestloop = off']) }}
{%- set plan = period_plan() %}
{%- set days = var('results_not_returned_working_days', 5) %}

with cuts as (
    select distinct cut_day, cut_ts, mark_day, mark_month, {{ is_added_period(plan) }} as is_new
    from {{ ref('int_metric_period_cuts') }}
),

-- local days: an instant is before midnight(d) exactly when its local date is before d.
-- A calendar day holds at most one working day, so a dossier waits more than N working days at
-- a cut only if it was returned more than N calendar days after its result was ready (or not
-- yet): the rest never show and are left out here (with the other statuses, most of fct_dossier).
ready as (
    select d.dossier_code, d.unit_code, d.procedure_code, d.field_code, d.status,
           d.received_at, d.due_at, d.processing_ended_at, d.returned_at, d.loaded_at,
           {{ local_date('d.processing_ended_at') }} as ready_day,
           {{ local_date('d.returned_at') }}         as returned_day,
           {{ is_changed_dossier(plan, 'd.dossier_code') }} as is_changed
    from {{ ref('fct_dossier') }} d
    where d.status in (9, 10)
      and (d.returned_at is null
           or {{ local_date('d.returned_at') }} - {{ local_date('d.processing_ended_at') }} > {{ days }})
      and {{ kept_dossiers_filter(plan, in_added=spans_added_periods(plan, 'd.processing_ended_at', 'd.returned_at',
                                                                       'cut_day', 'cut_day')) }}
),

-- result ready before the cut and not returned before it: ready_day < cut_day <= returned_day
waiting as (
    select p.cut_day, p.cut_ts, r.*
    {{ join_marks_between('ready', 'ready_day', 'returned_day', 'cuts', 'p') }}
    where p.is_new or r.is_changed
),

measured as (
    select
        w.*,
        ({{ cumulative_working_seconds('w.cut_ts', 'cut_cal') }}
         - {{ cumulative_working_seconds('w.processing_ended_at', 'ready_day') }})
          / {{ working_seconds_per_day() }}.0                             as working_days_waiting
    from waiting w
    left join {{ ref('dim_date') }} ready_day on ready_day.date_day = {{ local_date('w.processing_ended_at') }}
    left join {{ ref('dim_date') }} cut_cal on cut_cal.date_day = w.cut_day
)

select
    cut_day,
    dossier_code,
    unit_code,
    procedure_code,
    field_code,
    status,
    received_at,
    due_at,
    processing_ended_at                                                    as result_ready_at,
    returned_at,
    round(working_days_waiting, 2)                                         as working_days_waiting,
    loaded_at
from measured
where working_days_waiting > {{ days }}
  and {{ changed_rows_filter(plan) }}
