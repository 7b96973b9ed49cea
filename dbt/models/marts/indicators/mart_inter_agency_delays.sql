{#- Late inter-agency (liên thông) dossiers per period and the steps that overran: one row per
    step of a LienThong dossier that metric 2.1 counts as late for the period (the dossiers of
    mart_late_dossiers, kept per dossier in int_list_late_dossiers) that was processed before
    the period end after its own deadline (NgayKetThucTheoQuyDinh), naming the unit that did
    the step, so the delay is attributed to it. A step that overran in an earlier period still
    explains the dossier's lateness in a later one. unit_code is the unit the dossier counts
    for in the period. -#}

with periods as (
    select period_type, period_key, {{ local_midnight('period_end') }} as end_ts
    from {{ ref('int_metric_periods') }}
),

late_dossiers as (
    select l.*, p.end_ts, m.reporting_unit_code
    from {{ ref('int_list_late_dossiers') }} l
    join periods p on p.period_type = l.period_type and p.period_key = l.period_key
    join {{ ref('int_period_unit_mappings') }} m
      on m.period_type = l.period_type and m.period_key = l.period_key and m.unit_code = l.unit_code
    where l.is_inter_agency
)

select
    d.period_type::text                                                    as period_type,
    d.period_key::text                                                     as period_key,
    d.dossier_code::text                                                   as dossier_code,
    d.reporting_unit_code::text                                            as unit_code,
    d.unit_code::text                                                      as receiving_unit_code,
    d.procedure_code::text                                                 as procedure_code,
    d.field_code::text                                                     as field_code,
    d.received_at::timestamptz                                             as received_at,
    d.due_at::timestamptz                                                  as due_at,
    d.end_of_processing_at::timestamptz                                    as end_of_processing_at,
    d.status::integer                                                      as status,
    s.step_number::integer                                                 as step_number,
    s.unit_code::text                                                      as step_unit_code,
    s.step_started_at::timestamptz                                         as step_started_at,
    s.processed_at::timestamptz                                            as step_processed_at,
    s.step_due_at::timestamptz                                             as step_due_at,
    s.overdue_working_hours::numeric                                       as step_overdue_working_hours
from late_dossiers d
join {{ ref('fct_dossier_step') }} s
  on s.dossier_code = d.dossier_code
 and s.is_overdue
 and s.processed_at < d.end_ts
