{#- One row per unit valid at T (docs/acting-today.md, §11): how many rows each of today's lists holds for
    the unit's subtree (act_list_rows; n_qua_han_chua_xin_loi = overdue without an apology
    letter, which the unit owes), the month-end projection (act_projection), today's total and
    the points lost so far (the sum over the metrics of max - points, int_action_metric_counts).
    A unit with nothing on a list has 0 there. Appended to actions_history.unit_summary by each
    published refresh, so the counts and the projection can be charted over time. -#}

{%- set lists = ['sap_den_han', 'qua_han', 'buoc_qua_han', 'chua_tra_ket_qua', 'thieu_ket_qua_dien_tu',
                 'chua_dong_bo', 'thieu_ly_do'] %}

with list_counts as (
    select
        at_ts, unit_code,
        {%- for l in lists %}
        count(*) filter (where list_name = '{{ l }}')                                 as n_{{ l }},
        {%- endfor %}
        count(*) filter (where list_name = 'qua_han' and not has_apology_letter)      as n_qua_han_chua_xin_loi
    from {{ ref('act_list_rows') }}
    group by 1, 2
),

lost as (
    select at_ts, unit_code, sum(lost_points) as lost_points_total
    from {{ ref('int_action_metric_counts') }}
    group by 1, 2
)

select
    p.at_ts::timestamptz                                                  as at_ts,
    p.unit_code::text                                                     as unit_code,
    {%- for l in lists %}
    coalesce(c.n_{{ l }}, 0)::integer                                     as n_{{ l }},
    {%- if l == 'qua_han' %}
    coalesce(c.n_qua_han_chua_xin_loi, 0)::integer                        as n_qua_han_chua_xin_loi,
    {%- endif %}
    {%- endfor %}
    p.dossiers_all::integer                                               as dossiers_all,
    p.decided_on_time::integer                                            as decided_on_time,
    p.decided_late::integer                                               as decided_late,
    p.safe::integer                                                       as safe,
    p.undecided::integer                                                  as undecided,
    p.rate_2_1_min::numeric                                               as rate_2_1_min,
    p.rate_2_1_max::numeric                                               as rate_2_1_max,
    p.points_2_1_min::numeric                                             as points_2_1_min,
    p.points_2_1_max::numeric                                             as points_2_1_max,
    p.points_5_3_min::numeric                                             as points_5_3_min,
    p.points_5_3_max::numeric                                             as points_5_3_max,
    p.total_points_min::numeric                                           as total_points_min,
    p.total_points_max::numeric                                           as total_points_max,
    p.total_points_now::numeric                                           as total_points_now,
    l.lost_points_total::numeric                                          as lost_points_total
from {{ ref('act_projection') }} p
left join list_counts c on c.at_ts = p.at_ts and c.unit_code = p.unit_code
join lost l on l.at_ts = p.at_ts and l.unit_code = p.unit_code
