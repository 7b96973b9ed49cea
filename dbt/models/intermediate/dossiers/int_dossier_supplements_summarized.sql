{{ merged_per_dossier() }}
{#- Supplement requests (DanhSachHoSoBoSung) per dossier, for the 766 rules:
    - exactly one request with the citizen not back yet: the request time ends processing;
    - more than one request: the dossier is late (from the second request on);
    - a completed request's citizen time (requested -> received back) is not the agency's. -#}

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
        {{ json_local_timestamp('NgayYeuCauBoSung', 'item') }}   as requested_at,
        {{ json_local_timestamp('NgayTiepNhanBoSung', 'item') }} as received_back_at,
        {{ json_local_timestamp('NgayHenTraTruoc', 'item') }}    as previous_due_at,
        {{ json_local_timestamp('NgayHenTraMoi', 'item') }}      as new_due_at
    from dossiers
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(dossiers.supplement_requests) = 'array' then dossiers.supplement_requests else '[]' end) as item
),

with_working_time as (
    select
        requests.*,
        {{ cumulative_working_seconds('received_back_at', 'back_day') }}
          - {{ cumulative_working_seconds('requested_at', 'request_day') }} as citizen_working_seconds,
        row_number() over (partition by dossier_code order by requested_at) as request_number
    from requests
    left join {{ ref('dim_date') }} request_day on request_day.date_day = {{ local_date('requested_at') }}
    left join {{ ref('dim_date') }} back_day on back_day.date_day = {{ local_date('received_back_at') }}
),

summarized as (
    select
        dossier_code,
        count(*)::int                                                        as supplement_count,
        min(requested_at)                                                    as first_supplement_requested_at,
        max(requested_at) filter (where request_number = 2)                 as second_supplement_requested_at,
        case when count(*) = 1 then max(requested_at) filter (where received_back_at is null) end
                                                                             as pending_supplement_requested_at,
        round(coalesce(sum(citizen_working_seconds) filter (where received_back_at is not null), 0))::bigint
                                                                             as supplement_working_seconds,
        round(coalesce(sum(extract(epoch from received_back_at - requested_at)) filter (where received_back_at is not null), 0))::bigint
                                                                             as supplement_seconds
    from with_working_time
    group by dossier_code
)

-- one row per dossier, none requested included: an incremental merge then also clears a list
-- the source emptied
select
    dossiers.dossier_code,
    coalesce(summarized.supplement_count, 0)             as supplement_count,
    summarized.first_supplement_requested_at,
    summarized.second_supplement_requested_at,
    summarized.pending_supplement_requested_at,
    coalesce(summarized.supplement_working_seconds, 0)   as supplement_working_seconds,
    coalesce(summarized.supplement_seconds, 0)           as supplement_seconds,
    dossiers.loaded_at
from dossiers
left join summarized using (dossier_code)
