with source as (
    {{ latest_version(source('one_stop', 'one_stop__thu_tuc_don_vi')) }}
),

renamed as (
    select
        -- ids
        record_key                                      as unit_procedure_key,
        {{ json_text('MaDinhDanh') }}                   as unit_code,
        {{ json_text('MaTTHC') }}                       as procedure_code,
        -- online level: TOAN_TRINH (fully online), MOT_PHAN (partially), KHONG (not online)
        upper({{ json_text('MucDoDVC') }})              as online_level,
        -- validity (HieuLucDen inclusive)
        {{ json_local_date('HieuLucTu') }}              as valid_from,
        {{ json_local_date('HieuLucDen') }}             as valid_to,
        -- lineage
        {{ json_local_timestamp('NgayCapNhat') }}       as source_updated_at,
        loaded_at
    from source
)

select * from renamed
