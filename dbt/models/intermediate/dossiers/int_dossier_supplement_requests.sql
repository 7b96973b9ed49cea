{{ merged_per_dossier() }}
{#- The times of each staged dossier's supplement requests (DanhSachHoSoBoSung), in request
    order, as two aligned arrays: the list parsed once, when the dossier changes, for
    int_dossier_supplements_summarized and for mart_dossiers_paused, which asks it of every open
    dossier at every period end (reading the staged JSON instead, the mart scanned all of
    staging each night). One row per dossier, empty arrays
    included, so a merge also clears a list the source emptied. -#}

with dossiers as (
    select dossier_code, supplement_requests, loaded_at
    from {{ ref('stg_one_stop__dossiers') }}
    {% if is_incremental() %}
    where {{ loaded_since_last_build() }}
    {% endif %}
),

requests as (
    select
        dossiers.dossier_code,
        item.position,
        {{ json_local_timestamp('NgayYeuCauBoSung', 'item.request') }}   as requested_at,
        {{ json_local_timestamp('NgayTiepNhanBoSung', 'item.request') }} as received_back_at
    from dossiers
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(dossiers.supplement_requests) = 'array' then dossiers.supplement_requests else '[]' end)
        with ordinality as item(request, position)
)

select
    dossiers.dossier_code,
    coalesce(array_agg(requests.requested_at order by requests.requested_at, requests.position)
             filter (where requests.dossier_code is not null), '{}')::timestamptz[]     as requested_at,
    coalesce(array_agg(requests.received_back_at order by requests.requested_at, requests.position)
             filter (where requests.dossier_code is not null), '{}')::timestamptz[]     as received_back_at,
    dossiers.loaded_at
from dossiers
left join requests using (dossier_code)
group by dossiers.dossier_code, dossiers.loaded_at
