{#- Planner statistics for a table the build just rewrote whole. A table dbt creates has none
    until autovacuum gets to it, and the data tests and the quality gate that read it next plan
    their joins blind (at 2 M dossiers the first gate after a full build took 182 s, 25 s once
    the tables had statistics). Incremental merges of a night's rows leave the statistics
    representative, so they are not re-sampled: only full refreshes and plain tables are. -#}
{% macro analyze_when_rebuilt() -%}
    {%- set materialized = model.config.materialized -%}
    {%- if materialized == 'table' or (materialized == 'incremental' and flags.FULL_REFRESH) -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
