{{ config(indexes=[{'columns': ['unit_code'], 'unique': true}]) }}
{#- One row per unit code with its validity range (valid_to inclusive, null = still valid),
    parent and successor. Codes retired by the July 2025 merger keep their rows, with
    successor_unit_code pointing at the unit that took them over. -#}

with units as (
    select * from {{ ref('stg_one_stop__units') }}
),

final as (
    select
        unit_code,
        unit_name,
        unit_level,
        parent_unit_code,
        successor_unit_code,
        national_portal_code,
        coalesce(valid_from, date '1900-01-01')         as valid_from,
        valid_to
    from units
    where unit_code is not null
)

select * from final
