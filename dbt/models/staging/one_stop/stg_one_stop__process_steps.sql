{#- dossier_code indexed: fct_dossier_step rebuilds all steps of each dossier with a new step
    (without the index that join scans every step) -#}
{{ stored_latest_version('dossier_step_key', lookup_key='dossier_code') }}
{#- NguoiXuLy (staff name) is personal and stays in restricted; the rest of the step is here. -#}
with source as (
    {{ latest_version(source('one_stop', 'one_stop__qua_trinh_xu_ly')) }}
),

renamed as (
    select
        -- ids
        record_key                                      as dossier_step_key,
        {{ json_text('MaHoSo') }}                       as dossier_code,
        {{ json_int('STT') }}                           as step_number,
        {{ json_text('MaDinhDanhDonVi') }}              as unit_code,
        -- codes and text
        {{ json_int('TrangThai') }}                     as status_after_step,
        {{ json_text('PhongBanXuLy') }}                 as department_name,
        {{ json_text('NoiDungXuLy') }}                  as step_description,
        -- timestamps
        {{ json_local_timestamp('ThoiDiemXuLy') }}      as processed_at,
        {{ json_local_timestamp('NgayBatDau') }}        as started_at,
        {{ json_local_timestamp('NgayKetThucTheoQuyDinh') }} as step_due_at,
        -- lineage
        {{ json_local_timestamp('NgayCapNhat') }}       as source_updated_at,
        loaded_at
    from source
)

select * from renamed
