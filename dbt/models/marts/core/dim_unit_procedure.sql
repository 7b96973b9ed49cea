{{ config(indexes=[{'columns': ['unit_code', 'procedure_code', 'valid_from']}]) }}
{#- Which unit offers which TTHC, effective-dated (valid_to inclusive), at which online level,
    with the procedure's fee and paper-result flags carried for the offering metrics. -#}

select
    offering.unit_procedure_key,
    offering.unit_code,
    offering.procedure_code,
    offering.online_level,
    offering.online_level in ('TOAN_TRINH', 'MOT_PHAN')              as is_online,
    coalesce(offering.valid_from, date '1900-01-01')                  as valid_from,
    offering.valid_to,
    coalesce(procedures.has_fee, false)                               as has_fee,
    coalesce(procedures.result_is_document, false)                    as result_is_document,
    procedures.time_limit,
    procedures.time_limit_unit
from {{ ref('stg_one_stop__unit_procedures') }} offering
left join {{ ref('stg_one_stop__procedures') }} procedures using (procedure_code)
where offering.unit_code is not null and offering.procedure_code is not null
