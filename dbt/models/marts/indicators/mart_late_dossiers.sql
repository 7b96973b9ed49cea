{#- The dossiers metric 2.1 counts as late, per period (feeds ho_so_qua_han.csv). Overdue
    working hours run from the due time (NgayHenTra, else the one derived from the TTHC limit)
    to the judged end when the dossier closed in the period, else to the period end; 0 when
    the dossier is late only by the several-supplements rule. unit_code is the unit the dossier
    counts for in the period (its successor after the merger). No personal data. -#}

{#- The planner expects ~80,000 late rows (1 M at 2 M dossiers) and looks each dossier up by
    index: hash joins took the select from 6.1 s to 5.1 s. -#}
{{ config(pre_hook='set local enable_nestloop = off') }}

with periods as (
    select period_type, period_key, period_end, {{ local_midnight('period_end') }} as end_ts
    from {{ ref('int_metric_periods') }}
),

late as (
    select t.period_type, t.period_key, p.period_end, p.end_ts, m.reporting_unit_code, d.*
    from {{ ref('int_metric_2_1_dossiers') }} t
    join periods p on p.period_type = t.period_type and p.period_key = t.period_key
    join {{ ref('int_period_unit_mappings') }} m
      on m.period_type = t.period_type and m.period_key = t.period_key and m.unit_code = t.unit_code
    join {{ ref('fct_dossier') }} d on d.dossier_code = t.dossier_code
    where not t.is_on_time
),

measured as (
    select
        late.*,
        late.timeliness_end_at < late.end_ts                                  as is_closed_in_period,
        case when late.timeliness_end_at < late.end_ts
             then {{ cumulative_working_seconds('late.timeliness_end_at', 'end_day') }}
             else period_end_day.cumulative_working_seconds_before
        end
        - {{ cumulative_working_seconds('late.effective_due_at', 'due_day') }} as overdue_working_seconds
    from late
    left join {{ ref('dim_date') }} end_day on end_day.date_day = {{ local_date('late.timeliness_end_at') }}
    left join {{ ref('dim_date') }} due_day on due_day.date_day = {{ local_date('late.effective_due_at') }}
    left join {{ ref('dim_date') }} period_end_day on period_end_day.date_day = late.period_end
)

select
    period_type::text                                                       as period_type,
    period_key::text                                                        as period_key,
    dossier_code::text                                                      as dossier_code,
    reporting_unit_code::text                                               as unit_code,
    procedure_code::text                                                    as procedure_code,
    field_code::text                                                        as field_code,
    channel::integer                                                        as channel,
    received_at::timestamptz                                                as received_at,
    effective_due_at::timestamptz                                           as due_at,
    -- the end §5 judges (a single pending supplement request ends processing), the one the
    -- overdue hours run to
    (case when is_closed_in_period then timeliness_end_at end)::timestamptz as end_of_processing_at,
    round(greatest(coalesce(overdue_working_seconds, 0), 0) / 3600.0, 4)::numeric as overdue_working_hours,
    has_apology_letter::boolean                                             as has_apology_letter,
    status::integer                                                         as status
from measured
