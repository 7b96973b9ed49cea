{{ merged_per_dossier() }}
{#- Supplement requests (DanhSachHoSoBoSung) per dossier, for the 766 rules:
    - exactly one request with the citizen not back yet: the request time ends processing;
    - more than one request: the dossier is late (from the second request on);
    - a completed request's citizen time (requested -> received back) is not the agency's. -#}

with dossiers as (
    select dossier_code, requested_at, received_back_at, loaded_at
    from {{ ref('int_dossier_supplement_requests') }}
    {% if is_incremental() %}
    where {{ loaded_since_last_build() }}
    {% endif %}
),

-- the list as parsed once (int_dossier_supplement_requests), numbered in request order
requests as (
    select dossiers.dossier_code, r.requested_at, r.received_back_at, r.request_number
    from dossiers
    cross join lateral unnest(dossiers.requested_at, dossiers.received_back_at)
        with ordinality as r(requested_at, received_back_at, request_number)
),

with_working_time as (
    select
        requests.*,
        {{ cumulative_working_seconds('received_back_at', 'back_day') }}
          - {{ cumulative_working_seconds('requested_at', 'request_day') }} as citizen_working_seconds
    from requests
    left join {{ ref('int_calendar_days') }} request_day on request_day.date_day = {{ local_date('requested_at') }}
    left join {{ ref('int_calendar_days') }} back_day on back_day.date_day = {{ local_date('received_back_at') }}
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
