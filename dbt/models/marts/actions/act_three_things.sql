{#- Each unit's three things to do now (docs/acting-today.md, §11): of the pairs (2.1, sap_den_han),
    (4.1, thieu_ket_qua_dien_tu), (4.2, thieu_ket_qua_dien_tu) and (1.4, chua_dong_bo), the three
    with the most points at stake, in the unit's own metric at T:
      (2.1, L1)  the points 2.1 would lose if every listed dossier turned late (each takes one
                 from the numerator, one after another)
      the others the points the metric would gain if every listed dossier were fixed (each adds
                 one to the numerator, one after another, so caps hold)
    The rows of (4.2, L5) are the L5 rows 4.2 counts (received in the period and digitized: macro
    l5_counts_in_4_2); row_count is the rows the pair moves. Ties: the lower metric id first.
    Pairs with no rows are left out, so a unit can have fewer than three; a pair with rows and
    nothing to gain (a metric already at its max or not applying) stays: its rows are still work. -#}

with list_counts as (
    select
        r.at_ts, r.unit_code,
        count(*) filter (where r.list_name = 'sap_den_han')                             as n_due_soon,
        count(*) filter (where r.list_name = 'thieu_ket_qua_dien_tu')                   as n_no_file,
        count(*) filter (where r.list_name = 'thieu_ket_qua_dien_tu' and {{ l5_counts_in_4_2('s') }})
                                                                                        as n_no_file_4_2,
        count(*) filter (where r.list_name = 'chua_dong_bo')                            as n_unsynced
    from {{ ref('act_list_rows') }} r
    left join {{ ref('int_action_dossier_states') }} s
      on r.list_name = 'thieu_ket_qua_dien_tu' and s.at_ts = r.at_ts and s.dossier_code = r.dossier_code
    where r.list_name in ('sap_den_han', 'thieu_ket_qua_dien_tu', 'chua_dong_bo')
    group by 1, 2
),

pairs as (
    select
        c.at_ts, c.unit_code, v.metric_code, v.list_name, v.row_count,
        case when v.metric_code = '2.1'
             then m.points - {{ action_metric_points_with('m.', 'greatest(m.numerator - v.row_count, 0)') }}
             else {{ action_metric_points_with('m.', 'least(m.numerator + v.row_count, m.denominator)') }} - m.points
        end                                                                             as points_at_stake
    from list_counts c
    cross join lateral (values
        ('2.1', 'sap_den_han', c.n_due_soon),
        ('4.1', 'thieu_ket_qua_dien_tu', c.n_no_file),
        ('4.2', 'thieu_ket_qua_dien_tu', c.n_no_file_4_2),
        ('1.4', 'chua_dong_bo', c.n_unsynced)
    ) as v(metric_code, list_name, row_count)
    join {{ ref('int_action_metric_counts') }} m
      on m.at_ts = c.at_ts and m.unit_code = c.unit_code and m.metric_code = v.metric_code
    where v.row_count > 0
),

ranked as (
    select
        pairs.*,
        -- compared at 12 decimals: numeric division leaves noise in the 20th (6 - 6 x 4/6 is
        -- 1.99999999999999999998), which must not break a tie §11 resolves by the metric id
        row_number() over (partition by at_ts, unit_code
                           order by round(points_at_stake, 12) desc,
                                    string_to_array(metric_code, '.')::int[]) as rank
    from pairs
)

select
    at_ts::timestamptz              as at_ts,
    unit_code::text                 as unit_code,
    rank::integer                   as rank,
    metric_code::text               as metric_code,
    list_name::text                 as list_name,
    points_at_stake::numeric        as points_at_stake,
    row_count::integer              as row_count
from ranked
where rank <= 3
