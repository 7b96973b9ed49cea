with source as (
    {{ latest_version(source('one_stop', 'one_stop__thu_tuc')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('MaTTHC') }}                       as procedure_code,
        {{ json_text('MaLinhVuc') }}                    as field_code,
        -- descriptive
        {{ json_text('TenTTHC') }}                      as procedure_name,
        {{ json_text('TenLinhVuc') }}                   as field_name,
        -- lists as jsonb arrays of upper-cased codes (levels TINH/HUYEN/XA; audiences CONG_DAN/DOANH_NGHIEP/TO_CHUC)
        {{ json_code_list('CapThucHien') }}             as implementing_levels,
        {{ json_code_list('DoiTuongThucHien') }}        as applicant_types,
        -- time limit
        {{ json_numeric('ThoiHanGiaiQuyet') }}          as time_limit,
        upper({{ json_text('DonViThoiHan') }})          as time_limit_unit,
        -- flags
        {{ json_bool('CoPhiLePhi') }}                   as has_fee,
        {{ json_bool('KetQuaLaGiayTo') }}               as result_is_document,
        {{ json_bool('CongKhaiDayDu') }}                as is_fully_published,
        -- dates
        {{ json_local_date('NgayCongBo') }}             as announced_on,
        {{ json_local_date('NgayHieuLucVanBan') }}      as legal_basis_effective_on,
        {{ json_local_date('NgayCongKhai') }}           as published_on,
        -- lineage
        {{ json_local_timestamp('NgayCapNhat') }}       as source_updated_at,
        loaded_at
    from source
)

select * from renamed
