{#- For every unit code, the chain of units that took it over (MaDonViKeNhiem), itself first
    (hops 0). A dossier of unit U counts on day D for the first unit in U's chain valid on D. -#}

with recursive units as (
    -- the units as dim_unit has them, from staging (core is built after this folder)
    select unit_code, successor_unit_code, coalesce(valid_from, date '1900-01-01') as valid_from, valid_to
    from {{ ref('stg_one_stop__units') }}
    where unit_code is not null
),

chain as (
    select unit_code, unit_code as successor_unit_code, successor_unit_code as next_code, 0 as hops,
           valid_from, valid_to
    from units

    union all

    select chain.unit_code, next_unit.unit_code, next_unit.successor_unit_code, chain.hops + 1,
           next_unit.valid_from, next_unit.valid_to
    from chain
    join units next_unit on next_unit.unit_code = chain.next_code
    where chain.hops < 20
)

select unit_code, successor_unit_code, hops, valid_from, valid_to
from chain
