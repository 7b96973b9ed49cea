{{ config(indexes=[{'columns': ['ancestor_unit_code']}, {'columns': ['descendant_unit_code']}]) }}
{#- Ancestor/descendant pairs (self included, depth 0) with the date range in which the whole
    path is valid: pooling a unit's subtree on day D = descendants of rows valid on D.
    The path follows each unit's current parent link (the source keeps one per unit code). -#}

with recursive units as (
    -- the units as dim_unit has them, from staging (core is built after this folder)
    select unit_code, parent_unit_code, coalesce(valid_from, date '1900-01-01') as valid_from, valid_to
    from {{ ref('stg_one_stop__units') }}
    where unit_code is not null
),

walk as (
    select
        unit_code       as ancestor_unit_code,
        unit_code       as descendant_unit_code,
        parent_unit_code as next_parent_code,
        0               as depth,
        valid_from,
        valid_to
    from units

    union all

    select
        parent.unit_code,
        walk.descendant_unit_code,
        parent.parent_unit_code,
        walk.depth + 1,
        greatest(walk.valid_from, parent.valid_from),
        least(walk.valid_to, parent.valid_to)
    from walk
    join units parent on parent.unit_code = walk.next_parent_code
    where walk.depth < 20   -- guards against a cycle in bad source data
      and (parent.valid_to is null or parent.valid_to >= walk.valid_from)
      and (walk.valid_to is null or walk.valid_to >= parent.valid_from)
)

select ancestor_unit_code, descendant_unit_code, depth, valid_from, valid_to
from walk
