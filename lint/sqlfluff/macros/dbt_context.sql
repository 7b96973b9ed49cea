{#- dbt context functions for sqlfluff's jinja templater only (never in dbt's macro-paths):
    var() gives dbt_project.yml's value (lint/sqlfluff/library/tthc_dbt_vars.py); env_var() its
    default, as nothing reads the environment when linting. -#}
{% macro var(name, default=none) %}{{ return(tthc_dbt_vars.value(name, default)) }}{% endmacro %}
{% macro env_var(name, default=none) %}{{ return(default if default is not none else '') }}{% endmacro %}
