{{ stored_latest_version(business_key='dossier_code') }}
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
