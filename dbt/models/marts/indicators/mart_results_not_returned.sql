{#- Dossiers whose result is ready in the system (status 9, NgayKetThucXuLy set) but not handed
    back (no status 10) for more than var results_not_returned_working_days working days
    (default 5) as of var as_of_date's end (today when unset). -#}

with ready as (
    select * from {{ ref('fct_dossier') }}
    where status = 9 and processing_ended_at is not null
),

measured as (
    select
        ready.*,
        (asof_day.cumulative_working_seconds_before
         - {{ cumulative_working_seconds('ready.processing_ended_at', 'ready_day') }})
          / {{ working_seconds_per_day() }}.0                             as working_days_waiting
    from ready
    left join {{ ref('dim_date') }} ready_day on ready_day.date_day = {{ local_date('ready.processing_ended_at') }}
    left join {{ ref('dim_date') }} asof_day on asof_day.date_day = {{ as_of_date() }} + 1
)

select
    dossier_code::text                                                     as dossier_code,
    unit_code::text                                                        as unit_code,
    procedure_code::text                                                   as procedure_code,
    field_code::text                                                       as field_code,
    received_at::timestamptz                                               as received_at,
    due_at::timestamptz                                                    as due_at,
    processing_ended_at::timestamptz                                       as result_ready_at,
    round(working_days_waiting, 2)::numeric                                as working_days_waiting
from measured
where working_days_waiting > {{ var('results_not_returned_working_days', 5) }}
