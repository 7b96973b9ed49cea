{#- Open dossiers paused now: waiting for a supplement (status 5) or for a financial
    obligation to be paid (6), with since when and for how many working hours (as of the build,
    var as_of_date's end when set). Supplement pauses start at the pending request; payment
    pauses at the source's last update (the contract carries no dedicated date). -#}

with dossiers as (
    select * from {{ ref('fct_dossier') }}
    where status in (5, 6) and end_of_processing_at is null
),

as_of as (
    select {{ local_midnight(as_of_date() ~ ' + 1') }} as as_of_ts
),

paused as (
    select
        d.*,
        case when d.status = 5 then coalesce(d.pending_supplement_requested_at, d.source_updated_at)
             else d.source_updated_at end                                 as paused_since,
        as_of.as_of_ts
    from dossiers d cross join as_of
)

select
    p.dossier_code::text                                                   as dossier_code,
    p.unit_code::text                                                      as unit_code,
    p.procedure_code::text                                                 as procedure_code,
    p.field_code::text                                                     as field_code,
    p.status::integer                                                      as status,
    (case p.status when 5 then 'YEU_CAU_BO_SUNG' else 'CHO_NGHIA_VU_TAI_CHINH' end)::text as pause_reason,
    p.received_at::timestamptz                                             as received_at,
    p.due_at::timestamptz                                                  as due_at,
    p.paused_since::timestamptz                                            as paused_since,
    round(greatest(0, (asof_day.cumulative_working_seconds_before)
          - {{ cumulative_working_seconds('p.paused_since', 'since_day') }}) / 3600.0, 2)::numeric
                                                                           as paused_working_hours
from paused p
left join {{ ref('dim_date') }} since_day on since_day.date_day = {{ local_date('p.paused_since') }}
left join {{ ref('dim_date') }} asof_day on asof_day.date_day = {{ as_of_date() }} + 1
