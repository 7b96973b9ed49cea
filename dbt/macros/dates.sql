{#- The day the marts treat as today: var as_of_date, else today in Asia/Ho_Chi_Minh. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', none) -%}
        date '{{ var("as_of_date") }}'
    {%- else -%}
        (now() at time zone '{{ var("timezone") }}')::date
    {%- endif -%}
{%- endmacro %}

{#- Local midnight of a date as timestamptz (period boundaries). -#}
{% macro local_midnight(date_expr) -%}
    (({{ date_expr }})::timestamp at time zone '{{ var("timezone") }}')
{%- endmacro %}

{% macro local_date(ts_expr) -%}
    (({{ ts_expr }}) at time zone '{{ var("timezone") }}')::date
{%- endmacro %}
