{#- Use the custom schema name as-is (staging, restricted, intermediate, core, marts), not
    dbt's default "<target schema>_<custom>", so every environment has the same layout. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
