{#- For every moment T and every unit code a dossier or a step may carry: the unit it counts for
    at T, the first unit in its successor chain (int_unit_successor_chains) valid on T's local
    date, itself if still valid (as int_period_unit_mappings does per period). A code whose chain
    has no unit valid that day has no row: the actions models keep the code as the source gives
    it, and no viewing unit valid at T holds it in its subtree. -#}

select distinct on (m.at_ts, chains.unit_code)
    m.at_ts,
    chains.unit_code,
    chains.successor_unit_code                                          as mapped_unit_code
from {{ ref('int_action_moments') }} m
join {{ ref('int_unit_successor_chains') }} chains
  on chains.valid_from <= m.at_date
 and (chains.valid_to is null or chains.valid_to >= m.at_date)
order by m.at_ts, chains.unit_code, chains.hops
