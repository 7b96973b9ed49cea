{#- The change set: per build of the warehouse (build_id: dbt's invocation_id, built_at), the
    dossiers whose records it found loaded since the last build, per input (changed_by: the
    staging model that holds them). The models kept per dossier (macros/per_dossier_periods.sql,
    docs/decisions/009) replace the rows of the dossiers listed after the last build they read.

    "Loaded since the last build" is each input's loaded_at past the newest one this table holds
    for it minus var incremental_lookback (as every incremental model; loaded_at indexed). A
    first build or a full refresh records, per input, one row without a dossier: every dossier
    changed (the kept models then rebuild every row), its loaded_at the input's newest.
    Builds older than var change_set_retention are pruned, but each input's newest build stays
    (it holds the input's watermark). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    indexes=[{'columns': ['built_at']}, {'columns': ['changed_by', 'loaded_at']}],
    post_hook=["{{ prune_dossier_changes() }}"]
) }}
{%- set inputs = ['stg_one_stop__dossiers', 'stg_one_stop__process_steps',
                  'stg_dvc_portal__payments', 'stg_dvc_portal__sync_statuses'] %}

{% for name in inputs %}
{%- if not loop.first %}
union all
{% endif -%}
select
    '{{ invocation_id }}'::text as build_id,
    now()                       as built_at,
    '{{ name }}'::text          as changed_by,
    {%- if is_incremental() %}
    dossier_code,
    max(loaded_at)              as loaded_at
from {{ ref(name) }}
where dossier_code is not null
  and loaded_at > {{ timestamptz_literal("select coalesce(max(loaded_at), '-infinity') - interval '"
                                         ~ var('incremental_lookback') ~ "' from " ~ this
                                         ~ " where changed_by = '" ~ name ~ "'") }}
group by dossier_code
    {%- else %}
    null::text                  as dossier_code,
    max(loaded_at)              as loaded_at
from {{ ref(name) }}
    {%- endif %}
{% endfor %}
