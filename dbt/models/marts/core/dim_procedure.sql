{{ config(indexes=[{'columns': ['procedure_code'], 'unique': true}]) }}
{#- One row per TTHC with its time limit (also in working hours where the limit is in working
    time), fee and result flags, and publication dates for metrics 1.1-1.3. -#}

select
    procedure_code,
    procedure_name,
    field_code,
    field_name,
    (select string_agg(v, ',') from jsonb_array_elements_text(implementing_levels) v) as implementing_levels,
    (select string_agg(v, ',') from jsonb_array_elements_text(applicant_types) v)     as applicant_types,
    applicant_types ? 'CONG_DAN'                                      as is_for_citizens,
    time_limit,
    time_limit_unit,
    case time_limit_unit
        when 'NGAY_LAM_VIEC' then time_limit * {{ working_seconds_per_day() }} / 3600.0
        when 'GIO' then time_limit
    end                                                               as time_limit_working_hours,
    coalesce(has_fee, false)                                          as has_fee,
    coalesce(result_is_document, false)                               as result_is_document,
    coalesce(is_fully_published, false)                               as is_fully_published,
    announced_on,
    legal_basis_effective_on,
    published_on
from {{ ref('stg_one_stop__procedures') }}
where procedure_code is not null
