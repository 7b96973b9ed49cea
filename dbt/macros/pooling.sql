{#- Pool per-unit rows over each reporting unit's subtree as of its period's last day.
    `units` (an alias) has period_type, period_key, unit_code, as_of_day; `leaf_relation`
    (joined as alias `leaf`) has period_type, period_key, unit_code. Emits the two joins; the
    caller sums and groups. One place for the rule "a parent's counts are the pooled counts of
    its whole subtree" (docs/spec/units.md, §2). -#}
{% macro join_subtree(units, leaf_relation, leaf) -%}
    join {{ ref('int_unit_closure') }} closure
      on closure.ancestor_unit_code = {{ units }}.unit_code
     and closure.valid_from <= {{ units }}.as_of_day
     and (closure.valid_to is null or closure.valid_to >= {{ units }}.as_of_day)
    join {{ leaf_relation }} {{ leaf }}
      on {{ leaf }}.period_type = {{ units }}.period_type and {{ leaf }}.period_key = {{ units }}.period_key
     and {{ leaf }}.unit_code = closure.descendant_unit_code
{%- endmacro %}

{#- Period membership by equality joins (a range join of every row with every period is a
    nested loop: rows x periods). `periods` must have period_start, period_end (dates) and
    start_month = the month of period_start. -#}

{#- The period types of int_metric_periods (its accepted_values test lists the same). -#}
{% macro metric_period_types() -%}
    {{- return(['month', 'quarter', 'year', 'report_month']) -}}
{%- endmacro %}

{#- One row per local day: the end (timestamptz) and the last day of the period of each type
    that contains it, end_ts_<type> and as_of_day_<type> (null where no period of that type
    covers the day), so a per-day aggregate can count, per type, what holds at that period's
    end before being joined to the periods. -#}
{% macro day_period_ends() -%}
    select date_day
        {%- for t in metric_period_types() %},
           max(end_ts) filter (where period_type = '{{ t }}')    as end_ts_{{ t }},
           max(as_of_day) filter (where period_type = '{{ t }}') as as_of_day_{{ t }}
        {%- endfor %}
    from {{ ref('int_metric_period_days') }}
    group by date_day
{%- endmacro %}

{#- The value of per-type column `<name>_<type>` for the row's period type (alias.period_type). -#}
{% macro column_for_period_type(alias, name, period_type_expr) -%}
    case {{ period_type_expr }}
        {%- for t in metric_period_types() %} when '{{ t }}' then {{ alias }}.{{ name }}_{{ t }}{% endfor %}
    end
{%- endmacro %}

{#- Each period once per calendar month it overlaps (bucket_month), for join_periods_containing. -#}
{% macro period_months(periods) -%}
    select p.*, bucket::date as bucket_month
    from {{ periods }} p
    cross join lateral generate_series(date_trunc('month', p.period_start::timestamp),
                                       date_trunc('month', (p.period_end - 1)::timestamp),
                                       interval '1 month') bucket
{%- endmacro %}

{#- The periods containing local day `day`: an equality join on its month, then the bounds. -#}
{% macro join_periods_containing(day, period_months, alias) -%}
    join {{ period_months }} {{ alias }}
      on {{ alias }}.bucket_month = date_trunc('month', ({{ day }})::timestamp)::date
     and {{ day }} >= {{ alias }}.period_start and {{ day }} < {{ alias }}.period_end
{%- endmacro %}

{#- `rows` (a relation, aliased r) joined with the rows of `marks` (mark_day, mark_month = its
    month) where after_day < mark_day <= through_day (columns of r; through_day null: no upper
    bound), e.g. the periods a dossier received on after_day and ended on through_day was still
    open at the start of. One generate_series of months per row, then an equality join on the
    mark's month. Emits the from and join clauses; the caller selects r.* and alias.* columns. -#}
{% macro join_marks_between(rows, after_day, through_day, marks, alias) -%}
    from (
        select r.*, months.month_start::date as mark_month_key
        from {{ rows }} r
        cross join lateral generate_series(
            date_trunc('month', (r.{{ after_day }} + 1)::timestamp),
            date_trunc('month', least(r.{{ through_day }}, (select max(mark_day) from {{ marks }}))::timestamp),
            interval '1 month') as months(month_start)
        offset 0  -- plan the expansion on its own, so the join to the marks is a hash join
    ) r
    join {{ marks }} {{ alias }}
      on {{ alias }}.mark_month = r.mark_month_key
     and {{ alias }}.mark_day > r.{{ after_day }}
     and (r.{{ through_day }} is null or {{ alias }}.mark_day <= r.{{ through_day }})
{%- endmacro %}
