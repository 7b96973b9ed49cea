{#- Dossiers paused at each period's end (the end of var as_of_date for the period still
    running), waiting for a supplement or a financial obligation: the rows kept per cut day in
    int_list_paused_dossiers, for every period cut that day; unit_code is the unit the dossier
    counts for in the period. -#}

select
    c.period_type::text                                                    as period_type,
    c.period_key::text                                                     as period_key,
    l.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    l.procedure_code::text                                                 as procedure_code,
    l.field_code::text                                                     as field_code,
    l.status::integer                                                      as status,
    l.pause_reason::text                                                   as pause_reason,
    l.received_at::timestamptz                                             as received_at,
    l.due_at::timestamptz                                                  as due_at,
    l.paused_since::timestamptz                                            as paused_since,
    l.paused_working_hours::numeric                                        as paused_working_hours
from {{ ref('int_list_paused_dossiers') }} l
join {{ ref('int_metric_period_cuts') }} c on c.cut_day = l.cut_day
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = c.period_type and m.period_key = c.period_key and m.unit_code = l.unit_code
