{{ stored_latest_version(business_key='feedback_id') }}
{#- The feedback text (content) is personal: it lives in restricted.stg_dvc_portal__feedback_contents. -#}
with source as (
    {{ latest_version(source('dvc_portal', 'dvc_portal__feedback')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('feedbackId') }}                   as feedback_id,
        {{ json_text('departmentCode') }}               as unit_code,
        {{ json_text('dossierCode') }}                  as dossier_code,
        -- codes
        upper({{ json_text('channel') }})               as feedback_channel,
        upper({{ json_text('category') }})              as category,
        upper({{ json_text('status') }})                as feedback_status,
        -- counts and flags
        coalesce({{ json_int('likes') }}, 0)            as likes,
        coalesce({{ json_int('dislikes') }}, 0)         as dislikes,
        coalesce({{ json_bool('reraised') }}, false)    as is_reraised,
        -- timestamps
        {{ json_iso_timestamp('receivedAt') }}          as received_at,
        {{ json_iso_timestamp('dueAt') }}               as due_at,
        {{ json_iso_timestamp('handledAt') }}           as handled_at,
        -- lineage
        record_key,
        {{ json_iso_timestamp('updatedAt') }}           as source_updated_at,
        loaded_at
    from source
)

select * from renamed
