{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='merge',
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['record_key'], 'unique': true}, {'columns': ['loaded_at']}]
) }}
{#- Stored, not a view: a big entity. Nightly only the keys with a new version are re-ranked
    (see macro latest_version); --full-refresh re-ranks all of raw. -#}
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
