{#- Dossiers refused at intake (3), withdrawn (7) or stopped (8) per period of the decision
    (NgayTuChoi for refusals, else NgayKetThucXuLy, else NgayTra; the last update when the
    source gives no date), with the written reason (LyDo) and a flag when it is missing
    (directives ask to see both). Refused dossiers are not received, so they come from
    staging, not fct_dossier; deleted dossiers are left out. unit_code is the unit the dossier
    counts for in the period. The reason is the agency's text, not the applicant's data. -#}

with decisions as (
    select
        d.*,
        case when d.status = 3 then coalesce(d.refused_at, d.processing_ended_at, d.source_updated_at)
             else coalesce(d.processing_ended_at, d.returned_at, d.source_updated_at) end as decided_at
    from {{ ref('stg_one_stop__dossiers') }} d
    where d.status in (3, 7, 8)
      and not d.is_deleted
      and d.dossier_code is not null
)

select
    pd.period_type::text                                                   as period_type,
    pd.period_key::text                                                    as period_key,
    d.dossier_code::text                                                   as dossier_code,
    m.reporting_unit_code::text                                            as unit_code,
    d.procedure_code::text                                                 as procedure_code,
    d.field_code::text                                                     as field_code,
    d.channel::integer                                                     as channel,
    d.status::integer                                                      as status,
    (case d.status when 3 then 'TU_CHOI' when 7 then 'RUT_HO_SO' else 'DUNG_XU_LY' end)::text
                                                                           as outcome,
    d.submitted_at::timestamptz                                            as submitted_at,
    d.received_at::timestamptz                                             as received_at,
    d.decided_at::timestamptz                                              as decided_at,
    nullif(btrim(d.reason), '')::text                                      as reason,
    (nullif(btrim(d.reason), '') is null)::boolean                         as is_reason_missing
from decisions d
join {{ ref('int_metric_period_days') }} pd on pd.date_day = {{ local_date('d.decided_at') }}
join {{ ref('int_period_unit_mappings') }} m
  on m.period_type = pd.period_type and m.period_key = pd.period_key and m.unit_code = d.unit_code
