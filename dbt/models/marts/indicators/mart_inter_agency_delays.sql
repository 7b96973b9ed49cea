{#- Late inter-agency (liên thông) dossiers and the steps that overran: one row per overdue
    step (processed after its own NgayKetThucTheoQuyDinh) of a LienThong dossier whose 766
    judgement is late, naming the unit that did the step, so the delay is attributed to it. -#}

with late_dossiers as (
    select dossier_code, unit_code, procedure_code, field_code, received_at, effective_due_at,
           timeliness_end_at, status
    from {{ ref('fct_dossier') }}
    where is_inter_agency
      and (is_closed_on_time_766 = false
           or (timeliness_end_at is null and effective_due_at < {{ local_midnight(as_of_date() ~ ' + 1') }}))
)

select
    d.dossier_code::text                                                   as dossier_code,
    d.unit_code::text                                                      as receiving_unit_code,
    d.procedure_code::text                                                 as procedure_code,
    d.field_code::text                                                     as field_code,
    d.received_at::timestamptz                                             as received_at,
    d.effective_due_at::timestamptz                                        as due_at,
    d.timeliness_end_at::timestamptz                                       as end_of_processing_at,
    d.status::integer                                                      as status,
    s.step_number::integer                                                 as step_number,
    s.unit_code::text                                                      as step_unit_code,
    s.step_started_at::timestamptz                                         as step_started_at,
    s.processed_at::timestamptz                                            as step_processed_at,
    s.step_due_at::timestamptz                                             as step_due_at,
    s.overdue_working_hours::numeric                                       as step_overdue_working_hours
from late_dossiers d
join {{ ref('fct_dossier_step') }} s on s.dossier_code = d.dossier_code
where s.is_overdue
