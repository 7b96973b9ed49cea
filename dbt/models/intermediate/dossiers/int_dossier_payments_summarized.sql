{#- Online payments per dossier from the portal (PayGov / local gateway): a dossier is paid
    online once it has a SUCCESS transaction; REFUNDED or failed ones do not count. -#}

select
    dossier_code,
    count(*)::int                                                    as payment_transaction_count,
    count(*) filter (where payment_status = 'SUCCESS')::int         as successful_payment_count,
    min(coalesce(paid_at, created_at)) filter (where payment_status = 'SUCCESS') as first_paid_online_at,
    coalesce(sum(amount) filter (where payment_status = 'SUCCESS'), 0) as amount_paid_online
from {{ ref('stg_dvc_portal__payments') }}
where dossier_code is not null
group by dossier_code
