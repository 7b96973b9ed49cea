{{ config(
    materialized='incremental',
    unique_key='dossier_step_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['dossier_step_key'], 'unique': true}, {'columns': ['loaded_at']}]
) }}
{#- Stored like its non-personal twin in staging, so nightly builds and tests do not re-rank raw. -#}
{#- Staff names of process-log steps (NguoiXuLy) are personal: restricted schema only. -#}
with source as (
    {{ latest_version(source('one_stop', 'one_stop__qua_trinh_xu_ly')) }}
)

select
    record_key                                          as dossier_step_key,
    {{ json_text('NguoiXuLy') }}                        as handler_name,
    loaded_at
from source
