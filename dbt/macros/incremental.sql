{#- After an incremental merge: drop dossiers that are no longer counted (now deleted as entered
    by mistake, refused, or gone from the source), so a rerun equals a full rebuild. -#}
{% macro delete_uncounted_dossiers(relation) -%}
    {%- if is_incremental() -%}
    delete from {{ relation }} f
    where not exists (select 1 from {{ ref('int_dossiers_timed') }} t where t.dossier_code = f.dossier_code)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
