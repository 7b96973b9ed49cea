{#- The dossiers metric 2.1 counts as late, per period (feeds ho_so_qua_han.csv), from their
    per-dossier rows kept in int_list_late_dossiers; unit_code is the unit the dossier counts
    for in the period (its successor after the merger). No personal data. -#}

select
    l.period_type::text                                                     as period_type,
    l.period_key::text                                                      as period_key,
    l.dossier_code::text                                                    as dossier_code,
    m.reporting_unit_code::text                                             as unit_code,
    l.procedure_code::text                                                  as procedure_code,
    l.field_code::text                                                      as field_code,
    l.channel::integer                                                      as channel,
    l.received_at::timestamptz                                              as received_at,
    l.due_at::timestamptz                                                   as due_at,
    l.end_of_processing_at::timestamptz                                     as end_of_processing_at,
    l.overdue_working_hours::numeric                                        as overdue_working_hours,
    l.has_apology_letter::boolean                                           as has_apology_letter,
    l.status::integer                                                       as status
from {{ ref('int_list_late_dossiers') }} l
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = l.period_type and m.period_key = l.period_key and m.unit_code = l.unit_code
