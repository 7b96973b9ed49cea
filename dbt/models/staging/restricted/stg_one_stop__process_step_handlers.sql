{{ stored_latest_version('dossier_step_key') }}
{#- Staff names of process-log steps (NguoiXuLy) are personal: restricted schema only. -#}
with source as (
    {{ latest_version(source('one_stop', 'one_stop__qua_trinh_xu_ly')) }}
)

select
    record_key                                          as dossier_step_key,
    {{ json_text('NguoiXuLy') }}                        as handler_name,
    loaded_at
from source
