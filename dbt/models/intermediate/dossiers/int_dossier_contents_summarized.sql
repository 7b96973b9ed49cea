{{ merged_per_dossier() }}
{#- Per dossier, the nested lists reduced to what the metrics need: submitted components
    (TaiLieuNop: digitized, reused, taken from the personal data store), fees (DanhSachLePhi),
    result files (DanhSachGiayToKetQua) and apology letters (PhieuXinLoi). -#}

with dossiers as (
    select dossier_code, submitted_documents, fees, result_documents, apology_letters, loaded_at
    from {{ ref('stg_one_stop__dossiers') }}
    {% if is_incremental() %}
    where {{ loaded_since_last_build() }}
    {% endif %}
),

components as (
    select
        dossier_code,
        count(*)::int                                                                as component_count,
        count(*) filter (where {{ json_int('DuocSoHoa', 'c') }} = 1)::int          as digitized_component_count,
        count(*) filter (where {{ json_int('DuocTaiSuDung', 'c') }} = 1)::int      as reused_component_count,
        count(*) filter (where {{ json_int('DuocLayTuKhoDMQG', 'c') }} = 1)::int   as data_store_component_count
    from dossiers
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(submitted_documents) = 'array' then submitted_documents else '[]' end) c
    group by dossier_code
),

fees as (
    select dossier_code, coalesce(sum({{ json_numeric('Gia', 'f') }}), 0) as fee_amount
    from dossiers
    cross join lateral jsonb_array_elements(case when jsonb_typeof(fees) = 'array' then fees else '[]' end) f
    group by dossier_code
),

results as (
    select dossier_code,
           count(*) filter (where {{ json_text('DuongDanTepTinKetQua', 'r') }} is not null)::int as result_file_count
    from dossiers
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(result_documents) = 'array' then result_documents else '[]' end) r
    group by dossier_code
),

apologies as (
    select dossier_code,
           count(*)::int                                          as apology_letter_count,
           min({{ json_local_timestamp('NgayXinLoi', 'a') }})     as first_apology_at,
           max({{ json_local_timestamp('NgayHenTraMoi', 'a') }})  as apology_new_due_at
    from dossiers
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(apology_letters) = 'array' then apology_letters else '[]' end) a
    group by dossier_code
)

select
    dossiers.dossier_code,
    coalesce(components.component_count, 0)             as component_count,
    coalesce(components.digitized_component_count, 0)   as digitized_component_count,
    coalesce(components.reused_component_count, 0)      as reused_component_count,
    coalesce(components.data_store_component_count, 0)  as data_store_component_count,
    coalesce(fees.fee_amount, 0)                        as fee_amount,
    coalesce(results.result_file_count, 0)              as result_file_count,
    coalesce(apologies.apology_letter_count, 0)         as apology_letter_count,
    apologies.first_apology_at,
    apologies.apology_new_due_at,
    dossiers.loaded_at
from dossiers
left join components using (dossier_code)
left join fees using (dossier_code)
left join results using (dossier_code)
left join apologies using (dossier_code)
