{#- The day the marts treat as today: var as_of_date (a build by hand, unit tests), else env
    TTHC_AS_OF_DATE (the pipeline's, see run_setting), else today in Asia/Ho_Chi_Minh. -#}
{% macro as_of_date() -%}
    {%- set day = var('as_of_date', none) or run_setting('TTHC_AS_OF_DATE') -%}
    {%- if day -%}
        date '{{ day }}'
    {%- else -%}
        (now() at time zone '{{ var("timezone") }}')::date
    {%- endif -%}
{%- endmacro %}

{#- A setting of one run that changes from night to night (the as-of day, the tests' scope),
    from the environment and read only when executing: dbt re-parses the whole project when a
    var differs from its last run (seconds at every night's start), but not for an environment
    variable it never saw while parsing. Nothing at parse time may depend on it. -#}
{% macro run_setting(name, default='') -%}
    {{- return(env_var(name, default) if execute else default) -}}
{%- endmacro %}

{#- Local midnight of a date as timestamptz (period boundaries). -#}
{% macro local_midnight(date_expr) -%}
    (({{ date_expr }})::timestamp at time zone '{{ var("timezone") }}')
{%- endmacro %}

{% macro local_date(ts_expr) -%}
    (({{ ts_expr }}) at time zone '{{ var("timezone") }}')::date
{%- endmacro %}
