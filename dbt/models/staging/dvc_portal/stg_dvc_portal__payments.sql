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
    {{ latest_version(source('dvc_portal', 'dvc_portal__payments')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('transactionId') }}                as transaction_id,
        {{ json_text('dossierCode') }}                  as dossier_code,
        {{ json_text('departmentCode') }}               as unit_code,
        {{ json_text('procedureCode') }}                as procedure_code,
        {{ json_text('feeCode') }}                      as fee_code,
        -- codes
        upper({{ json_text('feeType') }})               as fee_type,
        upper({{ json_text('status') }})                as payment_status,
        upper({{ json_text('channel') }})               as payment_channel,
        {{ json_text('bankCode') }}                     as bank_code,
        {{ json_text('resultCode') }}                   as result_code,
        -- amounts (VND)
        {{ json_numeric('amount') }}                    as amount,
        -- timestamps (ISO 8601 with offset)
        {{ json_iso_timestamp('createdAt') }}           as created_at,
        {{ json_iso_timestamp('paidAt') }}              as paid_at,
        -- lineage
        record_key,
        {{ json_iso_timestamp('updatedAt') }}           as source_updated_at,
        loaded_at
    from source
)

select * from renamed
