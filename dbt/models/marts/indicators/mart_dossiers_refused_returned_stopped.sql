{#- Dossiers refused at intake (3), withdrawn (7) or stopped (8), with the written reason
    (LyDo) and a flag when it is missing (directives ask to see both). Refused dossiers are not
    received, so they come from staging, not fct_dossier; deleted dossiers are left out. The
    reason is the agency's text about the dossier, not the applicant's data. -#}

select
    d.dossier_code::text                                                   as dossier_code,
    d.unit_code::text                                                      as unit_code,
    d.procedure_code::text                                                 as procedure_code,
    d.field_code::text                                                     as field_code,
    d.channel::integer                                                     as channel,
    d.status::integer                                                      as status,
    (case d.status when 3 then 'TU_CHOI' when 7 then 'RUT_HO_SO' else 'DUNG_XU_LY' end)::text
                                                                           as outcome,
    d.submitted_at::timestamptz                                            as submitted_at,
    d.received_at::timestamptz                                             as received_at,
    (case when d.status = 3 then coalesce(d.refused_at, d.processing_ended_at)
          else coalesce(d.processing_ended_at, d.returned_at) end)::timestamptz as decided_at,
    nullif(btrim(d.reason), '')::text                                      as reason,
    (nullif(btrim(d.reason), '') is null)::boolean                         as is_reason_missing
from {{ ref('stg_one_stop__dossiers') }} d
where d.status in (3, 7, 8)
  and not d.is_deleted
  and d.dossier_code is not null
