{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_key'], 'unique': true}, {'columns': ['loaded_at']}]
) }}
{#- Stored, not a view: a big entity. Nightly only the keys with a new version are re-ranked
    (see macro latest_version); --full-refresh re-ranks all of raw. -#}
with source as (
    {{ latest_version(source('dvc_portal', 'dvc_portal__sync_status')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('dossierCode') }}                  as dossier_code,
        {{ json_text('departmentCode') }}               as unit_code,
        -- codes
        {{ json_int('portalStatus') }}                  as portal_status,
        upper({{ json_text('syncResult') }})            as sync_result,
        {{ json_text('errorMessage') }}                 as error_message,
        -- timestamps
        {{ json_iso_timestamp('receivedAt') }}          as received_at,
        {{ json_iso_timestamp('syncedAt') }}            as synced_at,
        -- lineage
        record_key,
        {{ json_iso_timestamp('updatedAt') }}           as source_updated_at,
        loaded_at
    from source
)

select * from renamed
