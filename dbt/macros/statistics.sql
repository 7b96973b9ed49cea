{#- Planner statistics for a table the build just rewrote whole. A table dbt creates has none
    until autovacuum analyzes it (throttled: minutes later at 2 M dossiers), and the data tests
    and the quality gate that read it next would plan their joins from defaults (the full gate
    at 2 M: 25 s with statistics, 43.5 s with them deleted). Incremental merges of a night's
    rows leave the statistics representative, so they are not re-sampled: only full refreshes
    and plain tables are. -#}
{% macro analyze_when_rebuilt() -%}
    {%- set materialized = model.config.materialized -%}
    {%- if materialized == 'table' or (materialized == 'incremental' and flags.FULL_REFRESH) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
