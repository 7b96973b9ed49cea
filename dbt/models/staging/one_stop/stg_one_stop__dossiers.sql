{{ stored_latest_version(business_key='dossier_code') }}
{#- list L7 of the actions models reads the refused, withdrawn and stopped dossiers by this index -#}
{{ config(post_hook=[{'sql': "{{ refusals_decided_at_index() }}", 'transaction': false}]) }}
{#- Personal fields (ChuHoSo, SoGiayToChuHoSo, SoDienThoai, Email, DiaChi) stay out of this
    model: they live in restricted.stg_one_stop__dossier_applicants; here only the keyed hash
    of the ID number, as a person key. -#}
with source as (
    {{ latest_version(source('one_stop', 'one_stop__ho_so')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('MaHoSo') }}                       as dossier_code,
        {{ json_text('MaTTHC') }}                       as procedure_code,
        {{ json_text('MaLinhVuc') }}                    as field_code,
        {{ json_text('MaDinhDanhDonVi') }}              as unit_code,
        {{ applicant_hash("payload ->> 'SoGiayToChuHoSo'") }} as applicant_key,
        -- codes
        {{ json_int('TrangThaiHoSo') }}                 as status,
        {{ json_int('KenhThucHien') }}                  as channel,
        {{ json_int('LoaiDoiTuong') }}                  as applicant_type,
        {{ json_int('DuocThanhToanTrucTuyen') }}        as online_payment_kind,
        -- text
        {{ json_text('TrichYeuHoSo') }}                 as summary,
        {{ json_text('LyDo') }}                         as reason,
        -- timestamps (local yyyyMMddHHmmss)
        {{ json_local_timestamp('NgayNopHoSo') }}       as submitted_at,
        {{ json_local_timestamp('NgayTiepNhan') }}      as received_at,
        {{ json_local_timestamp('NgayHenTra') }}        as due_at,
        {{ json_local_timestamp('NgayKetThucXuLy') }}   as processing_ended_at,
        {{ json_local_timestamp('NgayTra') }}           as returned_at,
        {{ json_local_timestamp('NgayTuChoi') }}        as refused_at,
        -- flags
        coalesce({{ json_bool('LienThong') }}, false)   as is_inter_agency,
        coalesce({{ json_bool('HoSoCoThanhPhanSoHoa') }}, false) as has_reused_digitized_component,
        coalesce({{ json_bool('TaiKhoanDuocXacThucVoiVNeID') }}, false) as is_vneid_authenticated,
        coalesce({{ json_bool('DaXoa') }}, false)       as is_deleted,
        -- nested lists, unpacked in intermediate models ([] when missing)
        coalesce(payload -> 'TaiLieuNop', '[]')         as submitted_documents,
        coalesce(payload -> 'DanhSachLePhi', '[]')      as fees,
        coalesce(payload -> 'DanhSachHoSoBoSung', '[]') as supplement_requests,
        coalesce(payload -> 'DanhSachGiayToKetQua', '[]') as result_documents,
        coalesce(payload -> 'PhieuXinLoi', '[]')        as apology_letters,
        -- lineage
        record_key,
        {{ json_local_timestamp('NgayCapNhat') }}       as source_updated_at,
        loaded_at
    from source
)

select * from renamed
