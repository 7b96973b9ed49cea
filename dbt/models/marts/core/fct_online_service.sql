{#- Online services configured on the portal, effective-dated (valid_to inclusive): which unit
    offers which TTHC online, at which level, published and payment-integrated or not. -#}

select
    online_service_key,
    unit_code,
    procedure_code,
    online_level,
    is_published_on_portal,
    is_payment_integrated,
    coalesce(valid_from, date '1900-01-01')          as valid_from,
    valid_to,
    source_updated_at,
    loaded_at
from {{ ref('stg_dvc_portal__online_services') }}
where unit_code is not null and procedure_code is not null
