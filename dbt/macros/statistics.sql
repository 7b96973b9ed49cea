{#- Planner statistics for a table the build just rewrote whole. A table dbt creates has none
    until autovacuum analyzes it (throttled: long after the build on a large warehouse), and the
    data tests and the quality gate that read it next would plan their joins from defaults.
    Incremental merges of a night's
    rows leave the statistics representative, so they are not re-sampled: only full refreshes
    and plain tables are. -#}
{% macro analyze_when_rebuilt() -%}
    {%- set materialized = model.config.materialized -%}
    {%- if materialized == 'table' or (materialized == 'incremental' and flags.FULL_REFRESH) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
