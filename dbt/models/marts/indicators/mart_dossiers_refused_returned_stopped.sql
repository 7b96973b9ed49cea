{#- Dossiers refused at intake (3), withdrawn (7) or stopped (8) per period of the decision,
    with the written reason (LyDo) and a flag when it is missing (directives ask to see both),
    from their per-dossier rows kept in int_list_refused_returned_stopped; unit_code is the
    unit the dossier counts for in the period. The reason is the agency's text, not the
    applicant's data. -#}

select
    l.period_type::text                                                    as period_type,
    l.period_key::text                                                     as period_key,
    l.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    l.procedure_code::text                                                 as procedure_code,
    l.field_code::text                                                     as field_code,
    l.channel::integer                                                     as channel,
    l.status::integer                                                      as status,
    l.outcome::text                                                        as outcome,
    l.submitted_at::timestamptz                                            as submitted_at,
    l.received_at::timestamptz                                             as received_at,
    l.decided_at::timestamptz                                              as decided_at,
    l.reason::text                                                         as reason,
    (l.reason is null)::boolean                                            as is_reason_missing
from {{ ref('int_list_refused_returned_stopped') }} l
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = l.period_type and m.period_key = l.period_key and m.unit_code = l.unit_code
