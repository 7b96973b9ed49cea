{#- The dossiers that decide the month (docs/acting-today.md, §11): open at T with T < due < period end, on
    time only if closed by their due time (int_action_projection_dossiers), once per viewing unit
    U whose subtree (as of T's local date) holds the dossier's unit, soonest due first (due_rank 1;
    ties by dossier_code). -#}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

undecided as (
    select p.*, m.at_date
    from {{ ref('int_action_projection_dossiers') }} p
    join moments m on m.at_ts = p.at_ts
    where p.projection_class = 'undecided'
),

pooled as (
    select u.at_ts, c.ancestor_unit_code as unit_code, u.dossier_code, u.unit_code as row_unit_code, u.due_at
    from undecided u
    join {{ ref('int_unit_closure') }} c
      on c.descendant_unit_code = u.unit_code
     and c.valid_from <= u.at_date
     and (c.valid_to is null or c.valid_to >= u.at_date)
)

select
    at_ts::timestamptz              as at_ts,
    unit_code::text                 as unit_code,
    dossier_code::text              as dossier_code,
    row_unit_code::text             as row_unit_code,
    due_at::timestamptz             as due_at,
    (row_number() over (partition by at_ts, unit_code order by due_at, dossier_code))::integer as due_rank
from pooled
