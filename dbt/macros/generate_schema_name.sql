{#- Use the custom schema name as-is (staging, restricted, intermediate, core, marts), not
    dbt's default "<target schema>_<custom>", so every environment has the same layout.
    The indicator marts go to var marts_schema (default marts): the pipeline builds them into a
    shadow schema (marts__next), gates them there, and swaps them in (tthc/pipeline/marts.py).
    The actions models ("act today", docs/acting-today.md (§11)) go to var actions_schema (default actions)
    the same way: built into actions__next, checked, swapped in (tthc/actions/). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts' -%}{{ var('marts_schema', 'marts') | trim }}
    {%- elif custom_schema_name | trim == 'actions' -%}{{ var('actions_schema', 'actions') | trim }}
    {%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
