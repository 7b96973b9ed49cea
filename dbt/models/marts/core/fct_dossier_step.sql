{{ config(
    materialized='incremental',
    unique_key='dossier_step_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['dossier_step_key'], 'unique': true},
        {'columns': ['dossier_code', 'step_number']},
        {'columns': ['loaded_at']},
    ]
) }}
{#- One row per process-log step (MaHoSo, STT) with the unit that did it, its working-time
    duration and whether it finished after its own deadline (NgayKetThucTheoQuyDinh), so the
    delay of a multi-unit (liên thông) dossier can be attributed to the step and unit that
    caused it. A step starts at NgayBatDau, else when the previous step was processed.
    Incremental: steps of dossiers with a step loaded since the last run minus the lookback
    are rebuilt (a step's start depends on its predecessor). -#}

{% if is_incremental() %}
-- staging is stored with indexes on loaded_at and dossier_code: both reads are index lookups.
-- (Through one CTE read twice, PostgreSQL materialized every step.)
with changed_dossiers as (
    select distinct dossier_code
    from {{ ref('stg_one_stop__process_steps') }}
    where {{ loaded_since_last_build() }}
),

steps as (
    select all_steps.*
    from {{ ref('stg_one_stop__process_steps') }} all_steps
    join changed_dossiers using (dossier_code)
),
{% else %}
with steps as (
    select * from {{ ref('stg_one_stop__process_steps') }}
),
{% endif %}

sequenced as (
    select
        steps.*,
        coalesce(started_at, lag(processed_at) over (partition by dossier_code order by step_number))
                                                                     as step_started_at
    from steps
),

calendar as (
    select * from {{ ref('dim_date') }}
)

select
    sequenced.dossier_step_key,
    sequenced.dossier_code,
    sequenced.step_number,
    sequenced.unit_code,
    sequenced.status_after_step,
    sequenced.department_name,
    sequenced.step_started_at,
    sequenced.processed_at,
    sequenced.step_due_at,
    round(({{ cumulative_working_seconds('sequenced.processed_at', 'end_day') }}
           - {{ cumulative_working_seconds('sequenced.step_started_at', 'start_day') }}) / 3600.0, 4)
                                                                     as working_hours,
    sequenced.step_due_at is not null and sequenced.processed_at > sequenced.step_due_at
                                                                     as is_overdue,
    case when sequenced.step_due_at is not null and sequenced.processed_at > sequenced.step_due_at
         then round(({{ cumulative_working_seconds('sequenced.processed_at', 'end_day') }}
                     - {{ cumulative_working_seconds('sequenced.step_due_at', 'due_day') }}) / 3600.0, 4)
         else 0 end                                                  as overdue_working_hours,
    sequenced.source_updated_at,
    sequenced.loaded_at
from sequenced
left join calendar start_day on start_day.date_day = {{ local_date('sequenced.step_started_at') }}
left join calendar end_day on end_day.date_day = {{ local_date('sequenced.processed_at') }}
left join calendar due_day on due_day.date_day = {{ local_date('sequenced.step_due_at') }}
