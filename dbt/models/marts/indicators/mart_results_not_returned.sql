{#- Dossiers whose result was ready in the system (NgayKetThucXuLy, status 9) but not handed back
    (no NgayTra) at each period's end (the end of var as_of_date for the period still running),
    for more than var results_not_returned_working_days working days (default 5) by then. A
    dossier returned since (status 10 now, NgayTra after the end) still shows in the periods it
    was waiting at the end of. unit_code is the unit the dossier counts for in the period. -#}

{#- The planner takes the waiting rows for ~200,000 (1.7 M at 2 M dossiers) and looks up both
    calendar days by index, 1.7 M times each: hash joins to the 3,000-day calendar took the
    select from 13.1 s to 9.1 s at 2 M (decision 004: one local switch per model). -#}
{{ config(pre_hook='set local enable_nestloop = off') }}

with cuts as (
    select * from {{ ref('int_metric_period_cuts') }}
),

-- local days: an instant is before midnight(d) exactly when its local date is before d.
-- A calendar day holds at most one working day, so a dossier waits more than N working days at
-- a cut only if it was returned more than N calendar days after its result was ready (or not
-- yet): the rest never show and are left out here (with the other statuses, 78 % of fct_dossier at 2 M).
ready as (
    select d.dossier_code, d.unit_code, d.procedure_code, d.field_code, d.status,
           d.received_at, d.due_at, d.processing_ended_at, d.returned_at,
           {{ local_date('d.processing_ended_at') }} as ready_day,
           {{ local_date('d.returned_at') }}         as returned_day
    from {{ ref('fct_dossier') }} d
    where d.status in (9, 10)
      and (d.returned_at is null
           or {{ local_date('d.returned_at') }} - {{ local_date('d.processing_ended_at') }}
              > {{ var('results_not_returned_working_days', 5) }})
),

-- result ready before the cut and not returned before it: ready_day < cut_day <= returned_day
waiting as (
    select p.period_type, p.period_key, p.cut_ts, r.*
    {{ join_marks_between('ready', 'ready_day', 'returned_day', 'cuts', 'p') }}
),

measured as (
    select
        w.*,
        ({{ cumulative_working_seconds('w.cut_ts', 'cut_day') }}
         - {{ cumulative_working_seconds('w.processing_ended_at', 'ready_day') }})
          / {{ working_seconds_per_day() }}.0                             as working_days_waiting
    from waiting w
    left join {{ ref('dim_date') }} ready_day on ready_day.date_day = {{ local_date('w.processing_ended_at') }}
    left join {{ ref('dim_date') }} cut_day on cut_day.date_day = {{ local_date('w.cut_ts') }}
)

select
    w.period_type::text                                                    as period_type,
    w.period_key::text                                                     as period_key,
    w.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    w.procedure_code::text                                                 as procedure_code,
    w.field_code::text                                                     as field_code,
    w.status::integer                                                      as status,
    w.received_at::timestamptz                                             as received_at,
    w.due_at::timestamptz                                                  as due_at,
    w.processing_ended_at::timestamptz                                     as result_ready_at,
    w.returned_at::timestamptz                                             as returned_at,
    round(w.working_days_waiting, 2)::numeric                              as working_days_waiting
from measured w
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = w.period_type and m.period_key = w.period_key and m.unit_code = w.unit_code
where w.working_days_waiting > {{ var('results_not_returned_working_days', 5) }}
