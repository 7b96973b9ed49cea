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
    {{ latest_version(source('dvc_portal', 'dvc_portal__ratings')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('ratingId') }}                     as rating_id,
        {{ json_text('dossierCode') }}                  as dossier_code,
        {{ json_text('departmentCode') }}               as unit_code,
        -- codes: 1 very satisfied, 2 satisfied, 3 dissatisfied
        {{ json_int('level') }}                         as rating_level,
        -- timestamps
        {{ json_iso_timestamp('ratedAt') }}             as rated_at,
        -- lineage
        record_key,
        {{ json_iso_timestamp('updatedAt') }}           as source_updated_at,
        loaded_at
    from source
)

select * from renamed
