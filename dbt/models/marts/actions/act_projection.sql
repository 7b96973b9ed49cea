{#- The month-end projection of 2.1 and of the total it moves (docs/acting-today.md, §11), per unit valid at
    T, pooled over its subtree as of T's local date, over the dossiers known at T in 2.1's scope
    (int_action_projection_dossiers: decided on time / late, safe, undecided). Arrivals after T
    are not projected.
      rate_2_1_min = (decided on time + safe) / all,  rate_2_1_max = (... + undecided) / all
    5.3 moves with 2.1's late share: its numerator is 2.1's projected numerator less the
    dossiers with a complaint known at T, floored at 0, over the same denominator. Points are the
    unit's 2.1 and 5.3 rules at T (int_action_metric_counts: level, empty and not-applicable
    rules included, so a unit with no dossiers gets 2.1's empty points and 5.3's 0 at both
    ends, and null rates). total_points_now is the sum of every metric's points at T; the
    total's range replaces 2.1 and 5.3 with their two ends. Note: §11 decides an open dossier
    with more than one supplement request late, where 2.1 at T (§6a) still counts it on time
    while its due time is ahead, so rate_2_1_max can be below today's rate. Unrounded. -#}

with moments as (
    select * from {{ ref('int_action_moments') }}
),

leaf as (
    select
        at_ts, unit_code,
        count(*)                                                          as dossiers_all,
        count(*) filter (where projection_class = 'decided_on_time')      as decided_on_time,
        count(*) filter (where projection_class = 'decided_late')         as decided_late,
        count(*) filter (where projection_class = 'safe')                 as safe,
        count(*) filter (where projection_class = 'undecided')            as undecided,
        count(*) filter (where is_complained)                             as complained
    from {{ ref('int_action_projection_dossiers') }}
    group by 1, 2
),

units as (
    select m.at_ts, m.unit_code, mo.at_date
    from {{ ref('int_action_metric_counts') }} m
    join moments mo on mo.at_ts = m.at_ts
    where m.metric_code = '2.1'
),

pooled as (
    select
        u.at_ts, u.unit_code,
        coalesce(sum(l.dossiers_all), 0)     as dossiers_all,
        coalesce(sum(l.decided_on_time), 0)  as decided_on_time,
        coalesce(sum(l.decided_late), 0)     as decided_late,
        coalesce(sum(l.safe), 0)             as safe,
        coalesce(sum(l.undecided), 0)        as undecided,
        coalesce(sum(l.complained), 0)       as complained
    from units u
    left join {{ ref('int_unit_closure') }} c
      on c.ancestor_unit_code = u.unit_code
     and c.valid_from <= u.at_date
     and (c.valid_to is null or c.valid_to >= u.at_date)
    left join leaf l on l.at_ts = u.at_ts and l.unit_code = c.descendant_unit_code
    group by 1, 2
),

totals as (
    select at_ts, unit_code, sum(points) as total_points_now
    from {{ ref('int_action_metric_counts') }}
    group by 1, 2
),

scored as (
    select
        p.*,
        m21.points                                                                   as points_2_1_now,
        m53.points                                                                   as points_5_3_now,
        t.total_points_now,
        {{ metric_rate('(p.decided_on_time + p.safe)::numeric', 'p.dossiers_all', "'2.1'") }}
                                                                                     as rate_2_1_min,
        {{ metric_rate('(p.decided_on_time + p.safe + p.undecided)::numeric', 'p.dossiers_all', "'2.1'") }}
                                                                                     as rate_2_1_max,
        {{ metric_points('(p.decided_on_time + p.safe)::numeric', 'p.dossiers_all', "'2.1'", 'm21.level_applies', 'm21.') }}
                                                                                     as points_2_1_min,
        {{ metric_points('(p.decided_on_time + p.safe + p.undecided)::numeric', 'p.dossiers_all', "'2.1'", 'm21.level_applies', 'm21.') }}
                                                                                     as points_2_1_max,
        {{ metric_points('greatest(p.decided_on_time + p.safe - p.complained, 0)::numeric', 'p.dossiers_all', "'5.3'", 'm53.level_applies', 'm53.') }}
                                                                                     as points_5_3_min,
        {{ metric_points('greatest(p.decided_on_time + p.safe + p.undecided - p.complained, 0)::numeric', 'p.dossiers_all', "'5.3'", 'm53.level_applies', 'm53.') }}
                                                                                     as points_5_3_max
    from pooled p
    join {{ ref('int_action_metric_counts') }} m21
      on m21.at_ts = p.at_ts and m21.unit_code = p.unit_code and m21.metric_code = '2.1'
    join {{ ref('int_action_metric_counts') }} m53
      on m53.at_ts = p.at_ts and m53.unit_code = p.unit_code and m53.metric_code = '5.3'
    join totals t on t.at_ts = p.at_ts and t.unit_code = p.unit_code
)

select
    at_ts::timestamptz                                                          as at_ts,
    unit_code::text                                                             as unit_code,
    dossiers_all::integer                                                       as dossiers_all,
    decided_on_time::integer                                                    as decided_on_time,
    decided_late::integer                                                       as decided_late,
    safe::integer                                                               as safe,
    undecided::integer                                                          as undecided,
    rate_2_1_min::numeric                                                       as rate_2_1_min,
    rate_2_1_max::numeric                                                       as rate_2_1_max,
    points_2_1_min::numeric                                                     as points_2_1_min,
    points_2_1_max::numeric                                                     as points_2_1_max,
    points_5_3_min::numeric                                                     as points_5_3_min,
    points_5_3_max::numeric                                                     as points_5_3_max,
    total_points_now::numeric                                                   as total_points_now,
    (total_points_now - points_2_1_now - points_5_3_now + points_2_1_min + points_5_3_min)::numeric
                                                                                as total_points_min,
    (total_points_now - points_2_1_now - points_5_3_now + points_2_1_max + points_5_3_max)::numeric
                                                                                as total_points_max
from scored
