{{ stored_latest_version(business_key='transaction_id') }}
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
