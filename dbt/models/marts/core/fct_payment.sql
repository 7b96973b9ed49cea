{{ config(indexes=[{'columns': ['dossier_code']}]) }}
{#- One row per online payment transaction (latest status). SUCCESS counts as paid; a later
    REFUNDED replaces it, so a refunded dossier is no longer paid online. -#}

select
    transaction_id,
    dossier_code,
    unit_code,
    procedure_code,
    fee_code,
    fee_type,
    payment_status,
    payment_status = 'SUCCESS'                       as is_successful,
    payment_channel,
    bank_code,
    result_code,
    amount,
    created_at,
    paid_at,
    {{ local_date('paid_at') }}                      as paid_on,
    source_updated_at,
    loaded_at
from {{ ref('stg_dvc_portal__payments') }}
where transaction_id is not null
