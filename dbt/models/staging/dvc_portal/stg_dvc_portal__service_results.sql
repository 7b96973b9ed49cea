{#- The portal's official 766 scores (POST service-results), one row per period, unit and item:
    a metric id (with numerator, denominator, ratio, score, maxScore), a group code (from
    groupScores) or 'TONG' (totalScore), for the root unit (overview) and each child. Latest
    version per request key. The raw table is created by the portal-scores loader on its first
    run; until then this model is empty, so the rest of the warehouse builds without it. -#}

{%- set raw = source('dvc_portal', 'dvc_portal__service_results') -%}
{%- set raw_exists = execute and adapter.get_relation(database=raw.database, schema=raw.schema,
                                                      identifier=raw.identifier) is not none %}

with source as (
    {% if raw_exists -%}
    {{ latest_version(raw) }}
    {%- else -%}
    select null::text as record_key, null::timestamptz as source_updated_at, null::jsonb as payload,
           null::text as payload_hash, null::bigint as batch_id, null::timestamptz as loaded_at
    where false
    {%- endif %}
),

requests as (
    select
        record_key,
        lower(payload -> 'request' ->> 'timeType')                         as time_type,
        (payload -> 'request' ->> 'year')::int                             as year_number,
        (payload -> 'request' ->> 'month')::int                            as month_number,
        (payload -> 'request' ->> 'quarter')::int                          as quarter_number,
        btrim(payload -> 'request' ->> 'rootDepartmentCode')               as root_unit_code,
        payload -> 'data'                                                  as data,
        source_updated_at,
        loaded_at
    from source
),

periods as (
    select
        requests.*,
        case time_type
            when 'month' then year_number::text || '-' || lpad(month_number::text, 2, '0')
            when 'quarter' then year_number::text || '-Q' || quarter_number::text
            else year_number::text
        end                                                                as period_key
    from requests
),

departments as (
    select periods.*, dept, false as is_root
    from periods, jsonb_array_elements(coalesce(periods.data -> 'children', '[]')) dept
    union all
    select periods.*, periods.data -> 'overview', true
    from periods
    where periods.data -> 'overview' is not null
),

items as (
    -- the total
    select departments.*, 'TONG'::text as item_code, 'TOTAL'::text as item_kind,
           (dept ->> 'totalScore')::numeric as portal_points, (dept ->> 'totalMaxScore')::numeric as portal_max_points,
           null::numeric as portal_numerator, null::numeric as portal_denominator, null::numeric as portal_rate
    from departments
    where dept ? 'totalScore'
    union all
    -- the groups
    select departments.*, g.key, 'GROUP', (g.value #>> '{}')::numeric, null, null, null, null
    from departments, jsonb_each(coalesce(dept -> 'groupScores', '{}')) g
    union all
    -- the metrics
    select departments.*, btrim(m ->> 'code'), 'METRIC', (m ->> 'score')::numeric, (m ->> 'maxScore')::numeric,
           (m ->> 'numerator')::numeric, (m ->> 'denominator')::numeric, (m ->> 'ratio')::numeric
    from departments, jsonb_array_elements(coalesce(dept -> 'metrics', '[]')) m
)

select
    -- ids
    record_key                                   as request_key,
    time_type                                    as period_type,
    period_key,
    root_unit_code,
    btrim(dept ->> 'departmentCode')             as unit_code,
    item_code,
    -- codes and flags
    item_kind,
    is_root,
    -- the portal's values
    portal_numerator,
    portal_denominator,
    portal_rate,
    portal_points,
    portal_max_points,
    -- lineage
    source_updated_at,
    loaded_at
from items
