{#- The incremental models' filter: rows loaded since the newest row this model holds, minus
    var incremental_lookback (loads that commit out of order; see dbt_project.yml). -#}
{% macro loaded_since_last_build(column='loaded_at') -%}
    {{ column }} > (select coalesce(max(loaded_at), '-infinity') from {{ this }})
                   - interval '{{ var("incremental_lookback") }}'
{%- endmacro %}

{#- A dossier the 766 rules count: received (not status 1, not refused at intake, 3) and not
    deleted as entered by mistake. -#}
{% macro is_counted_dossier(alias) -%}
    (not {{ alias }}.is_deleted and {{ alias }}.status not in (1, 3) and {{ alias }}.received_at is not null)
{%- endmacro %}

{#- After an incremental merge of a per-dossier model: drop the dossiers `counted` no longer
    has (now deleted as entered by mistake, or refused), so a rerun equals a full rebuild. -#}
{% macro delete_uncounted_dossiers(counted, condition='true') -%}
    {%- if is_incremental() -%}
    delete from {{ this }} f
    where not exists (select 1 from {{ counted }} c where c.dossier_code = f.dossier_code and {{ condition }})
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- Config of a stored staging model of a big entity: an incremental table merged on the raw
    key, so a night re-ranks only the keys with a new version (see macro latest_version);
    --full-refresh re-ranks all of raw. `business_key`, when the model's unique column is not
    the merge key itself (the record's id as parsed from the payload), gets a unique index too:
    the database then refuses a duplicate on every merge, and the nightly tests need only read
    the night's rows (macros/test_scope.sql). -#}
{% macro stored_latest_version(unique_key='record_key', business_key=none) -%}
    {%- set indexes = [{'columns': [unique_key], 'unique': true}, {'columns': ['loaded_at']}] -%}
    {%- if business_key -%}
        {%- do indexes.append({'columns': [business_key], 'unique': true}) -%}
    {%- endif -%}
    {{ config(
        materialized='incremental',
        unique_key=unique_key,
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=indexes
    ) }}
{%- endmacro %}

{#- Config of a per-dossier intermediate: merged on dossier_code when the dossier's latest
    version changed (filter with loaded_since_last_build on the dossier's loaded_at). -#}
{% macro merged_per_dossier(post_hook=[]) -%}
    {{ config(
        materialized='incremental',
        unique_key='dossier_code',
        incremental_strategy='merge',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['dossier_code'], 'unique': true}, {'columns': ['loaded_at']}],
        post_hook=post_hook
    ) }}
{%- endmacro %}
