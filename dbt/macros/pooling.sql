{#- Pool per-unit rows over each reporting unit's subtree as of its period's last day.
    `units` (an alias) has period_type, period_key, unit_code, as_of_day; `leaf_relation`
    (joined as alias `leaf`) has period_type, period_key, unit_code. Emits the two joins; the
    caller sums and groups. One place for the rule "a parent's counts are the pooled counts of
    its whole subtree" (domain.md §2). -#}
{% macro join_subtree(units, leaf_relation, leaf) -%}
    join {{ ref('int_unit_closure') }} closure
      on closure.ancestor_unit_code = {{ units }}.unit_code
     and closure.valid_from <= {{ units }}.as_of_day
     and (closure.valid_to is null or closure.valid_to >= {{ units }}.as_of_day)
    join {{ leaf_relation }} {{ leaf }}
      on {{ leaf }}.period_type = {{ units }}.period_type and {{ leaf }}.period_key = {{ units }}.period_key
     and {{ leaf }}.unit_code = closure.descendant_unit_code
{%- endmacro %}
