{{ stored_latest_version(business_key='dossier_code') }}
{#- The only place applicant identity is kept in clear (schema restricted). Everything else
    joins on applicant_key, the keyed hash (HMAC) of the ID number. -#}
with source as (
    {{ latest_version(source('one_stop', 'one_stop__ho_so')) }}
),

renamed as (
    select
        {{ json_text('MaHoSo') }}                       as dossier_code,
        {{ applicant_hash("payload ->> 'SoGiayToChuHoSo'") }} as applicant_key,
        {{ json_text('ChuHoSo') }}                      as applicant_name,
        {{ json_text('SoGiayToChuHoSo') }}              as applicant_id_number,
        {{ json_text('SoDienThoai') }}                  as applicant_phone,
        {{ json_text('Email') }}                        as applicant_email,
        {{ json_text('DiaChi') }}                       as applicant_address,
        record_key,
        loaded_at
    from source
)

select * from renamed
