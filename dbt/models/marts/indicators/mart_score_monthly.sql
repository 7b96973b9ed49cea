{#- Scores per period and unit: the six portal groups (sums of their metrics' unrounded
    points), the total (sum of the unrounded groups), the competition rank (1, 2, 2, 4) among
    units with the same parent and level, the rating band from var rating_bands (thresholds
    on the total rounded to 2 decimals, as people read it), and the older five-group view in
    which CLGQ and TTTT merge as DVCTT. -#}

with metrics as (
    select m.*, r.group5_code
    from {{ ref('mart_metric_monthly') }} m
    left join (select distinct metric_code, group_code, group5_code from {{ ref('metric_scoring_rules') }}) r
      using (metric_code, group_code)
),

summed as (
    select
        period_type, period_key, period_start, period_end,
        unit_code, unit_name, unit_level, parent_unit_code,
        {%- for g in ['CKMB', 'TDGQ', 'CLGQ', 'TTTT', 'MDHL', 'MDSH'] %}
        coalesce(sum(points) filter (where group_code = '{{ g }}'), 0)    as score_{{ g | lower }},
        {%- endfor %}
        coalesce(sum(points) filter (where group5_code = 'DVCTT'), 0)     as score5_dvctt,
        sum(points)                                                       as total_score,
        sum(max_points)                                                   as max_score
    from metrics
    group by 1, 2, 3, 4, 5, 6, 7, 8
)

select
    period_type::text                    as period_type,
    period_key::text                     as period_key,
    period_start::date                   as period_start,
    period_end::date                     as period_end,
    unit_code::text                      as unit_code,
    unit_name::text                      as unit_name,
    unit_level::text                     as unit_level,
    parent_unit_code::text               as parent_unit_code,
    score_ckmb::numeric                  as score_ckmb,
    score_tdgq::numeric                  as score_tdgq,
    score_clgq::numeric                  as score_clgq,
    score_tttt::numeric                  as score_tttt,
    score_mdhl::numeric                  as score_mdhl,
    score_mdsh::numeric                  as score_mdsh,
    total_score::numeric                 as total_score,
    max_score::numeric                   as max_score,
    (rank() over (partition by period_type, period_key, parent_unit_code, unit_level
                  order by total_score desc))::integer as rank_in_level,
    (case
        {%- for band in var('rating_bands', [[90, 'Tốt'], [80, 'Khá'], [50, 'Trung bình']]) %}
        when round(total_score, 2) >= {{ band[0] }} then '{{ band[1] }}'
        {%- endfor %}
        else '{{ var("rating_band_lowest", "Yếu") }}'
     end)::text                          as rating_band,
    score_ckmb::numeric                  as score5_ckmb,
    score_tdgq::numeric                  as score5_tdgq,
    score5_dvctt::numeric                as score5_dvctt,
    score_mdhl::numeric                  as score5_mdhl,
    score_mdsh::numeric                  as score5_mdsh
from summed
