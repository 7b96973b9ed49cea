{{ stored_latest_version(business_key='rating_id') }}
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
