{#- Dossiers whose result was ready but not handed back at each period's end, for more than
    var results_not_returned_working_days working days: the rows kept per cut day in
    int_list_results_not_returned, for every period cut that day; unit_code is the unit the
    dossier counts for in the period. -#}

select
    c.period_type::text                                                    as period_type,
    c.period_key::text                                                     as period_key,
    l.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    l.procedure_code::text                                                 as procedure_code,
    l.field_code::text                                                     as field_code,
    l.status::integer                                                      as status,
    l.received_at::timestamptz                                             as received_at,
    l.due_at::timestamptz                                                  as due_at,
    l.result_ready_at::timestamptz                                         as result_ready_at,
    l.returned_at::timestamptz                                             as returned_at,
    l.working_days_waiting::numeric                                        as working_days_waiting
from {{ ref('int_list_results_not_returned') }} l
join {{ ref('int_metric_period_cuts') }} c on c.cut_day = l.cut_day
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = c.period_type and m.period_key = c.period_key and m.unit_code = l.unit_code
