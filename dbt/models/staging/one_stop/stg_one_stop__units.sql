with source as (
    {{ latest_version(source('one_stop', 'one_stop__don_vi')) }}
),

renamed as (
    select
        -- ids
        {{ json_text('MaDinhDanh') }}                   as unit_code,
        {{ json_text('MaDonViCha') }}                   as parent_unit_code,
        {{ json_text('MaDonViKeNhiem') }}               as successor_unit_code,
        {{ json_text('MaDVCQG') }}                      as national_portal_code,
        -- descriptive
        {{ json_text('TenDonVi') }}                     as unit_name,
        upper({{ json_text('CapDonVi') }})              as unit_level,
        -- validity (HieuLucDen is the last valid day, inclusive)
        {{ json_local_date('HieuLucTu') }}              as valid_from,
        {{ json_local_date('HieuLucDen') }}             as valid_to,
        -- lineage
        {{ json_local_timestamp('NgayCapNhat') }}       as source_updated_at,
        loaded_at
    from source
)

select * from renamed
