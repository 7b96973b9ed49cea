with source as (
    {{ latest_version(source('dvc_portal', 'dvc_portal__online_services')) }}
),

renamed as (
    select
        -- ids
        record_key                                      as online_service_key,
        {{ json_text('departmentCode') }}               as unit_code,
        {{ json_text('procedureCode') }}                as procedure_code,
        -- codes: FULL (toàn trình) or PARTIAL (một phần)
        upper({{ json_text('level') }})                 as online_level,
        -- flags
        coalesce({{ json_bool('publishedOnPortal') }}, false) as is_published_on_portal,
        coalesce({{ json_bool('paymentIntegrated') }}, false) as is_payment_integrated,
        -- validity (validTo inclusive, null = open)
        {{ json_iso_date('validFrom') }}                as valid_from,
        {{ json_iso_date('validTo') }}                  as valid_to,
        -- lineage
        {{ json_iso_timestamp('updatedAt') }}           as source_updated_at,
        loaded_at
    from source
)

select * from renamed
